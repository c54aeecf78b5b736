// SafetensorsTests.swift — the checkpoint format: exact bytes, round trips, every malformed
// header refused naming the tensor, the network's save/load, and a seeded fuzz test (5,000 cases).

import Foundation
import Testing
@testable import Shared

/// A safetensors file from a literal header (no padding) and data buffer.
func rawSafetensors(_ header: String, _ data: [UInt8] = []) -> [UInt8] {
    let json = Array(header.utf8)
    return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + data
}

/// Little-endian bytes of Float values.
func f32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
}

/// Little-endian bytes of Double values.
func f64Bytes(_ values: [Double]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
}

@Suite("Safetensors")
struct SafetensorsTests {
    // MARK: The format

    @Test("encodes the exact bytes of the reference layout")
    func knownAnswer() throws {
        let bytes = Safetensors.encode([(name: "a", dtype: "F32", shape: [2], bytes: f32Bytes([1, -2]))],
                                       metadata: ["format": "pt"])
        let header = #"{"__metadata__":{"format":"pt"},"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}}"#
        #expect(header.utf8.count == 85)  // padded with 3 spaces to 88, a multiple of 8
        let expected = [88, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8) + [0x20, 0x20, 0x20]
            + [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]  // 1.0f and -2.0f, little-endian
        #expect(bytes == expected)
    }

    @Test("round trip: values bit-identical in F32 and F64, metadata kept")
    func roundTrip() throws {
        let floats: [Float] = [0, -0.0, 1.0 / 3, -1e-38, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                               .infinity, 123.456]
        let doubles: [Double] = [0, -0.0, 1.0 / 3, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.pi]
        let encoded = Safetensors.encode(
            [(name: "w", dtype: "F32", shape: [2, 4], bytes: f32Bytes(floats)),
             (name: "b", dtype: "F64", shape: [6], bytes: f64Bytes(doubles)),
             (name: "scalar", dtype: "F32", shape: [], bytes: f32Bytes([7])),
             (name: "empty", dtype: "F64", shape: [0, 3], bytes: [])],
            metadata: ["task": "classification", "note": "quote \" backslash \\ tab \t é"])
        let headerLength = encoded.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)

        let (tensors, metadata) = try Safetensors.decode(encoded, file: "rt.safetensors")
        #expect(metadata == ["task": "classification", "note": "quote \" backslash \\ tab \t é"])
        #expect(Set(tensors.keys) == ["w", "b", "scalar", "empty"])
        let w = try #require(tensors["w"])
        #expect(w.dtype == "F32" && w.shape == [2, 4])
        #expect(try w.scalars(as: Float.self).map(\.bitPattern) == floats.map(\.bitPattern))
        #expect(try w.scalars(as: Double.self) == floats.map(Double.init))
        let b = try #require(tensors["b"])
        #expect(b.dtype == "F64" && b.shape == [6])
        #expect(try b.scalars(as: Double.self).map(\.bitPattern) == doubles.map(\.bitPattern))
        #expect(try b.scalars(as: Float.self) == doubles.map(Float.init))
        #expect(try tensors["scalar"]?.scalars(as: Float.self) == [7])
        #expect(tensors["empty"]?.shape == [0, 3] && tensors["empty"]?.bytes == [])
        // Laid out in the given order: w at 0…32, b at 32…80.
        #expect(Array(encoded.suffix(80 + 4).prefix(32)) == f32Bytes(floats))
    }

    @Test("reads a reference-style header: other key order, no padding, holes allowed")
    func referenceStyle() throws {
        let data = f32Bytes([1, 2, 3]) + [0xEE, 0xEE, 0xEE, 0xEE] + f32Bytes([4])
        let file = rawSafetensors(
            #"{"y":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},"x":{"dtype":"F32","shape":[3,1],"data_offsets":[0,12]}}"#,
            data)
        let (tensors, metadata) = try Safetensors.decode(file, file: "ref")
        #expect(metadata.isEmpty)
        #expect(try tensors["x"]?.scalars(as: Float.self) == [1, 2, 3])
        #expect(tensors["x"]?.shape == [3, 1])
        #expect(try tensors["y"]?.scalars(as: Float.self) == [4])
    }

    @Test("refuses each malformed file, naming the tensor where there is one")
    func malformed() throws {
        let four = f32Bytes([1, 2, 3, 4])
        func entry(_ body: String) -> [UInt8] { rawSafetensors("{\"t\":\(body)}", four) }
        let cases: [(bytes: [UInt8], reason: String)] = [
            ([1, 2, 3], "file is 3 bytes, shorter than the 8-byte header length"),
            ([], "file is 0 bytes, shorter than the 8-byte header length"),
            ([100, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D],
             "header length 100 runs past the end of the file (2 bytes after the length)"),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7B, 0x7D],
             "header length 18446744073709551615 runs past the end of the file (2 bytes after the length)"),
            ([2, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0x28], "header is not valid UTF-8"),
            (rawSafetensors("{\"t\": "), "header is not valid JSON"),
            (rawSafetensors("[1, 2]"), "header is not a JSON object"),
            (rawSafetensors("\"text\""), "header is not a JSON object"),
            (entry("[1]"), "tensor t: entry is not an object"),
            (entry(#"{"shape":[4],"data_offsets":[0,16]}"#), "tensor t: missing dtype"),
            (entry(#"{"dtype":"F32","data_offsets":[0,16]}"#), "tensor t: missing shape"),
            (entry(#"{"dtype":"F32","shape":[4]}"#), "tensor t: missing data_offsets"),
            (entry(#"{"dtype":32,"shape":[4],"data_offsets":[0,16]}"#), "tensor t: dtype is not a string"),
            (entry(#"{"dtype":"F16","shape":[8],"data_offsets":[0,16]}"#),
             "tensor t: dtype F16 is not supported (only F32 and F64 are)"),
            (entry(#"{"dtype":"I64","shape":[2],"data_offsets":[0,16]}"#),
             "tensor t: dtype I64 is not supported (only F32 and F64 are)"),
            (entry(#"{"dtype":"float","shape":[4],"data_offsets":[0,16]}"#),
             "tensor t: unknown dtype \"float\" (only F32 and F64 are)"),
            (entry(#"{"dtype":"F32","shape":"4","data_offsets":[0,16]}"#), "tensor t: shape is not a list"),
            (entry(#"{"dtype":"F32","shape":[2,"2"],"data_offsets":[0,16]}"#),
             "tensor t: shape [2, \"2\"] is not a list of integers"),
            (entry(#"{"dtype":"F32","shape":[2.5],"data_offsets":[0,16]}"#),
             "tensor t: shape [2.5] is not a list of integers"),
            (entry(#"{"dtype":"F32","shape":[true],"data_offsets":[0,4]}"#),
             "tensor t: shape [true] is not a list of integers"),
            (entry(#"{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}"#), "tensor t: shape [-4] has a negative size"),
            (entry(#"{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,16]}"#),
             "tensor t: shape [18446744073709551616] is not a list of integers"),
            (entry(#"{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}"#),
             "tensor t: shape [4294967296, 4294967296] is too large"),
            (entry(#"{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,16]}"#),
             "tensor t: shape [2305843009213693952] is too large"),
            (entry(#"{"dtype":"F32","shape":[4],"data_offsets":[0]}"#),
             "tensor t: data_offsets is not a pair of integers [begin, end]"),
            (entry(#"{"dtype":"F32","shape":[4],"data_offsets":["0","16"]}"#),
             "tensor t: data_offsets is not a pair of integers [begin, end]"),
            (entry(#"{"dtype":"F32","shape":[4],"data_offsets":{"begin":0}}"#),
             "tensor t: data_offsets is not a pair of integers [begin, end]"),
            (entry(#"{"dtype":"F32","shape":[5],"data_offsets":[0,20]}"#),
             "tensor t: data_offsets [0, 20] are outside the data buffer of 16 bytes"),
            (entry(#"{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}"#),
             "tensor t: data_offsets [-4, 0] are outside the data buffer of 16 bytes"),
            (entry(#"{"dtype":"F32","shape":[0],"data_offsets":[12,8]}"#),
             "tensor t: data_offsets [12, 8] end before they begin"),
            (entry(#"{"dtype":"F32","shape":[3],"data_offsets":[0,16]}"#),
             "tensor t: data_offsets span 16 bytes, shape [3] of F32 needs 12"),
            (entry(#"{"dtype":"F64","shape":[4],"data_offsets":[0,16]}"#),
             "tensor t: data_offsets span 16 bytes, shape [4] of F64 needs 32"),
            (rawSafetensors(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#, four),
             "tensors a [0, 12) and b [8, 16) overlap"),
            (rawSafetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, four),
             "tensors a [4, 12) and b [4, 12) overlap"),
            (rawSafetensors(#"{"__metadata__":["pt"]}"#), "__metadata__ is not an object of strings"),
            (rawSafetensors(#"{"__metadata__":{"format":"pt","epoch":3}}"#),
             "__metadata__ value for \"epoch\" is not a string"),
        ]
        for (bytes, reason) in cases {
            let error = try #require(badCheckpoint { try Safetensors.decode(bytes, file: "ckpt.safetensors") },
                                     "expected a refusal: \(reason)")
            #expect(error.file == "ckpt.safetensors")
            #expect(error.reason == reason)
        }
    }

    @Test("scalars(as:) refuses dtypes and sizes decode never produces")
    func scalarsErrors() {
        let half = SafetensorsTensor(dtype: "F16", shape: [2], bytes: [0, 0, 0, 0])
        #expect(throws: NeuralLevelsError.failure("safetensors dtype F16 is not supported (F32 and F64 are)")) {
            try half.scalars(as: Float.self)
        }
        let short = SafetensorsTensor(dtype: "F32", shape: [2], bytes: [0, 0, 0])
        #expect(throws: NeuralLevelsError.self) { try short.scalars(as: Double.self) }
    }

    // MARK: The network's checkpoint

    static let smallShape = NetworkShape(task: .classification, inputSize: 6, hidden: [5, 4], outputSize: 3)

    static func smallParameters(seed: UInt64 = 7) -> NetworkParameters<Float> {
        var parameters = NetworkParameters<Float>.glorotNormal(shape: smallShape, seed: seed)
        parameters.fc1.bias = Matrix([[0.5, -0.25, 0, 1, 2]])
        parameters.fc3.bias = Matrix([[-1, 1e-7, 3]])
        return parameters
    }

    @Test("save then load returns the same parameters")
    func saveAndLoad() throws {
        let folder = try ScratchFolder()
        let path = folder.path("init.safetensors")
        let original = Self.smallParameters()
        try original.save(to: path)
        let loaded = try NetworkParameters<Float>.load(from: path, shape: Self.smallShape)
        #expect(loaded == original)
        #expect(loaded.fc1.bias.storage == [0.5, -0.25, 0, 1, 2])
        #expect(loaded.fc2.weight.shape == [4, 5])
        #expect(try folder.entries() == ["init.safetensors"])

        // The full-size network, 109,386 values, and its Double twin.
        let full = NetworkParameters<Float>.glorotNormal(shape: .standard(for: .classification), seed: 42)
        try full.save(to: path)
        let fullLoaded = try NetworkParameters<Float>.load(from: path, shape: .standard(for: .classification))
        #expect(fullLoaded == full)
        let asDouble = try NetworkParameters<Double>.load(from: path, shape: .standard(for: .classification))
        #expect(asDouble == full.converted(to: Double.self))

        let regression = NetworkParameters<Double>.glorotNormal(shape: .standard(for: .regression), seed: 3)
        try regression.save(to: path)
        #expect(try NetworkParameters<Double>.load(from: path, shape: .standard(for: .regression)) == regression)
        #expect(try NetworkParameters<Float>.load(from: path, shape: .standard(for: .regression))
                == regression.converted(to: Float.self))
    }

    @Test("the file is laid out as PyTorch's state_dict would be, with metadata")
    func layoutAndMetadata() throws {
        let parameters = NetworkParameters<Float>.glorotNormal(shape: .standard(for: .classification), seed: 1)
        let bytes = parameters.safetensorsBytes(extraMetadata: ["seed": "1", "task": "overridden?"])
        let (tensors, metadata) = try Safetensors.decode(bytes, file: "x")
        #expect(metadata == ["task": "classification", "sizes": "784,128,64,10",
                             "activations": "tanh,sigmoid,softmax", "format": "pt", "seed": "1"])
        #expect(tensors.mapValues(\.shape) == ["fc1.weight": [128, 784], "fc1.bias": [128],
                                              "fc2.weight": [64, 128], "fc2.bias": [64],
                                              "fc3.weight": [10, 64], "fc3.bias": [10]])
        #expect(tensors.values.allSatisfy { $0.dtype == "F32" })
        #expect(try tensors["fc1.weight"]?.scalars(as: Float.self) == parameters.fc1.weight.storage)
        // 109,386 F32 values after the header; fc1.weight first, right after the header.
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(headerLength % 8 == 0)
        #expect(bytes.count == 8 + headerLength + 109_386 * 4)
        #expect(Array(bytes[(8 + headerLength)..<(12 + headerLength)]) == f32Bytes([parameters.fc1.weight[0, 0]]))

        let regression = NetworkParameters<Double>.glorotNormal(shape: .standard(for: .regression), seed: 1)
        let (regressionTensors, regressionMetadata) = try Safetensors.decode(regression.safetensorsBytes(), file: "r")
        #expect(regressionMetadata["sizes"] == "3,64,32,1")
        #expect(regressionMetadata["activations"] == "tanh,sigmoid,linear")
        #expect(regressionTensors["fc3.bias"]?.dtype == "F64")
    }

    /// The small network's tensors as encode input, with `edit` applied.
    static func smallFile(
        metadata: [String: String] = ["task": "classification"],
        _ edit: (inout [(name: String, dtype: String, shape: [Int], bytes: [UInt8])]) -> Void = { _ in }
    ) -> [UInt8] {
        var tensors = smallParameters().namedTensors.map { name, matrix in
            (name: name, dtype: "F32",
             shape: name.hasSuffix("bias") ? [matrix.columns] : [matrix.rows, matrix.columns],
             bytes: f32Bytes(matrix.storage))
        }
        edit(&tensors)
        return Safetensors.encode(tensors, metadata: metadata)
    }

    @Test("refuses checkpoints that do not fit the network, naming the tensor")
    func wrongNetwork() throws {
        func refusal(_ bytes: [UInt8], shape: NetworkShape = SafetensorsTests.smallShape) -> String? {
            badCheckpoint { try NetworkParameters<Float>(safetensors: bytes, file: "c.safetensors", shape: shape) }?
                .reason
        }
        #expect(try NetworkParameters<Float>(safetensors: Self.smallFile(), file: "c", shape: Self.smallShape)
                == Self.smallParameters())

        #expect(refusal(Self.smallFile { $0.removeLast() }) == "missing tensor fc3.bias")
        #expect(refusal(Self.smallFile { $0.remove(at: 0) }) == "missing tensor fc1.weight")
        #expect(refusal(Self.smallFile { $0.append((name: "fc4.weight", dtype: "F32", shape: [1], bytes: f32Bytes([1]))) })
                == "unexpected tensor fc4.weight (the network has fc1.weight, fc1.bias, fc2.weight, fc2.bias, fc3.weight, fc3.bias)")
        #expect(refusal(Self.smallFile { $0[2] = (name: "fc2.weight", dtype: "F32", shape: [4, 3],
                                                    bytes: f32Bytes(Array(repeating: 0.5, count: 12))) })
                == "fc2.weight has shape [4, 3], the network expects [4, 5]")
        #expect(refusal(Self.smallFile { $0[1].shape = [1, 5] }) == "fc1.bias has shape [1, 5], the network expects [5]")
        // The same message on the full-size network: a checkpoint saved with --hidden 128,100.
        let full = NetworkParameters<Float>.glorotNormal(shape: .standard(for: .classification, hidden: [128, 100]),
                                                         seed: 1)
        #expect(refusal(full.safetensorsBytes(), shape: .standard(for: .classification))
                == "fc2.weight has shape [100, 128], the network expects [64, 128]")

        #expect(refusal(Self.smallFile { $0[3].bytes = f32Bytes([1, .nan, 2, 3]) })
                == "fc2.bias has a non-finite value (nan) at index 1")
        #expect(refusal(Self.smallFile { $0[4].bytes.replaceSubrange(0..<4, with: f32Bytes([-.infinity])) })
                == "fc3.weight has a non-finite value (-inf) at index 0")
        // An F64 value too large for Float becomes infinite: refused, naming the tensor.
        #expect(refusal(Self.smallFile { $0[5] = (name: "fc3.bias", dtype: "F64", shape: [3],
                                                    bytes: f64Bytes([1, 1e300, 2])) })
                == "fc3.bias has a non-finite value (inf) at index 1")
        #expect(refusal(Self.smallFile(metadata: ["task": "regression"]))
                == "checkpoint is for task \"regression\", the network is for classification")
        // No task in the metadata at all is accepted (e.g. a file written by PyTorch).
        #expect(try NetworkParameters<Float>(safetensors: Self.smallFile(metadata: [:]), file: "c",
                                             shape: Self.smallShape) == Self.smallParameters())
    }

    @Test("load: a missing file or a malformed one names the path")
    func loadErrors() throws {
        let folder = try ScratchFolder()
        let missing = folder.path("nope.safetensors")
        let error = try #require(badCheckpoint { try NetworkParameters<Float>.load(from: missing, shape: Self.smallShape) })
        #expect(error.file == missing && error.reason == "no such file")
        let garbage = try folder.write([1, 2, 3], to: "garbage.safetensors")
        let bad = try #require(badCheckpoint { try NetworkParameters<Float>.load(from: garbage, shape: Self.smallShape) })
        #expect(bad.file == garbage && bad.reason == "file is 3 bytes, shorter than the 8-byte header length")
        #expect(NeuralLevelsError.badCheckpoint(file: error.file, reason: error.reason).description
                == "error: checkpoint \(missing): no such file")
        #expect(NeuralLevelsError.badCheckpoint(file: "x", reason: "y").exitCode == 65)
    }

    // MARK: Fuzzing

    /// Fuzz cases per run: with IDXTests' and ReliabilityTests' more than 10,000 in all.
    static let fuzzCases = 5_000

    @Test("5,000 mutated safetensors files throw NeuralLevelsError or decode consistently")
    func fuzz() throws {
        var generator = SplitMix64(state: 0x5AFE_7E45)
        let valid = Self.smallFile()
        let headerLength = Int(valid[0]) | Int(valid[1]) << 8
        var outcomes = (decoded: 0, refused: 0, loaded: 0)

        for round in 0..<Self.fuzzCases {
            var bytes = valid
            switch generator.next() % 5 {
            case 0:  // truncate
                bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count + 1))))
            case 1:  // flip bytes anywhere
                for _ in 0...(generator.next() % 3) {
                    bytes[Int(generator.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
                }
            case 2:  // flip bytes inside the JSON header
                for _ in 0...(generator.next() % 3) {
                    bytes[8 + Int(generator.next() % UInt64(headerLength))] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
                }
            case 3:  // replace a digit of the header by a huge number or a sign
                let digits = (8..<(8 + headerLength)).filter { (48...57).contains(bytes[$0]) }
                let at = digits[Int(generator.next() % UInt64(digits.count))]
                let replacement: [UInt8] = [Array("-".utf8), Array("99999999999999999999".utf8),
                                            Array("4294967296".utf8), Array("1.5".utf8)][Int(generator.next() % 4)]
                bytes.replaceSubrange(at...at, with: replacement)
            default:  // a huge or random header length
                for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: generator.next()) }
                if generator.next() % 2 == 0 { bytes[1...7] = [0, 0, 0, 0, 0, 0, 0] }
            }

            do {
                let (tensors, _) = try Safetensors.decode(bytes, file: "fuzz")
                for tensor in tensors.values {
                    let size = try #require(Safetensors.supportedDTypes[tensor.dtype])
                    #expect(tensor.shape.allSatisfy { $0 >= 0 })
                    #expect(tensor.shape.reduce(1, *) * size == tensor.bytes.count)
                    #expect(try tensor.scalars(as: Double.self).count == tensor.shape.reduce(1, *))
                }
                outcomes.decoded += 1
                if let parameters = try? NetworkParameters<Float>(safetensors: bytes, file: "fuzz", shape: Self.smallShape) {
                    #expect(parameters.fc2.weight.shape == [4, 5])
                    #expect(parameters.layers.allSatisfy { $0.weight.storage.allSatisfy(\.isFinite) })
                    outcomes.loaded += 1
                }
            } catch let error as NeuralLevelsError {
                guard case let .badCheckpoint(file, reason) = error else {
                    Issue.record("round \(round): unexpected error \(error)")
                    continue
                }
                #expect(file == "fuzz" && !reason.isEmpty)
                outcomes.refused += 1
            }
        }
        #expect(outcomes.refused > Self.fuzzCases * 2 / 5)
        #expect(outcomes.loaded > Self.fuzzCases / 50)  // flipped data bytes leave a loadable (if different) file
    }
}
