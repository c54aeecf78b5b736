// Safetensors.swift — checkpoints in the safetensors format, readable by PyTorch and NumPy.
//
// Teaches: a checkpoint is names, shapes and raw numbers. A safetensors file is an 8-byte
// little-endian header length N, N bytes of JSON saying where each tensor lives
//
//     {"__metadata__": {"task": "classification", …},
//      "fc1.bias": {"data_offsets": [401408, 401920], "dtype": "F32", "shape": [128]}, …}
//
// and then one buffer of little-endian values (offsets are relative to its start). Unlike a
// pickle, reading one runs no code, and every claim of the header can be checked before a byte of
// data is trusted: that is most of this file. `NetworkParameters` saves itself with the names and
// layout of a PyTorch module with attributes `fc1`, `fc2`, `fc3` (`safetensors.torch.save_file`).
// Leaves out: dtypes other than F32/F64 (F16, BF16, integers are refused by name), memory
// mapping, and the reference implementation's alignment sort of tensors by dtype.

import Foundation

/// One tensor as stored in a safetensors file: its dtype, its shape, and its raw bytes.
public struct SafetensorsTensor: Equatable, Sendable {
    /// `"F32"` or `"F64"` (the only dtypes ``Safetensors/decode(_:file:)`` accepts).
    public var dtype: String
    /// Sizes, outermost first; `[]` is a scalar.
    public var shape: [Int]
    /// The values, row-major, little-endian: `shape.reduce(1, *) · dtypeSize` bytes.
    public var bytes: [UInt8]

    public init(dtype: String, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// The values converted to `S` (F32 and F64 both convert to `Float` or `Double`; F64 → F32
    /// rounds to nearest).
    ///
    /// - Throws: ``NeuralLevelsError/failure(_:)`` for a dtype other than F32/F64, or bytes that
    ///   do not match the shape (neither can come out of ``Safetensors/decode(_:file:)``).
    public func scalars<S: NeuralScalar>(as _: S.Type) throws -> [S] {
        guard let size = Safetensors.supportedDTypes[dtype] else {
            throw NeuralLevelsError.failure("safetensors dtype \(dtype) is not supported (F32 and F64 are)")
        }
        let (count, overflow) = Safetensors.product(shape)
        guard !overflow, count.multipliedReportingOverflow(by: size) == (bytes.count, false) else {
            throw NeuralLevelsError.failure(
                "safetensors tensor of shape \(shape) and dtype \(dtype) cannot hold \(bytes.count) bytes")
        }
        return bytes.withUnsafeBytes { raw -> [S] in
            if size == 4 {
                return (0..<count).map { S(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(
                    fromByteOffset: 4 * $0, as: UInt32.self)))) }
            }
            return (0..<count).map { S(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(
                fromByteOffset: 8 * $0, as: UInt64.self)))) }
        }
    }
}

/// Encoding and decoding whole safetensors files in memory.
public enum Safetensors {
    /// Bytes per element of the dtypes this file reads.
    public static let supportedDTypes: [String: Int] = ["F32": 4, "F64": 8]

    /// dtypes of the format that are recognised but refused, so the error can say so.
    static let knownUnsupportedDTypes: Set<String> = [
        "BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F16", "BF16",
        "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64",
    ]

    /// The key of the string-to-string metadata map in the header.
    public static let metadataKey = "__metadata__"

    /// Encodes tensors and metadata as a safetensors file.
    ///
    /// The header is JSON with keys sorted (`__metadata__` first), no spaces, padded with spaces
    /// to a multiple of 8 bytes as the reference implementation does, so that the data buffer
    /// starts 8-byte aligned. Tensors are laid out in the buffer in the order given.
    ///
    /// - Parameters:
    ///   - tensors: name, dtype (e.g. `"F32"`), shape and raw little-endian bytes of each tensor;
    ///     names must be distinct and not `__metadata__`.
    ///   - metadata: free-form strings stored under `__metadata__` (omitted when empty).
    public static func encode(
        _ tensors: [(name: String, dtype: String, shape: [Int], bytes: [UInt8])], metadata: [String: String]
    ) -> [UInt8] {
        var file = encodedHeader(tensors.map { ($0.name, $0.dtype, $0.shape, $0.bytes.count) }, metadata: metadata)
        file.reserveCapacity(file.count + tensors.reduce(0) { $0 + $1.bytes.count })
        for tensor in tensors { file.append(contentsOf: tensor.bytes) }
        return file
    }

    /// The start of ``encode(_:metadata:)``'s file: the header's length (8 bytes) and the header,
    /// for tensors of `byteCount` bytes each, laid out in the order given. Their bytes follow, in
    /// that order: a file too large to build in memory can be written in pieces.
    public static func encodedHeader(
        _ tensors: [(name: String, dtype: String, shape: [Int], byteCount: Int)], metadata: [String: String]
    ) -> [UInt8] {
        precondition(Set(tensors.map(\.name)).count == tensors.count, "safetensors: duplicate tensor names")
        precondition(!tensors.contains { $0.name == metadataKey }, "safetensors: \(metadataKey) is reserved")

        var entries: [(key: String, json: String)] = []
        if !metadata.isEmpty {
            let fields = metadata.sorted { jsonKeyOrder($0.key, $1.key) }
                .map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            entries.append((metadataKey, "{" + fields.joined(separator: ",") + "}"))
        }
        var offset = 0
        for tensor in tensors {
            if let size = supportedDTypes[tensor.dtype] {
                precondition(product(tensor.shape) == (tensor.byteCount / size, false) && tensor.byteCount % size == 0,
                             "safetensors: \(tensor.name) has \(tensor.byteCount) bytes for shape \(tensor.shape)")
            }
            let end = offset + tensor.byteCount
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append((tensor.name, "{\"data_offsets\":[\(offset),\(end)],\"dtype\":\(jsonString(tensor.dtype)),"
                                + "\"shape\":[\(shape)]}"))
            offset = end
        }
        entries.sort { jsonKeyOrder($0.key, $1.key) }
        var header = Array(("{" + entries.map { "\(jsonString($0.key)):\($0.json)" }.joined(separator: ",") + "}").utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var start: [UInt8] = []
        start.reserveCapacity(8 + header.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { start.append(contentsOf: $0) }
        start.append(contentsOf: header)
        return start
    }

    /// Decodes a safetensors file held in memory, checking every claim of its header.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - file: its name, for error messages.
    /// - Returns: the tensors by name (F32 or F64) and the `__metadata__` strings.
    /// - Throws: ``NeuralLevelsError/badCheckpoint(file:reason:)``, naming the tensor where there
    ///   is one, when the file is shorter than 8 bytes; the header length runs past the end; the
    ///   header is not UTF-8 JSON or not an object; an entry lacks `dtype`, `shape` or
    ///   `data_offsets` or has them of the wrong type; a dtype is not F32/F64; a shape is negative
    ///   or too large; offsets are out of bounds, reversed, or do not span `product(shape) ·
    ///   dtypeSize` bytes; two tensors overlap; or a metadata value is not a string.
    public static func decode(_ bytes: [UInt8], file: String) throws
        -> (tensors: [String: SafetensorsTensor], metadata: [String: String])
    {
        func bad(_ reason: String) -> NeuralLevelsError { .badCheckpoint(file: file, reason: reason) }
        guard bytes.count >= 8 else {
            throw bad("file is \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        var declared: UInt64 = 0
        for i in 0..<8 { declared |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard declared <= UInt64(bytes.count - 8) else {
            throw bad("header length \(declared) runs past the end of the file (\(bytes.count - 8) bytes after the length)")
        }
        let headerEnd = 8 + Int(declared)
        let headerBytes = bytes[8..<headerEnd]
        guard let headerText = String(bytes: headerBytes, encoding: .utf8) else {
            throw bad("header is not valid UTF-8")
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(headerText.utf8), options: [.fragmentsAllowed])
        } catch {
            throw bad("header is not valid JSON")
        }
        guard let header = parsed as? [String: Any] else {
            throw bad("header is not a JSON object")
        }

        var metadata: [String: String] = [:]
        if let rawMetadata = header[metadataKey] {
            guard let object = rawMetadata as? [String: Any] else {
                throw bad("\(metadataKey) is not an object of strings")
            }
            for (key, value) in object {
                guard let text = value as? String else {
                    throw bad("\(metadataKey) value for \"\(key)\" is not a string")
                }
                metadata[key] = text
            }
        }

        let bufferSize = bytes.count - headerEnd
        var tensors: [String: SafetensorsTensor] = [:]
        var spans: [(name: String, begin: Int, end: Int)] = []
        for name in header.keys.sorted() where name != metadataKey {
            guard let entry = header[name] as? [String: Any] else {
                throw bad("tensor \(name): entry is not an object")
            }
            guard let rawDType = entry["dtype"] else { throw bad("tensor \(name): missing dtype") }
            guard let dtype = rawDType as? String else { throw bad("tensor \(name): dtype is not a string") }
            guard let dtypeSize = supportedDTypes[dtype] else {
                let kind = knownUnsupportedDTypes.contains(dtype) ? "dtype \(dtype) is not supported"
                    : "unknown dtype \"\(dtype)\""
                throw bad("tensor \(name): \(kind) (only F32 and F64 are)")
            }
            guard let rawShape = entry["shape"] else { throw bad("tensor \(name): missing shape") }
            guard let shapeList = rawShape as? [Any] else { throw bad("tensor \(name): shape is not a list") }
            var shape: [Int] = []
            for value in shapeList {
                guard let size = jsonInteger(value) else {
                    throw bad("tensor \(name): shape \(describe(shapeList)) is not a list of integers")
                }
                guard size >= 0 else { throw bad("tensor \(name): shape \(describe(shapeList)) has a negative size") }
                shape.append(size)
            }
            let (elementCount, shapeOverflow) = product(shape)
            let (byteCount, bytesOverflow) = elementCount.multipliedReportingOverflow(by: dtypeSize)
            guard !shapeOverflow, !bytesOverflow else { throw bad("tensor \(name): shape \(shape) is too large") }

            guard let rawOffsets = entry["data_offsets"] else { throw bad("tensor \(name): missing data_offsets") }
            guard let offsetList = rawOffsets as? [Any], offsetList.count == 2,
                  let begin = jsonInteger(offsetList[0]), let end = jsonInteger(offsetList[1])
            else {
                throw bad("tensor \(name): data_offsets is not a pair of integers [begin, end]")
            }
            guard begin >= 0, end >= 0, begin <= bufferSize, end <= bufferSize else {
                throw bad("tensor \(name): data_offsets [\(begin), \(end)] are outside the data buffer of \(bufferSize) bytes")
            }
            guard begin <= end else { throw bad("tensor \(name): data_offsets [\(begin), \(end)] end before they begin") }
            guard end - begin == byteCount else {
                throw bad("tensor \(name): data_offsets span \(end - begin) bytes, shape \(shape) of \(dtype) needs \(byteCount)")
            }
            spans.append((name, begin, end))
            tensors[name] = SafetensorsTensor(
                dtype: dtype, shape: shape, bytes: Array(bytes[(headerEnd + begin)..<(headerEnd + end)]))
        }

        // Overlap: sorted by where they start, each tensor must end before the next begins.
        spans.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (previous, next) in zip(spans, spans.dropFirst()) where next.begin < previous.end {
            throw bad("tensors \(previous.name) [\(previous.begin), \(previous.end)) and "
                      + "\(next.name) [\(next.begin), \(next.end)) overlap")
        }
        return (tensors, metadata)
    }

    // MARK: Helpers

    /// The product of `sizes`, and whether it overflowed.
    static func product(_ sizes: [Int]) -> (Int, Bool) {
        var total = 1
        for size in sizes {
            let (next, overflow) = total.multipliedReportingOverflow(by: size)
            if overflow { return (next, true) }
            total = next
        }
        return (total, false)
    }

    /// A JSON number that is exactly an integer (not a Bool, not 1.5, not out of `Int`'s range).
    static func jsonInteger(_ value: Any) -> Int? {
        // JSONSerialization gives NSNumbers, and `1 as? Bool` succeeds on them; JSON `true` and
        // `false` are the ones whose Objective-C type is "c" (char), on Linux and Darwin alike.
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        if let integer = value as? Int { return integer }
        if let double = value as? Double, double.rounded() == double, let integer = Int(exactly: double) {
            return integer
        }
        return nil
    }

    /// A JSON list as it appeared, for error messages: `[2, "2", true]`.
    static func describe(_ values: [Any]) -> String {
        "[" + values.map { value -> String in
            if let text = value as? String { return jsonString(text) }
            if let number = value as? NSNumber, String(cString: number.objCType) == "c" {
                return number.boolValue ? "true" : "false"
            }
            if value is NSNull { return "null" }
            if let number = value as? NSNumber { return "\(number)" }
            return value is [Any] ? "[…]" : "{…}"
        }.joined(separator: ", ") + "]"
    }

    /// Key order of the header: by UTF-8 bytes (so `__metadata__` sorts before `fc1.bias`).
    static func jsonKeyOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let digits = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

// MARK: - The network's checkpoint

extension NetworkParameters {
    /// The tensor names of a checkpoint, in file order.
    public static var checkpointTensorNames: [String] {
        ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    }

    /// The parameters of a network of `shape`, in file order, with their shapes in memory:
    /// weights `[out, in]`, biases `[1, out]` (stored as `[out]`: ``Safetensors/storedShape(of:named:)``).
    public static func checkpointParameters(for shape: NetworkShape) -> [(name: String, shape: [Int])] {
        let s = shape.sizes
        return [("fc1.weight", [s[1], s[0]]), ("fc1.bias", [1, s[1]]),
                ("fc2.weight", [s[2], s[1]]), ("fc2.bias", [1, s[2]]),
                ("fc3.weight", [s[3], s[2]]), ("fc3.bias", [1, s[3]])]
    }

    /// The parameters as a safetensors file, as `safetensors.torch.save_file(model.state_dict())`
    /// would write them for a module with attributes `fc1`, `fc2`, `fc3`.
    ///
    /// Weights are `[out, in]`; biases are 1-D `[out]` (PyTorch's layout; in memory they are
    /// `[1, out]`). The dtype is `Scalar.safetensorsDType`. Metadata: `task`, `sizes`
    /// (`"784,128,64,10"`), `activations` (`"tanh,sigmoid,softmax"`) and `format` `"pt"`;
    /// `extraMetadata` adds keys (it cannot replace these four).
    public func safetensorsBytes(extraMetadata: [String: String] = [:]) -> [UInt8] {
        var metadata = extraMetadata
        metadata["task"] = shape.task.rawValue
        metadata["sizes"] = shape.sizes.map(String.init).joined(separator: ",")
        metadata["activations"] = shape.activations.joined(separator: ",")
        metadata["format"] = "pt"
        let tensors = namedTensors.map { name, matrix in
            (name: name, dtype: Scalar.safetensorsDType, shape: Safetensors.storedShape(of: matrix.shape, named: name),
             bytes: Safetensors.littleEndianBytes(matrix.storage))
        }
        return Safetensors.encode(tensors, metadata: metadata)
    }

    /// Writes the parameters as a safetensors file (atomically; see ``AtomicFile``).
    public func save(to path: String) throws {
        try AtomicFile.write(safetensorsBytes(), to: path)
    }

    /// Reads parameters saved by ``save(to:)`` (or by PyTorch, with the same names) for a network
    /// of `shape` (see ``Safetensors/readCheckpoint(at:parameterCount:owner:)``).
    ///
    /// - Throws: ``NeuralLevelsError/badCheckpoint(file:reason:)`` for a missing or too large
    ///   file, a malformed file (see ``Safetensors/decode(_:file:)``), or one that does not fit
    ///   the network (see ``init(safetensors:file:shape:)``).
    public static func load(from path: String, shape: NetworkShape) throws -> NetworkParameters {
        let bytes = try Safetensors.readCheckpoint(at: path, parameterCount: shape.parameterCount,
                                                   owner: "this network")
        return try NetworkParameters(safetensors: bytes, file: path, shape: shape)
    }

    /// Parameters from a safetensors file held in memory.
    ///
    /// All six tensors must be present, with no others; each must have the shape the network
    /// expects (`"fc2.weight has shape [64, 100], the network expects [64, 128]"`) and only finite
    /// values (see ``Safetensors/matrices(from:for:file:owner:)``). F32 and F64 files are both
    /// accepted and converted to `Scalar`. When the metadata records a `task`, it must be
    /// `shape.task`.
    public init(safetensors bytes: [UInt8], file: String, shape: NetworkShape) throws {
        func bad(_ reason: String) -> NeuralLevelsError { .badCheckpoint(file: file, reason: reason) }
        let (tensors, metadata) = try Safetensors.decode(bytes, file: file)
        if let task = metadata["task"], task != shape.task.rawValue {
            throw bad("checkpoint is for task \"\(task)\", the network is for \(shape.task.rawValue)")
        }
        let matrices: [String: Matrix<Scalar>] = try Safetensors.matrices(
            from: tensors, for: Self.checkpointParameters(for: shape), file: file, owner: "the network")
        func layer(_ prefix: String) throws -> LinearParameters<Scalar> {
            guard let weight = matrices[prefix + ".weight"], let bias = matrices[prefix + ".bias"] else {
                throw bad("missing tensor \(prefix)")
            }
            return LinearParameters(weight: weight, bias: bias)
        }
        self.init(shape: shape, fc1: try layer("fc1"), fc2: try layer("fc2"), fc3: try layer("fc3"))
    }
}

// MARK: - Any model's checkpoint: matrices by name

extension Safetensors {
    /// The most header bytes a checkpoint may have (tensor names, shapes, offsets and metadata):
    /// 1 MiB, far above what this project or PyTorch writes (under 1 KB).
    public static var maximumHeaderBytes: Int { 1 << 20 }

    /// The bytes of the checkpoint at `path` for a model of `parameterCount` parameters: a
    /// regular file of at most its parameters in F64, the 8-byte length and a 1 MiB header. A
    /// larger file is not a checkpoint of this model, and is refused by its size before anything
    /// is read.
    ///
    /// - Throws: ``NeuralLevelsError/badCheckpoint(file:reason:)`` naming `path`: no such file,
    ///   not a regular file, or `"is 900.0 MiB, larger than the 1.0 MiB a checkpoint of this
    ///   network can take"` (`owner` is `"this network"` there).
    public static func readCheckpoint(at path: String, parameterCount: Int, owner: String) throws -> [UInt8] {
        let (parameterBytes, overflow) = parameterCount.multipliedReportingOverflow(by: 8)
        let maximumSize = overflow ? Int.max : parameterBytes + 8 + maximumHeaderBytes
        do {
            return try FileBytes.read(path: path, maximumSize: maximumSize, limitName: "a checkpoint of \(owner) can take")
        } catch {
            throw NeuralLevelsError.badCheckpoint(file: path, reason: error.reason)
        }
    }

    /// The shape a parameter of `shape` is stored with: a bias `[1, n]` as `[n]`, as PyTorch
    /// stores biases; anything else as it is.
    public static func storedShape(of shape: [Int], named name: String) -> [Int] {
        name.hasSuffix("bias") && shape.count == 2 && shape[0] == 1 ? [shape[1]] : shape
    }

    /// The matrices of `parameters` (names, and shapes `[rows, columns]` in memory) from a
    /// file's tensors.
    ///
    /// Every parameter needs the tensor of its name, and no other tensor may be there. A
    /// tensor's shape must be the parameter's stored shape (``storedShape(of:named:)``: `[n]`
    /// for a bias `[1, n]`), and its values must be finite. F32 and F64 both convert to `S`.
    ///
    /// - Throws: ``NeuralLevelsError/badCheckpoint(file:reason:)`` naming `file` and the first
    ///   problem, looked for in this order: `"missing tensor fc2.bias"`, `"unexpected tensor
    ///   fc4.weight (the network has fc1.weight, …)"`, `"fc2.weight has shape [64, 100], the
    ///   network expects [64, 128]"`, `"fc1.bias has a non-finite value (nan) at index 3"`
    ///   (`owner` is `"the network"` there).
    public static func matrices<S: NeuralScalar>(
        from tensors: [String: SafetensorsTensor], for parameters: [(name: String, shape: [Int])],
        file: String, owner: String
    ) throws -> [String: Matrix<S>] {
        func bad(_ reason: String) -> NeuralLevelsError { .badCheckpoint(file: file, reason: reason) }
        for (name, _) in parameters where tensors[name] == nil {
            throw bad("missing tensor \(name)")
        }
        let names = parameters.map(\.name)
        if let extra = tensors.keys.sorted().first(where: { !names.contains($0) }) {
            throw bad("unexpected tensor \(extra) (\(owner) has \(names.joined(separator: ", ")))")
        }
        var matrices: [String: Matrix<S>] = [:]
        for (name, shape) in parameters {
            guard let tensor = tensors[name], shape.count == 2 else { continue }   // present: checked above
            let stored = storedShape(of: shape, named: name)
            guard tensor.shape == stored else {
                throw bad("\(name) has shape \(tensor.shape), \(owner) expects \(stored)")
            }
            let values: [S]
            do {
                values = try tensor.scalars(as: S.self)
            } catch {
                throw bad("\(name): cannot read its values")
            }
            if let index = values.firstIndex(where: { !$0.isFinite }) {
                throw bad("\(name) has a non-finite value (\(values[index])) at index \(index)")
            }
            matrices[name] = Matrix(rows: shape[0], columns: shape[1], storage: values)
        }
        return matrices
    }
}

extension Safetensors {
    /// `values` as little-endian bytes in their own width (4 bytes for Float, 8 for Double).
    static func littleEndianBytes<S: NeuralScalar>(_ values: [S]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * MemoryLayout<S>.size)
        if S.safetensorsDType == "F32" {
            for value in values {
                withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            }
        } else {
            for value in values {
                withUnsafeBytes(of: Double(value).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            }
        }
        return bytes
    }
}
