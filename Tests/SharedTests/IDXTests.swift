// IDXTests.swift — the IDX format and the four (Fashion-)MNIST files: values, limits, every
// refusal with its message, the real data set, and a seeded fuzz test (6,000 cases).

import Foundation
import Testing
@testable import Shared

/// An IDX file of unsigned bytes: magic `00 00 08 ndim`, big-endian sizes, then `payload`.
func makeIDX(_ dimensions: [UInt32], _ payload: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
    for size in dimensions {
        bytes += [UInt8(size >> 24), UInt8((size >> 16) & 0xFF), UInt8((size >> 8) & 0xFF), UInt8(size & 0xFF)]
    }
    return bytes + payload
}

@Suite("IDX")
struct IDXTests {
    // MARK: Parsing

    @Test("parses dimensions and payload")
    func parse() throws {
        let payload: [UInt8] = [0, 1, 2, 3, 4, 255, 6, 7, 8, 9, 10, 11]
        let array = try IDX.parse(makeIDX([2, 3, 2], payload), file: "a")
        #expect(array.dimensions == [2, 3, 2])
        #expect(array.bytes == payload)

        let big = try IDX.parse(makeIDX([70_000], [UInt8](repeating: 5, count: 70_000)), file: "b")
        #expect(big.dimensions == [70_000])  // a size needing more than two header bytes
        #expect(big.bytes.count == 70_000 && big.bytes.allSatisfy { $0 == 5 })

        let empty = try IDX.parse(makeIDX([0, 28, 28], []), file: "c")
        #expect(empty.dimensions == [0, 28, 28] && empty.bytes.isEmpty)
    }

    @Test("reads plain and gzip files to the same array")
    func readPlainAndGzip() throws {
        let folder = try ScratchFolder()
        let file = makeIDX([3, 2], [10, 20, 30, 40, 50, 60])
        let plain = try folder.write(file, to: "labels")
        let gzipped = try folder.write(Gzip.compress(file), to: "labels.gz")
        let expected = IDXArray(dimensions: [3, 2], bytes: [10, 20, 30, 40, 50, 60])
        #expect(try IDX.read(path: plain) == expected)
        #expect(try IDX.read(path: gzipped) == expected)
    }

    @Test("refuses each malformed header with a reason naming the problem")
    func malformedHeaders() throws {
        let cases: [(bytes: [UInt8], reason: String)] = [
            ([0, 0, 8], "IDX header is 3 bytes, shorter than the 4-byte magic number"),
            ([], "IDX header is 0 bytes, shorter than the 4-byte magic number"),
            ([1, 0, 8, 1, 0, 0, 0, 0], "not an IDX file: magic number must start with 0x00 0x00, found 0x01 0x00"),
            ([0x50, 0x4B, 3, 4], "not an IDX file: magic number must start with 0x00 0x00, found 0x50 0x4B"),
            (makeIDX([2], [0, 0, 0, 0, 0, 0, 0, 0], type: 0x0D),
             "IDX type 0x0D (32-bit float) is not supported; only 0x08 (unsigned byte) is"),
            (makeIDX([2], [0, 0], type: 0x09), "IDX type 0x09 (signed byte) is not supported; only 0x08 (unsigned byte) is"),
            (makeIDX([2], [0, 0, 0, 0], type: 0x0B), "IDX type 0x0B (16-bit integer) is not supported; only 0x08 (unsigned byte) is"),
            (makeIDX([2], [], type: 0x0C), "IDX type 0x0C (32-bit integer) is not supported; only 0x08 (unsigned byte) is"),
            (makeIDX([2], [], type: 0x0E), "IDX type 0x0E (64-bit float) is not supported; only 0x08 (unsigned byte) is"),
            (makeIDX([2], [], type: 0x07), "unknown IDX type code 0x07; only 0x08 (unsigned byte) is supported"),
            ([0, 0, 8, 0], "IDX header declares 0 dimensions; 1 to 4 are supported"),
            (makeIDX([1, 1, 1, 1, 1], [7]), "IDX header declares 5 dimensions; 1 to 4 are supported"),
            ([0, 0, 8, 3, 0, 0, 0, 1, 0, 0], "IDX header needs 16 bytes for 3 dimensions, file has 10"),
            (makeIDX([2, 5], Array(repeating: 1, count: 9)), "header claims 10 bytes of data (2 × 5), file has 9"),
            (makeIDX([2, 5], Array(repeating: 1, count: 11)), "header claims 10 bytes of data (2 × 5), file has 11"),
            (makeIDX([60000, 28, 28], []), "header claims 47040000 bytes of data (60000 × 28 × 28), file has 0"),
            (makeIDX([UInt32.max, UInt32.max, UInt32.max], [1, 2, 3]),
             "header claims 4294967295 × 4294967295 × 4294967295 values, more than can be addressed; file has 3 bytes of data"),
        ]
        for (bytes, reason) in cases {
            let error = try #require(badData { try IDX.parse(bytes, file: "data/file-idx") })
            #expect(error.file == "data/file-idx")
            #expect(error.reason == reason)
        }
    }

    @Test("a header claiming 2³² × 2³² bytes is refused without overflow")
    func overflowingDimensions() throws {
        let bytes = makeIDX([UInt32.max, UInt32.max], [])
        let error = try #require(badData { try IDX.parse(bytes, file: "huge") })
        #expect(error.reason.contains("more than can be addressed"))
        let fourDims = makeIDX([65_536, 65_536, 65_536, 65_536], [0])
        #expect(badData { try IDX.parse(fourDims, file: "huge") }?.reason.contains("more than can be addressed") == true)
    }

    @Test("read: a missing file, a folder, a bad gzip stream")
    func readErrors() throws {
        let folder = try ScratchFolder()
        let missing = folder.path("nope")
        #expect(badData { try IDX.read(path: missing) }.map { [$0.file, $0.reason] } == [missing, "no such file"])
        #expect(badData { try IDX.read(path: folder.url.path) }?.reason == "is a folder, not a file")
        let cut = try folder.write(Array(Gzip.compress(makeIDX([100], Array(repeating: 3, count: 100))).prefix(15)),
                                   to: "cut.gz")
        #expect(badData { try IDX.read(path: cut) }.map { [$0.file, $0.reason] } == [cut, "gzip stream is truncated"])
    }

    // MARK: The four MNIST files

    /// Writes a tiny MNIST-format data set: train 5 images of 2×3, test 3 images; `gzip` chooses
    /// per file whether it is written as `name.gz`.
    static func writeFixture(in folder: ScratchFolder, gzip: Set<String> = [],
                             trainImages: [UInt8]? = nil, trainLabels: [UInt8]? = nil,
                             testImages: [UInt8]? = nil, testLabels: [UInt8]? = nil) throws {
        let files: [(String, [UInt8])] = [
            (MNISTFiles.trainImages, trainImages ?? makeIDX([5, 2, 3], trainPixels)),
            (MNISTFiles.trainLabels, trainLabels ?? makeIDX([5], [9, 0, 3, 7, 1])),
            (MNISTFiles.testImages, testImages ?? makeIDX([3, 2, 3], Array(200..<218))),
            (MNISTFiles.testLabels, testLabels ?? makeIDX([3], [2, 2, 8])),
        ]
        for (name, bytes) in files {
            if gzip.contains(name) {
                try folder.write(Gzip.compress(bytes), to: name + ".gz")
            } else {
                try folder.write(bytes, to: name)
            }
        }
    }

    static let trainPixels: [UInt8] = [0, 255, 128, 1, 2, 3] + Array(10..<34)

    @Test("loads pixels as byte / 255 and labels as classes", arguments: [false, true])
    func loadFixture(gzipped: Bool) throws {
        let folder = try ScratchFolder()
        try Self.writeFixture(in: folder, gzip: gzipped ? Set(MNISTFiles.names) : [])
        let (train, test) = try MNISTFiles.load(directory: folder.url.path, expectedFeatures: 6)

        #expect(train.task == .classification && train.classCount == 10)
        #expect(train.inputs.shape == [5, 6])
        #expect(train.inputs[0, 0] == 0)
        #expect(train.inputs[0, 1] == 1.0)
        #expect(train.inputs[0, 2] == Float(128) / 255)
        #expect(train.inputs[0, 2] == 0.5019608)
        #expect(train.inputs[4, 5] == Float(33) / 255)
        #expect(train.inputs.storage == Self.trainPixels.map { Float($0) / 255 })
        #expect(train.labels == [9, 0, 3, 7, 1])

        #expect(test.inputs.shape == [3, 6])
        #expect(test.inputs[2, 5] == Float(217) / 255)
        #expect(test.labels == [2, 2, 8])
    }

    @Test("mixed plain and .gz files; the plain file wins when both exist")
    func lookupOrder() throws {
        let folder = try ScratchFolder()
        try Self.writeFixture(in: folder, gzip: [MNISTFiles.trainImages, MNISTFiles.testLabels])
        // A different labels file as .gz beside the plain one: the plain one is used.
        try folder.write(Gzip.compress(makeIDX([5], [1, 1, 1, 1, 1])), to: MNISTFiles.trainLabels + ".gz")
        let (train, test) = try MNISTFiles.load(directory: folder.url.path + "/", expectedFeatures: nil)
        #expect(train.labels == [9, 0, 3, 7, 1])
        #expect(train.inputs[0, 1] == 1)
        #expect(test.labels == [2, 2, 8])
        #expect(try MNISTFiles.locate(MNISTFiles.trainImages, in: folder.url.path)
                == folder.path(MNISTFiles.trainImages + ".gz"))
    }

    @Test("limits keep the first N samples and decode only those")
    func limits() throws {
        let folder = try ScratchFolder()
        // Label 12 at index 3 is past the limit, so it is never decoded and not an error.
        try Self.writeFixture(in: folder, trainLabels: makeIDX([5], [9, 0, 3, 12, 1]))
        let (train, test) = try MNISTFiles.load(directory: folder.url.path, trainLimit: 3, testLimit: 0,
                                                expectedFeatures: 6)
        #expect(train.count == 3 && train.labels == [9, 0, 3])
        #expect(train.inputs.storage == Self.trainPixels.prefix(18).map { Float($0) / 255 })
        #expect(test.count == 0 && test.inputs.shape == [0, 6] && test.labels.isEmpty)

        let (all, _) = try MNISTFiles.load(directory: folder.url.path, trainLimit: 2, testLimit: 100,
                                           expectedFeatures: 6)
        #expect(all.count == 2)
        let (_, fullTest) = try MNISTFiles.load(directory: folder.url.path, trainLimit: -4, testLimit: 100,
                                                expectedFeatures: 6)
        #expect(fullTest.count == 3)
    }

    @Test("refuses bad folders and files, naming the file and the problem")
    func loadErrors() throws {
        let folder = try ScratchFolder()
        let dir = folder.url.path

        let noFolder = dir + "/missing"
        #expect(badData { try MNISTFiles.load(directory: noFolder) }.map { [$0.file, $0.reason] }
                == [noFolder, "no such data folder (set --data or NEURAL_LEVELS_DATA)"])
        try Self.writeFixture(in: folder)
        let aFile = folder.path(MNISTFiles.trainLabels)
        #expect(badData { try MNISTFiles.load(directory: aFile) }?.reason
                == "is a file, not a data folder (--data names the folder of the four IDX files)")

        try FileManager.default.removeItem(atPath: folder.path(MNISTFiles.testLabels))
        let missing = try #require(badData { try MNISTFiles.load(directory: dir, expectedFeatures: 6) })
        #expect(missing.file == folder.path(MNISTFiles.testLabels))
        #expect(missing.reason == "no such file (looked for t10k-labels-idx1-ubyte and t10k-labels-idx1-ubyte.gz)")

        func failure(_ files: (inout [String: [UInt8]]) -> Void, expectedFeatures: Int? = 6)
            throws -> (file: String, reason: String)?
        {
            let scratch = try ScratchFolder()
            var contents: [String: [UInt8]] = [:]
            files(&contents)
            try Self.writeFixture(in: scratch, trainImages: contents["ti"], trainLabels: contents["tl"],
                                  testImages: contents["si"], testLabels: contents["sl"])
            return badData { try MNISTFiles.load(directory: scratch.url.path, expectedFeatures: expectedFeatures) }
                .map { (($0.file as NSString).lastPathComponent, $0.reason) }
        }

        let twoD = try failure { $0["ti"] = makeIDX([5, 6], Array(repeating: 0, count: 30)) }
        #expect(twoD?.file == MNISTFiles.trainImages)
        #expect(twoD?.reason == "images must be 3-D [N, rows, cols], found 2-D [5, 6]")

        // A labels file where the images go: named as such, not as a payload of the wrong length.
        let swapped = try failure { $0["ti"] = makeIDX([300], Array(repeating: 1, count: 235_208)) }
        #expect(swapped?.file == MNISTFiles.trainImages)
        #expect(swapped?.reason == "images must be 3-D [N, rows, cols], found 1-D [300] (a labels file?)")

        let labels2D = try failure { $0["sl"] = makeIDX([3, 1], [1, 2, 3]) }
        #expect(labels2D?.file == MNISTFiles.testLabels)
        #expect(labels2D?.reason == "labels must be 1-D [N], found 2-D [3, 1]")

        let counts = try failure { $0["tl"] = makeIDX([4], [1, 2, 3, 4]) }
        #expect(counts?.file == MNISTFiles.trainLabels)
        #expect(counts?.reason.hasPrefix("has 4 labels but ") == true)
        #expect(counts?.reason.hasSuffix("/\(MNISTFiles.trainImages) has 5 images") == true)

        let badLabel = try failure { $0["sl"] = makeIDX([3], [2, 10, 255]) }
        #expect(badLabel?.file == MNISTFiles.testLabels)
        #expect(badLabel?.reason == "label 10 at index 1 is not a class 0…9")

        let size = try failure({ _ in }, expectedFeatures: 784)
        #expect(size?.file == MNISTFiles.trainImages)
        #expect(size?.reason == "images are 2×3 = 6 features, the network expects 784")

        let cifarLike = try failure({ $0["ti"] = makeIDX([5, 32, 32], Array(repeating: 0, count: 5 * 1024)) },
                                    expectedFeatures: 784)
        #expect(cifarLike?.reason == "images are 32×32 = 1024 features, the network expects 784")

        // With no expected size, the test images must still match the training images.
        let splitMismatch = try failure({ $0["si"] = makeIDX([3, 3, 3], Array(repeating: 0, count: 27)) },
                                        expectedFeatures: nil)
        #expect(splitMismatch?.file == MNISTFiles.testImages)
        #expect(splitMismatch?.reason == "images are 3×3 = 9 features, the training images have 6")

        let corrupt = try failure { $0["tl"] = makeIDX([5], [1, 2, 3, 4]) }
        #expect(corrupt?.reason == "header claims 5 bytes of data (5), file has 4")
    }

    @Test("the data folder: --data, else NEURAL_LEVELS_DATA, else the default")
    func resolveDirectory() {
        #expect(MNISTFiles.resolveDirectory("/opt/mnist", environment: ["NEURAL_LEVELS_DATA": "/env"]) == "/opt/mnist")
        #expect(MNISTFiles.resolveDirectory(nil, environment: ["NEURAL_LEVELS_DATA": "/env"]) == "/env")
        #expect(MNISTFiles.resolveDirectory(nil, environment: ["NEURAL_LEVELS_DATA": ""])
                == "/usr/share/datasets/fashion-mnist")
        #expect(MNISTFiles.resolveDirectory(nil, environment: [:]) == MNISTFiles.defaultDirectory)
    }

    // MARK: The real data set (installed in CI; this test must run)

    @Test("Fashion-MNIST loads: 60,000 + 10,000 samples of 784 pixels, 10 balanced classes")
    func fashionMNIST() throws {
        let start = Date()
        let (train, test) = try MNISTFiles.load(directory: MNISTFiles.defaultDirectory)
        let seconds = Date().timeIntervalSince(start)
        print("Fashion-MNIST loaded in \(String(format: "%.3f", seconds)) s")

        #expect(train.count == 60_000 && test.count == 10_000)
        #expect(train.featureCount == 784 && test.featureCount == 784)
        #expect(train.inputs.shape == [60_000, 784] && train.labels.count == 60_000)
        #expect(train.classCount == 10 && test.classCount == 10)
        // Every class 0…9 appears exactly 6,000 times in training and 1,000 times in test.
        for (set, each) in [(train, 6_000), (test, 1_000)] {
            var counts = [Int](repeating: 0, count: 10)
            for label in set.labels { counts[Int(label)] += 1 }
            #expect(counts == Array(repeating: each, count: 10))
        }
        // The first training and test images are both ankle boots (class 9); the second training
        // image is a T-shirt/top (0), the second test image a pullover (2).
        #expect(Array(train.labels.prefix(2)) == [9, 0])
        #expect(Array(test.labels.prefix(2)) == [9, 2])
        // Pixels are bytes / 255: in [0, 1], each a multiple of 1/255, with both ends present.
        let firstImage = train.inputs.storage.prefix(784)
        #expect(firstImage.min() == 0 && firstImage.max() == 1)
        #expect(train.inputs.storage.allSatisfy { (0...1).contains($0) })
        #expect(firstImage.allSatisfy { ($0 * 255).rounded() / 255 == $0 })
        let mean = train.inputs.storage.reduce(0.0) { $0 + Double($1) } / Double(train.inputs.count)
        #expect(abs(mean - 0.2860) < 0.0005)  // Fashion-MNIST's well-known training mean
    }

    // MARK: Fuzzing

    /// Fuzz cases per run: with SafetensorsTests' and ReliabilityTests' more than 10,000 in all.
    static let fuzzCases = 6_000

    @Test("6,000 mutated IDX files (plain and gzip) throw NeuralLevelsError or parse consistently")
    func fuzz() throws {
        var generator = SplitMix64(state: 0x1D_F00D)
        let valid = makeIDX([4, 3, 5], (0..<60).map { UInt8($0 * 4) })
        let validGzip = Gzip.compress(valid)
        var outcomes = (parsed: 0, refused: 0)

        for round in 0..<Self.fuzzCases {
            var bytes = round % 2 == 0 ? valid : validGzip
            let mutation = Int(generator.next() % 5)
            switch mutation {
            case 0:  // truncate
                bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count + 1))))
            case 1:  // flip one to four bytes
                for _ in 0...(generator.next() % 4) {
                    bytes[Int(generator.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
                }
            case 2:  // huge or random dimensions (header bytes 4…15 in the plain file)
                let at = 4 + Int(generator.next() % 12)
                if round % 2 == 0 { bytes[at] = 0xFF } else { bytes[Int(generator.next() % 10)] ^= 0xFF }
            case 3:  // random rank and type
                if round % 2 == 0 {
                    bytes[3] = UInt8(generator.next() % 7)
                    if generator.next() % 2 == 0 { bytes[2] = UInt8(truncatingIfNeeded: generator.next()) }
                } else {
                    bytes += (0..<Int(generator.next() % 20)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                }
            default:  // append or drop bytes at the end
                if generator.next() % 2 == 0 { bytes.append(UInt8(truncatingIfNeeded: generator.next())) }
                else if !bytes.isEmpty { bytes.removeLast() }
            }

            do {
                let plain = Gzip.isCompressed(bytes)
                    ? try Gzip.decompress(bytes, file: "fuzz", maximumSize: 1 << 20) : bytes
                let array = try IDX.parse(plain, file: "fuzz")
                #expect((1...4).contains(array.dimensions.count))
                #expect(array.dimensions.reduce(1, *) == array.bytes.count)
                #expect(plain.count == 4 + 4 * array.dimensions.count + array.bytes.count)
                outcomes.parsed += 1
            } catch let error as NeuralLevelsError {
                guard case let .badData(file, reason) = error else {
                    Issue.record("round \(round): unexpected error \(error)")
                    continue
                }
                #expect(file == "fuzz" && !reason.isEmpty)
                outcomes.refused += 1
            }
        }
        #expect(outcomes.refused > Self.fuzzCases / 2)  // most mutations break something …
        #expect(outcomes.parsed > Self.fuzzCases / 50)  // … but some (a flipped pixel) leave a valid file
    }
}
