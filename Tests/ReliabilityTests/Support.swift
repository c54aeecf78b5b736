// Support.swift — running the executables as a user would, for the reliability tests: to
// completion, or in the background with output read as it comes so that a test can send a
// signal at a chosen moment; plus scratch folders, a small valid MNIST-format data set, and
// checkpoint bytes to corrupt.
//
// Teaches: how to test what a program does with bad input and signals — from outside, by exit
// status, standard error and the files left behind, not by calling its functions.
// Leaves out: the executables' normal results (CommandLineTests checks those). The process
// helpers are in TestSupport.

import Foundation
import Shared
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh folder under the system temp folder, removed when the value is released.
final class ScratchFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "NeuralLevelsReliability-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `name` inside the folder.
    func path(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` (creating its folder) and returns the path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let file = path(name)
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// A report folder holding a good, short compare-levels run of autograd and manual (regression
/// unless `task` says otherwise; `epochs` epochs of `trainLimit` samples), for a test that then
/// interrupts or breaks another run writing to the same folder.
/// The reports are in its `reports` folder.
func goodReports(task: String = "regression", epochs: Int = 1, trainLimit: Int = 500) throws -> ScratchFolder {
    let scratch = try ScratchFolder()
    let reports = scratch.path("reports")
    let good = try run("compare-levels", ["--task", task, "--levels", "autograd,manual", "--epochs", "\(epochs)",
                                          "--train-limit", "\(trainLimit)", "--test-limit", "100", "--report-dir", reports])
    try #require(good.status == 0, "\(good.standardError)")
    return scratch
}

/// Every file in `folder` (hidden ones too) with its bytes.
func snapshot(_ folder: String) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
        files[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
    }
    return files
}

// MARK: - Data and checkpoints to break

/// An IDX file of unsigned bytes: magic `00 00 08 ndim`, big-endian sizes, then `payload`.
func makeIDX(_ dimensions: [UInt32], _ payload: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, 8, UInt8(dimensions.count)]
    for size in dimensions {
        bytes += [UInt8(size >> 24), UInt8((size >> 16) & 0xFF), UInt8((size >> 8) & 0xFF), UInt8(size & 0xFF)]
    }
    return bytes + payload
}

/// A small valid MNIST-format data set (28×28 images): file name → bytes.
enum TinyMNIST {
    static let trainCount = 300
    static let testCount = 60

    static func images(_ count: Int, seed: UInt64, side: UInt32 = 28) -> [UInt8] {
        var generator = SplitMix64(state: seed)
        let pixels = (0..<(count * Int(side * side))).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) }
        return makeIDX([UInt32(count), side, side], pixels)
    }

    static func labels(_ count: Int) -> [UInt8] {
        makeIDX([UInt32(count)], (0..<count).map { UInt8($0 % 10) })
    }

    /// The four files, valid.
    static var files: [String: [UInt8]] {
        [MNISTFiles.trainImages: images(trainCount, seed: 1), MNISTFiles.trainLabels: labels(trainCount),
         MNISTFiles.testImages: images(testCount, seed: 2), MNISTFiles.testLabels: labels(testCount)]
    }

    /// Writes the four files into `folder/name`, with `replacing` substituted (a name ending in
    /// `.gz` replaces the plain file of that name) and returns the folder's path.
    static func write(in scratch: ScratchFolder, name: String = "data", replacing: [String: [UInt8]] = [:]) throws -> String {
        var contents = files
        for (file, bytes) in replacing {
            if file.hasSuffix(".gz") { contents[String(file.dropLast(3))] = nil }
            contents[file] = bytes
        }
        for (file, bytes) in contents { try scratch.write(bytes, to: "\(name)/\(file)") }
        return scratch.path(name)
    }
}

/// A safetensors file from a literal header and data buffer.
func rawSafetensors(_ header: String, _ data: [UInt8]) -> [UInt8] {
    let json = Array(header.utf8)
    return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + data
}

/// The regression network's initial weights (3 → 64 → 32 → 1) as a safetensors file.
func regressionCheckpoint() -> [UInt8] {
    NetworkParameters<Float>.glorotNormal(shape: .standard(for: .regression), seed: 7).safetensorsBytes()
}

/// A regression checkpoint written by hand: every tensor's dtype, shape and offsets as given.
/// Tensor sizes (F32): fc1.weight 64×3, fc1.bias 64, fc2.weight 32×64, fc2.bias 32, fc3.weight 1×32, fc3.bias 1.
func handWrittenCheckpoint(_ edit: (inout [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)]) -> Void) -> [UInt8] {
    var tensors: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
    var offset = 0
    for (name, shape) in [("fc1.weight", [64, 3]), ("fc1.bias", [64]), ("fc2.weight", [32, 64]), ("fc2.bias", [32]),
                          ("fc3.weight", [1, 32]), ("fc3.bias", [1])] {
        let size = 4 * shape.reduce(1, *)
        tensors.append((name, "F32", shape, offset, offset + size))
        offset += size
    }
    edit(&tensors)
    let header = "{" + tensors.map { t in
        "\"\(t.name)\":{\"dtype\":\"\(t.dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
            + "\"data_offsets\":[\(t.begin),\(t.end)]}"
    }.joined(separator: ",") + "}"
    return rawSafetensors(header, [UInt8](repeating: 0, count: offset))
}
