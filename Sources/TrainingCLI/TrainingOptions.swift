// TrainingOptions.swift — the one set of command-line options every executable shares.
//
// Teaches: the recipe is data. Every level reads the same options, validated before any work,
// so `level4-manual --epochs 3` and `compare-levels --epochs 3` mean the same run.
// Leaves out: configuration files (the command line is the whole configuration).

import ArgumentParser
import Foundation
import Shared

extension Task: ExpressibleByArgument {}
extension InitializationScheme: ExpressibleByArgument {}

/// The options of the command-line contract (docs/design.md).
///
/// Numeric options parse their value `.unconditional`ly, so that `--learning-rate -1` reaches
/// ``validate()`` and is refused for what it is ("must be a finite number above 0, got -1.0")
/// instead of being read as an unknown option `-1` ("Missing value for '--learning-rate'").
public struct TrainingOptions: ParsableArguments, Sendable {
    @Option(help: "classification (Fashion-MNIST/MNIST IDX files) or regression (synthetic).")
    public var task: Task = .classification

    @Option(help: ArgumentHelp(
        "Folder with the four MNIST-format IDX files (plain or .gz).",
        discussion: "Default: $NEURAL_LEVELS_DATA, else \(MNISTFiles.defaultDirectory).",
        valueName: "dir"))
    public var data: String?

    @Option(parsing: .unconditional, help: "Number of passes over the training set.")
    public var epochs: Int = 10

    @Option(parsing: .unconditional, help: "Samples per minibatch (the last, partial batch is kept).")
    public var batchSize: Int = 64

    @Option(parsing: .unconditional, help: "SGD step size.")
    public var learningRate: Double = 0.1

    @Option(parsing: .unconditional, help: "Seed for the initial weights, the shuffles and the synthetic data.")
    public var seed: UInt64 = 42

    @Option(parsing: .unconditional, help: ArgumentHelp("Hidden layer widths, e.g. 128,64 (default 128,64; regression 64,32).",
                               valueName: "a,b"))
    public var hidden: String?

    @Option(parsing: .unconditional, help: "Use only the first N training samples.")
    public var trainLimit: Int?

    @Option(parsing: .unconditional, help: "Use only the first N test samples.")
    public var testLimit: Int?

    @Flag(help: "Take batches in file order instead of a seeded shuffle per epoch.")
    public var noShuffle = false

    @Option(name: .customLong("init"), help: ArgumentHelp("Read the initial weights from a safetensors file.", valueName: "file"))
    public var initFile: String?

    @Option(help: ArgumentHelp(
        "How the initial weights are drawn: glorot-normal (default), glorot-uniform (Keras's Dense), "
            + "truncated-normal (Keras's GlorotNormal) or kaiming-uniform (PyTorch's nn.Linear).",
        valueName: "scheme"))
    public var initScheme: InitializationScheme = .glorotNormal

    @Option(help: ArgumentHelp("Write the initial weights to a safetensors file.", valueName: "file"))
    public var saveInit: String?

    @Option(help: ArgumentHelp("Write the trained weights to a safetensors file.", valueName: "file"))
    public var save: String?

    @Option(help: ArgumentHelp("Folder for history CSVs, charts and summaries.", valueName: "dir"))
    public var reportDir: String = "Reports"

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Threads the kernels split their work across (default: one per core).",
        discussion: "Every large kernel call (matrix products, activations, the update) is cut into this many "
            + "parts, computed at once, and a helper gathers the next batch between calls; OpenBLAS itself runs "
            + "single-threaded. On an idle machine more threads are faster (docs/performance.md has measurements); "
            + "when other processes keep the cores busy, fewer can be faster (compare-levels --benchmark measures it)."))
    public var threads: Int?

    public init() {}

    /// Hidden widths parsed from `--hidden`, or the task's defaults.
    public var hiddenSizes: [Int] {
        get throws {
            guard let hidden else { return NetworkShape.standard(for: task).hidden }
            return try Self.hiddenWidths(hidden, maximum: Self.maximumWidth)
        }
    }

    /// The two widths of a `--hidden` value like `128,64`, each in `1...maximum`.
    ///
    /// - Throws: `ValidationError` (one line, exit status 64) naming the value and what is wrong.
    public static func hiddenWidths(_ text: String, maximum: Int) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let widths = parts.compactMap { Int($0) }
        guard parts.count == 2, widths.count == 2 else {
            throw ValidationError("--hidden: expected two widths like 128,64, got '\(text)'")
        }
        guard widths.allSatisfy({ (1...maximum).contains($0) }) else {
            throw ValidationError("--hidden: widths must be between 1 and \(maximum), got '\(text)'")
        }
        return widths
    }

    /// The recipe these options describe.
    public var recipe: Recipe {
        Recipe(epochs: epochs, batchSize: batchSize, learningRate: learningRate, seed: seed,
               shuffle: !noShuffle)
    }

    /// Checks, by writing and removing a probe file, that `--report-dir` (or the folder it will
    /// be created in) accepts files, and that none of `files` in it is a folder, a device or a
    /// pipe (see ``ReportDirectory/checkWritable(_:option:files:)``): called before any work by a
    /// run that writes reports, and not by one that writes none (`compare-levels --trace`), which
    /// then leaves no probe in `Reports`. It creates nothing: the report folder is made when the
    /// first report is written (``ReportDirectory/create(_:what:)``).
    public func checkReportDirectory(files: [String]) throws {
        try ReportDirectory.checkWritable(reportDir, option: "--report-dir", files: files)
    }

    /// The long options given in `arguments`, in order (`--epochs` for `--epochs 3` or
    /// `--epochs=3`), up to a `--` that ends the options: how a command tells an option left at
    /// its default from one the user typed, to refuse options its mode would ignore.
    public static func givenOptions(in arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> [String] {
        var given: [String] = []
        for argument in arguments.prefix(while: { $0 != "--" }) where argument.hasPrefix("--") {
            let option = String(argument.prefix { $0 != "=" })
            if !given.contains(option) { given.append(option) }
        }
        return given
    }

    /// What a run stopped before training has written: nothing, or only `--save-init`'s file.
    public var writtenBeforeTraining: String {
        saveInit.map { "nothing written but the initial weights in \($0) (--save-init)" } ?? "nothing written"
    }

    /// The largest `--epochs`: far beyond any useful run, small enough that every step's loss
    /// (kept for compare-levels) fits in memory.
    public static let maximumEpochs = 1_000_000
    /// The largest `--batch-size` (a batch larger than the training set is the whole set).
    public static let maximumBatchSize = 1 << 20
    /// The largest hidden width: a 4096 × 4096 weight matrix is 64 MB of Float; wider layers
    /// would exhaust memory before the first step instead of failing here with a message.
    public static let maximumWidth = 4096

    /// Checks every option before any work (ArgumentParser calls this after parsing, `--help`
    /// included; a `ValidationError` becomes one `Error: …` line and exit status 64). Also checks,
    /// by writing and removing a probe file, that the folders of `--save` and `--save-init`
    /// accept files, so that a long run cannot end unable to write its results. The report
    /// folder is checked by the commands that write reports (``checkReportDirectory(files:)``).
    public func validate() throws {
        for (option, value) in [("--data", data), ("--init", initFile)] where value?.isEmpty == true {
            throw ValidationError("\(option): the path is empty")
        }
        guard (1...Self.maximumEpochs).contains(epochs) else {
            throw ValidationError("--epochs must be between 1 and \(Self.maximumEpochs), got \(epochs)")
        }
        guard (1...Self.maximumBatchSize).contains(batchSize) else {
            throw ValidationError("--batch-size must be between 1 and \(Self.maximumBatchSize), got \(batchSize)")
        }
        guard learningRate.isFinite, learningRate > 0 else {
            throw ValidationError("--learning-rate must be a finite number above 0, got \(learningRate)")
        }
        guard Float(learningRate).isFinite else {          // training runs in Float
            throw ValidationError("--learning-rate must be at most \(Float.greatestFiniteMagnitude) (a Float), got \(learningRate)")
        }
        if let trainLimit, trainLimit < 1 { throw ValidationError("--train-limit must be at least 1, got \(trainLimit)") }
        if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be at least 1, got \(testLimit)") }
        if let threads, threads < 1 || threads > 256 { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
        _ = try hiddenSizes
        if initFile != nil && initScheme != .glorotNormal {
            throw ValidationError("--init-scheme \(initScheme.rawValue): not with --init, which reads the initial weights from a file")
        }
        if let save { try OutputFile.checkWritable(save, option: "--save") }
        if let saveInit { try OutputFile.checkWritable(saveInit, option: "--save-init") }
    }
}

/// The report folder (and `compare-levels --export-run`'s): checked before any training starts,
/// created when the first file is written into it.
public enum ReportDirectory {
    /// Checks that `path` is a folder that accepts files, or that the nearest folder above it
    /// does (then `path` can be created there), and that no folder, device or pipe sits in it
    /// under one of the names in `files` (`manual-loss.png`, `summary.json`, …), which the run
    /// writes after training. Creates nothing that stays.
    ///
    /// - Throws: `ValidationError` (exit status 64) `"<option>: <path> is a file, not a
    ///   folder"`, `"<option>: cannot create <path>: <ancestor> is a file, not a folder"`,
    ///   `"<option>: cannot write in <folder>: <reason>"` or `"<option>: <path>/loss.png is a
    ///   folder, not a file, where a report of that name goes"`.
    public static func checkWritable(_ path: String, option: String, files: [String] = []) throws {
        guard !path.isEmpty else { throw ValidationError("\(option): the path is empty") }
        // The path itself, or else the nearest part of it that exists, must be a folder that
        // accepts files.
        let (existing, isFolder) = FolderProbe.nearestExisting(path)
        let exists = existing == withoutTrailingSlashes(path)
        guard isFolder else {
            throw ValidationError(exists ? "\(option): \(path) is a file, not a folder"
                                  : "\(option): cannot create \(path): \(existing) is a file, not a folder")
        }
        if let reason = FolderProbe.writeProbe(in: existing) {
            throw ValidationError(exists ? "\(option): cannot write in \(path): \(reason)"
                                  : "\(option): cannot create \(path) in \(existing): \(reason)")
        }
        guard exists else { return }
        for name in files {
            let file = (path as NSString).appendingPathComponent(name)
            if let refusal = AtomicFile.refusalToReplace(file) {
                throw ValidationError("\(option): \(file) \(refusal), where a report of that name goes")
            }
        }
    }

    /// Creates `path` and any missing parents (`mkdir -p`), just before the first file is
    /// written into it.
    ///
    /// - Throws: `NeuralLevelsError.failure` `"cannot create the <what> <path>: <reason>"`.
    public static func create(_ path: String, what: String = "report folder") throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue { return }
        if let reason = FolderProbe.createFolders(path) {
            throw NeuralLevelsError.failure("cannot create the \(what) \(path): \(reason)")
        }
    }
}

/// A file the run will write at the end (`--save`, `--save-init`), checked before training.
public enum OutputFile {
    /// Checks that `path` names a file (not a folder) in an existing folder that accepts files.
    ///
    /// - Throws: `ValidationError` (exit status 64) naming the option and the problem.
    public static func checkWritable(_ path: String, option: String) throws {
        var isFolder: ObjCBool = false
        guard !path.isEmpty, !path.hasSuffix("/") else { throw ValidationError("\(option): '\(path)' is not a file path") }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw ValidationError("\(option): \(path) is a folder, not a file")
        }
        if let refusal = AtomicFile.refusalToReplace(path) {       // a device or a pipe (a folder is caught above)
            throw ValidationError("\(option): \(path) \(refusal), which it would replace")
        }
        let folder = parentFolder(of: path)
        let parent = folder.isEmpty ? "." : folder
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isFolder) else {
            throw ValidationError("\(option): the folder \(parent) does not exist")
        }
        guard isFolder.boolValue else {
            throw ValidationError("\(option): \(parent) is a file, not a folder")
        }
        if let reason = FolderProbe.writeProbe(in: parent) {
            throw ValidationError("\(option): cannot write in \(parent): \(reason)")
        }
    }
}

/// Folder checks with the system's own reasons (`strerror`), which name the actual problem:
/// "Not a directory", "Read-only file system", "Permission denied", "No space left on device".
public enum FolderProbe {
    /// The nearest of `path` and its parents that exists, and whether it is a folder (for
    /// `a-file/sub/reports`, `a-file`, not a folder); `"."` when no part of a relative path exists.
    public static func nearestExisting(_ path: String) -> (path: String, isFolder: Bool) {
        var candidate = withoutTrailingSlashes(path)                 // "a-file/" is "a-file"
        while !candidate.isEmpty {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isFolder) {
                return (candidate, isFolder.boolValue)
            }
            let parent = parentFolder(of: candidate)
            if parent == candidate { break }
            candidate = parent
        }
        return (".", true)
    }

    /// `mkdir -p path`; returns why it failed, or nil.
    static func createFolders(_ path: String) -> String? {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                let reason = String(cString: strerror(errno))
                return prefix == path ? reason : "\(prefix): \(reason)"
            }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: prefix, isDirectory: &isFolder), isFolder.boolValue else {
                return "\(prefix) is a file, not a folder"
            }
            prefix += "/"
        }
        return nil
    }

    /// Creates and removes a hidden file in `folder` (permission bits alone do not say whether
    /// root can write, or whether the file system is read-only); returns why it failed, or nil.
    static func writeProbe(in folder: String) -> String? {
        let probe = (folder as NSString).appendingPathComponent(".neural-levels-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        close(descriptor)
        unlink(probe)
        return nil
    }
}
