// TrainingOptions.swift — the one set of command-line options every executable shares.
//
// Teaches: the recipe is data. Every level reads the same options, validated before any work,
// so `level4-manual --epochs 3` and `compare-levels --epochs 3` mean the same run.
// Leaves out: configuration files (the command line is the whole configuration).

import ArgumentParser
import Foundation
import Shared

extension Task: ExpressibleByArgument {}

/// The options of DESIGN.md's command-line contract.
public struct TrainingOptions: ParsableArguments, Sendable {
    @Option(help: "classification (Fashion-MNIST/MNIST IDX files) or regression (synthetic).")
    public var task: Task = .classification

    @Option(help: ArgumentHelp(
        "Folder with the four MNIST-format IDX files (plain or .gz).",
        discussion: "Default: $NEURAL_LEVELS_DATA, else \(MNISTFiles.defaultDirectory).",
        valueName: "dir"))
    public var data: String?

    @Option(help: "Number of passes over the training set.")
    public var epochs: Int = 10

    @Option(help: "Samples per minibatch (the last, partial batch is kept).")
    public var batchSize: Int = 64

    @Option(help: "SGD step size.")
    public var learningRate: Double = 0.1

    @Option(help: "Seed for the initial weights, the shuffles and the synthetic data.")
    public var seed: UInt64 = 42

    @Option(help: ArgumentHelp("Hidden layer widths, e.g. 128,64 (default 128,64; regression 64,32).",
                               valueName: "a,b"))
    public var hidden: String?

    @Option(help: "Use only the first N training samples.")
    public var trainLimit: Int?

    @Option(help: "Use only the first N test samples.")
    public var testLimit: Int?

    @Flag(help: "Take batches in file order instead of a seeded shuffle per epoch.")
    public var noShuffle = false

    @Option(name: .customLong("init"), help: ArgumentHelp("Read the initial weights from a safetensors file.", valueName: "file"))
    public var initFile: String?

    @Option(help: ArgumentHelp("Write the initial weights to a safetensors file.", valueName: "file"))
    public var saveInit: String?

    @Option(help: ArgumentHelp("Write the trained weights to a safetensors file.", valueName: "file"))
    public var save: String?

    @Option(help: ArgumentHelp("Folder for history CSVs, charts and summaries.", valueName: "dir"))
    public var reportDir: String = "Reports"

    @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).")
    public var threads: Int?

    public init() {}

    /// Hidden widths parsed from `--hidden`, or the task's defaults.
    public var hiddenSizes: [Int] {
        get throws {
            guard let hidden else { return NetworkShape.standard(for: task).hidden }
            let parts = hidden.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let widths = parts.compactMap { Int($0) }
            guard parts.count == 2, widths.count == 2 else {
                throw ValidationError("--hidden: expected two widths like 128,64, got '\(hidden)'")
            }
            guard widths.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else {
                throw ValidationError("--hidden: widths must be between 1 and 65536, got '\(hidden)'")
            }
            return widths
        }
    }

    /// The recipe these options describe.
    public var recipe: Recipe {
        Recipe(epochs: epochs, batchSize: batchSize, learningRate: learningRate, seed: seed,
               shuffle: !noShuffle)
    }

    public func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard learningRate.isFinite, learningRate > 0 else {
            throw ValidationError("--learning-rate must be a finite number above 0, got \(learningRate)")
        }
        if let trainLimit, trainLimit < 1 { throw ValidationError("--train-limit must be at least 1, got \(trainLimit)") }
        if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be at least 1, got \(testLimit)") }
        if let threads, threads < 1 || threads > 256 { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
        _ = try hiddenSizes
        try ReportDirectory.checkWritable(reportDir)
    }
}

/// The report folder: created if missing, and checked for writing before any training starts.
public enum ReportDirectory {
    public static func checkWritable(_ path: String) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ValidationError("--report-dir: \(path) is a file, not a folder") }
        } else {
            do { try manager.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw ValidationError("--report-dir: cannot create \(path): \(error.localizedDescription)")
            }
        }
        guard manager.isWritableFile(atPath: path) else {
            throw ValidationError("--report-dir: \(path) is not writable")
        }
    }
}
