// IDX.swift — the MNIST file format, and the four files of (Fashion-)MNIST.
//
// Teaches: what `torchvision.datasets.MNIST` and `keras.datasets.fashion_mnist` open underneath.
// An IDX file is a 4-byte magic number (`00 00`, a type code, the number of dimensions), one
// big-endian 32-bit size per dimension, then the values row-major. Images are `[N, 28, 28]`
// unsigned bytes, labels `[N]`. Loading them is: gunzip, check the header against the payload,
// scale pixels to [0, 1] (`x / 255`), keep labels as class indices.
// Leaves out: the IDX types other than unsigned bytes (signed bytes, shorts, ints, floats and
// doubles are refused by name; MNIST never uses them), and downloading the files.

import Foundation
import Dispatch

/// The contents of one IDX file: its dimensions and its raw unsigned-byte payload, row-major.
public struct IDXArray: Equatable, Sendable {
    /// The sizes from the header, outermost first: `[60000, 28, 28]` for training images.
    public var dimensions: [Int]
    /// The values, `dimensions.reduce(1, *)` of them.
    public var bytes: [UInt8]

    public init(dimensions: [Int], bytes: [UInt8]) {
        self.dimensions = dimensions
        self.bytes = bytes
    }
}

/// Reading IDX files.
public enum IDX {
    /// The IDX type codes and what they hold; only `0x08` is read here.
    static let typeNames: [UInt8: String] = [
        0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "16-bit integer",
        0x0C: "32-bit integer", 0x0D: "32-bit float", 0x0E: "64-bit float",
    ]

    /// Parses an (uncompressed) IDX file held in memory.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - file: its name, for error messages.
    /// - Throws: ``NeuralLevelsError/badData(file:reason:)`` when the header is short, the magic
    ///   number is wrong, the type is not unsigned bytes, there are 0 or more than 4 dimensions,
    ///   or the dimensions do not account for the payload exactly.
    public static func parse(_ bytes: [UInt8], file: String) throws -> IDXArray {
        let contents = try parseContents(bytes, file: file)
        return IDXArray(dimensions: contents.dimensions, bytes: Array(bytes[contents.offset...]))
    }

    /// Reads and parses the IDX file at `path`, gunzipping it first if it starts with the gzip
    /// magic number (whatever its name).
    ///
    /// - Throws: ``NeuralLevelsError/badData(file:reason:)``: `"no such file"`, an unreadable
    ///   file, a bad gzip stream (see ``Gzip/decompress(_:file:maximumSize:)``), or a bad header
    ///   (see ``parse(_:file:)``).
    public static func read(path: String) throws -> IDXArray {
        let contents = try readContents(path: path)
        return IDXArray(dimensions: contents.dimensions, bytes: Array(contents.file[contents.offset...]))
    }

    /// A checked IDX file without copying its payload: the values are `file[offset...]`.
    struct Contents {
        var dimensions: [Int]
        var file: [UInt8]
        var offset: Int
    }

    /// ``read(path:)`` without the copy of the payload (47 MB for the training images).
    static func readContents(path: String) throws -> Contents {
        let raw: [UInt8]
        do {
            raw = try FileBytes.read(path: path)
        } catch {
            throw NeuralLevelsError.badData(file: path, reason: error.reason)
        }
        let bytes = Gzip.isCompressed(raw) ? try Gzip.decompress(raw, file: path) : raw
        return try parseContents(bytes, file: path)
    }

    /// Checks the header of `bytes` against its payload (see ``parse(_:file:)``).
    static func parseContents(_ bytes: [UInt8], file: String) throws -> Contents {
        let header = try parseHeader(bytes, file: file)
        try checkPayload(header, received: bytes.count - header.size, file: file)
        return Contents(dimensions: header.dimensions, file: bytes, offset: header.size)
    }

    /// A checked header: the dimensions, the header's own size, and the payload size they
    /// declare (nil when that product overflows an Int).
    struct Header {
        var dimensions: [Int]
        var size: Int
        var payloadSize: Int?
    }

    /// Checks the magic number, type and dimensions at the start of `bytes` (at least the whole
    /// header; the payload may follow or not). Throws the messages of ``parse(_:file:)``.
    static func parseHeader(_ bytes: [UInt8], file: String) throws -> Header {
        func bad(_ reason: String) -> NeuralLevelsError { .badData(file: file, reason: reason) }
        guard bytes.count >= 4 else {
            throw bad("IDX header is \(bytes.count) bytes, shorter than the 4-byte magic number")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw bad("not an IDX file: magic number must start with 0x00 0x00, found "
                      + "\(hex(bytes[0])) \(hex(bytes[1]))")
        }
        let type = bytes[2]
        guard type == 0x08 else {
            if let name = typeNames[type] {
                throw bad("IDX type \(hex(type)) (\(name)) is not supported; only 0x08 (unsigned byte) is")
            }
            throw bad("unknown IDX type code \(hex(type)); only 0x08 (unsigned byte) is supported")
        }
        let rank = Int(bytes[3])
        guard (1...4).contains(rank) else {
            throw bad("IDX header declares \(rank) dimensions; 1 to 4 are supported")
        }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw bad("IDX header needs \(headerSize) bytes for \(rank) dimensions, file has \(bytes.count)")
        }

        // Sizes are big-endian u32, so each fits an Int; their product may not (2³² × 2³²).
        var dimensions: [Int] = []
        var total = 1
        var overflow = false
        for d in 0..<rank {
            let at = 4 + 4 * d
            let size = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8
                | Int(bytes[at + 3])
            dimensions.append(size)
            if !overflow {
                let (product, didOverflow) = total.multipliedReportingOverflow(by: size)
                total = product
                overflow = didOverflow
            }
        }
        return Header(dimensions: dimensions, size: headerSize, payloadSize: overflow ? nil : total)
    }

    /// Checks that the payload after `header` is exactly `received` bytes.
    static func checkPayload(_ header: Header, received payload: Int, file: String) throws {
        let shape = header.dimensions.map(String.init).joined(separator: " × ")
        guard let total = header.payloadSize else {
            throw NeuralLevelsError.badData(
                file: file, reason: "header claims \(shape) values, more than can be addressed; file has \(payload) bytes of data")
        }
        guard total == payload else {
            throw NeuralLevelsError.badData(
                file: file, reason: "header claims \(total) bytes of data (\(shape)), file has \(payload)")
        }
    }

    static func hex(_ byte: UInt8) -> String {
        "0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
    }
}

/// The four files of MNIST and Fashion-MNIST, and how they become ``Dataset``s.
public enum MNISTFiles {
    /// Training images, `[60000, 28, 28]`.
    public static let trainImages = "train-images-idx3-ubyte"
    /// Training labels, `[60000]`.
    public static let trainLabels = "train-labels-idx1-ubyte"
    /// Test images, `[10000, 28, 28]`.
    public static let testImages = "t10k-images-idx3-ubyte"
    /// Test labels, `[10000]`.
    public static let testLabels = "t10k-labels-idx1-ubyte"
    /// All four names, each looked up as-is first, then with `.gz`.
    public static let names = [trainImages, trainLabels, testImages, testLabels]

    /// Where Fashion-MNIST is installed when neither `--data` nor `NEURAL_LEVELS_DATA` says.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// Number of classes (the labels are 0…9).
    public static let classCount = 10

    /// The data folder: `option` (`--data`) if given, else `NEURAL_LEVELS_DATA` if set and
    /// non-empty, else ``defaultDirectory``.
    public static func resolveDirectory(
        _ option: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let option { return option }
        if let fromEnvironment = environment["NEURAL_LEVELS_DATA"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return defaultDirectory
    }

    /// The path of file `name` in `directory`: `name` if it exists, else `name.gz` if that does.
    ///
    /// - Throws: ``NeuralLevelsError/badData(file:reason:)`` naming both paths looked for.
    public static func locate(_ name: String, in directory: String) throws -> String {
        let base = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        let manager = FileManager.default
        if manager.fileExists(atPath: base) { return base }
        if manager.fileExists(atPath: base + ".gz") { return base + ".gz" }
        throw NeuralLevelsError.badData(file: base, reason: "no such file (looked for \(name) and \(name).gz)")
    }

    /// Loads the training and test sets from the four IDX files in `directory`.
    ///
    /// Pixels are kept as bytes, `[N, rows·cols]`, and become `Float(byte) / 255` as each batch is
    /// gathered (``Dataset/StoredInputs/pixels(_:rows:columns:)``); labels become `Int32` class
    /// indices; `classCount` is 10. The limits (`--train-limit`, `--test-limit`) apply before
    /// anything is kept, so only the samples used are decoded and checked.
    ///
    /// - Parameters:
    ///   - directory: the data folder (see ``resolveDirectory(_:environment:)``).
    ///   - trainLimit: keep only the first N training samples (nil: all).
    ///   - testLimit: keep only the first N test samples (nil: all).
    ///   - expectedFeatures: the network's input size; images of another size are refused
    ///     (nil: accept any size, as long as both splits agree).
    /// - Throws: ``NeuralLevelsError/badData(file:reason:)`` for a missing folder or file, a
    ///   malformed file, images that are not 3-D or labels not 1-D, image and label counts that
    ///   differ, a label outside 0…9, or images of the wrong size.
    public static func load(
        directory: String, trainLimit: Int? = nil, testLimit: Int? = nil, expectedFeatures: Int? = 784
    ) throws -> (train: Dataset<Float>, test: Dataset<Float>) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder) else {
            throw NeuralLevelsError.badData(
                file: directory, reason: "no such data folder (set --data or NEURAL_LEVELS_DATA)")
        }
        guard isFolder.boolValue else {
            throw NeuralLevelsError.badData(
                file: directory, reason: "is a file, not a data folder (--data names the folder of the four IDX files)")
        }
        let trainImagesPath = try locate(trainImages, in: directory)
        let trainLabelsPath = try locate(trainLabels, in: directory)
        let testImagesPath = try locate(testImages, in: directory)
        let testLabelsPath = try locate(testLabels, in: directory)

        // The two splits are independent: read them at the same time (the test split costs a
        // sixth of the training split, so this hides it). Errors are reported training first.
        let results = SplitResults()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            if index == 0 {
                results.train = Result {
                    try loadSplit(imagesPath: trainImagesPath, labelsPath: trainLabelsPath,
                                  limit: trainLimit, expectedFeatures: expectedFeatures)
                }
            } else {
                results.test = Result {
                    try loadSplit(imagesPath: testImagesPath, labelsPath: testLabelsPath,
                                  limit: testLimit, expectedFeatures: expectedFeatures)
                }
            }
        }
        guard let trainResult = results.train, let testResult = results.test else {
            throw NeuralLevelsError.failure("loading \(directory) did not finish")
        }
        let train = try trainResult.get()
        let test = try testResult.get()
        if test.dataset.featureCount != train.dataset.featureCount {
            throw NeuralLevelsError.badData(
                file: testImagesPath,
                reason: "images are \(test.rows)×\(test.columns) = \(test.dataset.featureCount) features, "
                    + "the training images have \(train.dataset.featureCount)")
        }
        return (train.dataset, test.dataset)
    }

    /// What ``checkPair(imageDimensions:imagesFile:labels:labelsFile:limit:expectedFeatures:)`` found.
    struct CheckedPair {
        var used: Int
        var rows: Int
        var columns: Int
        var features: Int
        var classes: [Int32]
    }

    /// Why an images file of `dimensions` is refused when they are not three.
    static func imagesRankReason(_ dimensions: [Int]) -> String {
        "images must be 3-D [N, rows, cols], found \(dimensions.count)-D \(dimensions)"
            + (dimensions.count == 1 ? " (a labels file?)" : "")
    }

    /// The checks between an images file (its dimensions) and its labels file, in order, and the
    /// labels of the first `limit` samples.
    static func checkPair(
        imageDimensions: [Int], imagesFile: String, labels: IDX.Contents, labelsFile: String,
        limit: Int?, expectedFeatures: Int?
    ) throws -> CheckedPair {
        let images = (dimensions: imageDimensions, file: imagesFile)
        guard images.dimensions.count == 3 else {
            throw NeuralLevelsError.badData(file: imagesFile, reason: imagesRankReason(images.dimensions))
        }
        guard labels.dimensions.count == 1 else {
            throw NeuralLevelsError.badData(
                file: labelsFile,
                reason: "labels must be 1-D [N], found \(labels.dimensions.count)-D \(labels.dimensions)")
        }
        let count = images.dimensions[0]
        let (rows, columns) = (images.dimensions[1], images.dimensions[2])
        guard count > 0 else {
            throw NeuralLevelsError.badData(file: imagesFile, reason: "holds no images (its header says 0)")
        }
        guard labels.dimensions[0] == count else {
            throw NeuralLevelsError.badData(
                file: labelsFile,
                reason: "has \(labels.dimensions[0]) labels but \(imagesFile) has \(count) images")
        }
        // rows·cols cannot overflow now that N ≥ 1 (the parser checked that N·rows·cols bytes
        // are present); checked anyway, as it costs nothing.
        let (features, overflow) = rows.multipliedReportingOverflow(by: columns)
        if let expectedFeatures, overflow || features != expectedFeatures {
            throw NeuralLevelsError.badData(
                file: imagesFile,
                reason: "images are \(rows)×\(columns) = \(overflow ? "too many" : String(features)) features, "
                    + "the network expects \(expectedFeatures)")
        }
        guard !overflow else {
            throw NeuralLevelsError.badData(file: imagesFile, reason: "images of \(rows)×\(columns) are too large")
        }

        let used = min(count, max(limit ?? count, 0))
        var classes = [Int32](repeating: 0, count: used)
        for index in 0..<used {
            let label = labels.file[labels.offset + index]
            guard Int(label) < classCount else {
                throw NeuralLevelsError.badData(
                    file: labelsFile,
                    reason: "label \(label) at index \(index) is not a class 0…\(classCount - 1)")
            }
            classes[index] = Int32(label)
        }

        return CheckedPair(used: used, rows: rows, columns: columns, features: features, classes: classes)
    }

    /// One split loaded: its data set, and its image size (for messages).
    struct Split: Sendable {
        var dataset: Dataset<Float>
        var rows: Int
        var columns: Int
    }

    /// Where the two concurrent loads leave their results; each slot is written by one thread
    /// and read only after both have finished.
    private final class SplitResults: @unchecked Sendable {
        var train: Result<Split, any Error>?
        var test: Result<Split, any Error>?
    }

    /// One split: an images file and its labels file.
    ///
    /// The images are streamed (see StreamingLoad.swift): read, inflated and kept in one pass,
    /// so the whole inflated file is never held at once; the checks are those of
    /// ``makeSplit(images:imagesFile:labels:labelsFile:limit:expectedFeatures:)``, except that an
    /// images file of another rank is refused at its header, before its payload is read.
    static func loadSplit(
        imagesPath: String, labelsPath: String, limit: Int?, expectedFeatures: Int?
    ) throws -> Split {
        let images = try streamImages(path: imagesPath, limit: limit)
        let labels = try IDX.readContents(path: labelsPath)
        let pair = try checkPair(imageDimensions: images.dimensions, imagesFile: imagesPath, labels: labels,
                                 labelsFile: labelsPath, limit: limit, expectedFeatures: expectedFeatures)
        guard images.pixels.count == pair.used * pair.features else {
            throw NeuralLevelsError.badData(file: imagesPath, reason: "the images end before their header says")
        }
        let dataset = Dataset<Float>.classification(pixels: images.pixels, rows: pair.used, columns: pair.features,
                                                    labels: pair.classes, classCount: classCount)
        return Split(dataset: dataset, rows: pair.rows, columns: pair.columns)
    }

    /// Checks an images file and a labels file against each other and converts them.
    static func makeSplit(
        images: IDX.Contents, imagesFile: String, labels: IDX.Contents, labelsFile: String,
        limit: Int?, expectedFeatures: Int?
    ) throws -> Split {
        let pair = try checkPair(imageDimensions: images.dimensions, imagesFile: imagesFile, labels: labels,
                                 labelsFile: labelsFile, limit: limit, expectedFeatures: expectedFeatures)
        let (used, features, classes) = (pair.used, pair.features, pair.classes)
        let (rows, columns) = (pair.rows, pair.columns)

        // Pixels stay bytes; the data set scales them to byte / 255 as it gathers each batch.
        let pixels = Array(images.file[images.offset..<(images.offset + used * features)])
        let dataset = Dataset<Float>.classification(pixels: pixels, rows: used, columns: features,
                                                    labels: classes, classCount: classCount)
        return Split(dataset: dataset, rows: rows, columns: columns)
    }
}
