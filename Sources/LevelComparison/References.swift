// References.swift — the same run replayed by PyTorch, Lightning, Keras, TensorFlow, JAX and
// NumPy, and how close each comes to Level 4.
//
// Teaches: where "the same computation" stops being bitwise. Our levels share kernels, so they
// agree to the last bit; a framework has its own kernels (its own BLAS, its own order of
// additions, its own exp), so it agrees only to rounding: about 1e-7 relative at the first
// step, then growing slowly as the rounding differences feed back through training. The drift
// chart shows that growth; a bug (a wrong gradient, a batch out of order) shows as a jump.
// Each replay is a Python script in References/ run as a subprocess on an exported run
// (RunExport.swift); it writes its step losses and final weights, which are compared here.
// Leaves out: the scripts themselves (References/*.py) and installing the frameworks
// (scripts/install-references.sh).

import Charts
import Foundation
import Shared
import TrainingCLI

/// A replay script of References/ and the Swift style it mirrors.
public struct ReferenceFramework: Sendable, Hashable {
    /// Short id, used by `--reference-frameworks`: "numpy", "torch-modules", …
    public var id: String
    /// The framework and its idiom, as the report names it: "PyTorch nn.Module + optim".
    public var framework: String
    /// The script in References/.
    public var script: String
    /// The Swift style id it mirrors: "manual", "modules", "autograd", "keras", …
    public var style: String
    /// The Swift level of that style.
    public var level: Int

    /// Every replay, lowest level first.
    public static let all: [ReferenceFramework] = [
        ReferenceFramework(id: "numpy", framework: "NumPy by hand", script: "numpy_manual.py", style: "manual", level: 4),
        ReferenceFramework(id: "torch-autograd", framework: "PyTorch autograd", script: "torch_autograd.py",
                           style: "autograd", level: 3),
        ReferenceFramework(id: "tf-gradient-tape", framework: "TensorFlow GradientTape", script: "tf_gradient_tape.py",
                           style: "gradient-tape", level: 3),
        ReferenceFramework(id: "jax", framework: "JAX value_and_grad + jit", script: "jax_grad.py",
                           style: "differentiable", level: 3),
        ReferenceFramework(id: "torch-modules", framework: "PyTorch nn.Module + optim", script: "torch_modules.py",
                           style: "modules", level: 2),
        ReferenceFramework(id: "keras", framework: "Keras compile/fit", script: "keras_fit.py", style: "keras", level: 1),
        ReferenceFramework(id: "lightning", framework: "Lightning Trainer.fit", script: "lightning_module.py",
                           style: "lightning", level: 1),
    ]

    /// The replays named in `list` ("numpy,jax", or "all").
    ///
    /// - Throws: `NeuralLevelsError/badOption(option:reason:)` for an unknown name.
    public static func named(_ list: String) throws -> [ReferenceFramework] {
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if names == ["all"] { return all }
        guard !names.isEmpty else {
            throw NeuralLevelsError.badOption(
                option: "--reference-frameworks",
                reason: "the list is empty (known: \(all.map(\.id).joined(separator: ", ")), or all)")
        }
        return try names.map { name in
            guard let framework = all.first(where: { $0.id == name }) else {
                throw NeuralLevelsError.badOption(
                    option: "--reference-frameworks",
                    reason: "unknown replay '\(name)' (known: \(all.map(\.id).joined(separator: ", ")), or all)")
            }
            return framework
        }
    }
}

/// How one replay compared with the Swift reference (a row of summary.json's `references`).
public struct ReferenceResult: Codable, Sendable, Equatable {
    public var framework: String
    /// The Swift style it mirrors.
    public var style: String
    /// The script, e.g. "torch_modules.py".
    public var script: String
    /// False when the framework cannot be imported; `reason` says why.
    public var available: Bool
    public var reason: String?
    /// Set when the replay ran but failed: it crashed, the export was unreadable, or its
    /// result could not be read. One line naming the framework and the file.
    public var error: String?
    /// Steps whose losses were compared (both ran them).
    public var stepsCompared: Int
    /// `max |ℓ − ℓ_ref| / |ℓ_ref|` over the first epoch's steps, and over the whole run.
    public var maxRelativeLossDifferenceFirstEpoch: Double?
    public var maxRelativeLossDifference: Double?
    /// `max over tensors of max|w − w_ref| / max|w_ref|` of the final weights.
    public var maxRelativeWeightDifference: Double?
    /// The first step (1-based, over the run) whose relative loss difference exceeds the
    /// tolerance; nil when none does.
    public var firstFailingStep: Int?
    public var tolerance: Double
    /// The replay's last epoch: test accuracy (classification) or R² (regression).
    public var testAccuracy: Double?
    public var testR2: Double?
    public var secondsPerEpoch: Double?
    public var samplesPerSecond: Double?
    public var peakRssMib: Double?
    /// The framework's version, e.g. "torch 2.13.0".
    public var versions: [String: String]?
    /// Per step `|ℓ − ℓ_ref|` (the drift chart); not written to summary.json.
    public var drift: [Double] = []

    /// Ran, and agreed within the tolerance.
    public var passed: Bool { available && error == nil && firstFailingStep == nil }

    enum CodingKeys: String, CodingKey {
        case framework, style, script, available, reason, error, tolerance, versions
        case stepsCompared = "steps_compared"
        case maxRelativeLossDifferenceFirstEpoch = "max_relative_loss_difference_first_epoch"
        case maxRelativeLossDifference = "max_relative_loss_difference"
        case maxRelativeWeightDifference = "max_relative_weight_difference"
        case firstFailingStep = "first_failing_step"
        case testAccuracy = "test_accuracy"
        case testR2 = "test_r2"
        case secondsPerEpoch = "seconds_per_epoch"
        case samplesPerSecond = "samples_per_second"
        case peakRssMib = "peak_rss_mib"
    }

    init(_ framework: ReferenceFramework, tolerance: Double) {
        self.framework = framework.framework
        self.style = framework.style
        self.script = framework.script
        self.available = true
        self.stepsCompared = 0
        self.tolerance = tolerance
    }
}

/// What a replay script writes to its `result.json` (see References/replay_io.py).
struct ReplayOutput: Decodable {
    struct Epoch: Decodable {
        var epoch: Int
        var trainLoss: Double
        var testLoss: Double
        var testAccuracy: Double?
        var testR2: Double?
        var seconds: Double
    }
    var framework: String
    var style: String
    var versions: [String: String]?
    var stepLosses: [Double]
    var epochs: [Epoch]
    var secondsPerEpoch: Double
    var samplesPerSecond: Double
    var peakRssMib: Double
    var finalWeights: String
}

/// Replaying a run in the Python frameworks and comparing the replays with the Swift reference.
public enum ReferenceReplay {
    /// Exit status of a replay whose framework cannot be imported.
    public static let unavailableStatus: Int32 = 3
    /// Exit status of a replay that cannot read the export.
    public static let badExportStatus: Int32 = 65

    /// Default `--reference-tolerance`: the largest relative step-loss difference from Level 4
    /// allowed in the first epoch (see References/README.md for the measurements behind it).
    public static let defaultTolerance = 1e-4
    /// Seconds a replay may run by default (`--reference-timeout`): an hour, or a minute per
    /// epoch for longer runs; far above what a replay takes (Keras, the slowest, about a second
    /// per epoch of Fashion-MNIST here).
    public static func defaultTimeout(epochs: Int = 1) -> Double { max(3600, 60 * Double(epochs)) }
    /// The largest `result.json` read beyond 64 bytes per step of the run (a step's loss takes
    /// about 20).
    public static let maximumResultBytes = 1 << 28

    /// Writes the run for the replays; see ``RunExport/export(experiment:to:)``.
    public static func export(experiment: Experiment, to directory: String) throws {
        try RunExport.export(experiment: experiment, to: directory)
    }

    /// The python to run the replays with: `option` (`--python`), else `$NEURAL_LEVELS_PYTHON`,
    /// else `python3` (looked up in PATH).
    public static func python(_ option: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String
    {
        if let option, !option.isEmpty { return option }
        if let fromEnvironment = environment["NEURAL_LEVELS_PYTHON"], !fromEnvironment.isEmpty { return fromEnvironment }
        return "python3"
    }

    /// The folder of the replay scripts: `$NEURAL_LEVELS_REFERENCES`, else `References` in the
    /// current folder, else the repository's `References` beside `Sources`.
    public static func scriptsDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let fromEnvironment = environment["NEURAL_LEVELS_REFERENCES"], !fromEnvironment.isEmpty { return fromEnvironment }
        if FileManager.default.fileExists(atPath: "References/replay_io.py") { return "References" }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("References").path
    }

    /// Runs every replay of `frameworks` on the run exported in `exportDirectory`, one after
    /// another, and compares each with the reference (Level 4's step losses and final weights).
    ///
    /// Never throws: a framework that cannot be imported gives a row with `available` false and
    /// its reason; a replay that crashes, cannot read the export, or leaves no readable result
    /// gives a row with `error`, one line naming the framework and the file.
    ///
    /// - Parameters:
    ///   - frameworks: the replays to run, in order.
    ///   - python: the interpreter (a path, or a name looked up in PATH).
    ///   - exportDirectory: the exported run (`run.json`, `initial.safetensors`, the batch order).
    ///   - scriptsDirectory: the folder of the replay scripts (default: the repository's `References/`).
    ///   - referenceLosses: the reference style's step losses, in order.
    ///   - referenceWeights: the reference style's final weights.
    ///   - resultsDirectory: where each replay writes its results, in a folder named after its
    ///     id (default: `exportDirectory/results`); `reference.json` there holds the reference's
    ///     step losses.
    ///   - stepsPerEpoch: steps of one epoch, for the first epoch's difference (default: from
    ///     the export's `run.json`).
    ///   - tolerance: relative; a step whose loss differs more is the replay's first failing step.
    ///   - timeout: seconds a replay may run before it is stopped (SIGTERM, then SIGKILL, to its
    ///     whole process group) and reported as failed.
    ///   - shouldStop: asked while a replay runs (Ctrl-C): the replay is then stopped the same
    ///     way, reported as not run, and the replays after it are not started.
    ///   - log: receives one line per replay as it finishes.
    public static func run(
        frameworks: [ReferenceFramework], python: String, exportDirectory: String,
        resultsDirectory: String? = nil, scriptsDirectory: String = scriptsDirectory(),
        referenceLosses: [Double], referenceWeights: NetworkParameters<Float>, stepsPerEpoch: Int? = nil,
        tolerance: Double = defaultTolerance, timeout: Double = defaultTimeout(),
        shouldStop: @escaping () -> Bool = { false }, log: (String) -> Void = { print($0) }
    ) -> [ReferenceResult] {
        let results = resultsDirectory ?? (exportDirectory as NSString).appendingPathComponent("results")
        let steps = stepsPerEpoch ?? (try? RunExport.readRecipe(in: exportDirectory).stepsPerEpoch) ?? referenceLosses.count
        // What the replays are compared with, beside their results (for reading them by hand).
        if referenceLosses.allSatisfy(\.isFinite),
           let data = try? JSONSerialization.data(withJSONObject: ["step_losses": referenceLosses]) {
            try? FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
            try? AtomicFile.write(data, to: (results as NSString).appendingPathComponent("reference.json"))
        }
        return frameworks.map { framework in
            let output = (results as NSString).appendingPathComponent(framework.id)
            guard !shouldStop() else {
                var skipped = ReferenceResult(framework, tolerance: tolerance)
                (skipped.available, skipped.reason) = (false, "not run: interrupted")
                return skipped
            }
            var result = replay(framework, python: python, exportDirectory: exportDirectory, outputDirectory: output,
                                scriptsDirectory: scriptsDirectory, referenceLosses: referenceLosses,
                                referenceWeights: referenceWeights, stepsPerEpoch: steps, tolerance: tolerance,
                                timeout: timeout, shouldStop: shouldStop)
            if !result.available {
                log("references: \(framework.framework) (\(framework.script)) not available: \(result.reason ?? "?")")
            } else if let error = result.error {
                log(error)
                result.drift = []
            } else {
                log("references: \(framework.framework): \(result.stepsCompared) steps, max relative loss difference "
                    + "\(scientific(result.maxRelativeLossDifferenceFirstEpoch)) (epoch 1), "
                    + "\(scientific(result.maxRelativeLossDifference)) (run)")
            }
            return result
        }
    }

    /// One replay: run the script, read and compare its result.
    static func replay(
        _ framework: ReferenceFramework, python: String, exportDirectory: String, outputDirectory: String,
        scriptsDirectory: String, referenceLosses: [Double], referenceWeights: NetworkParameters<Float>,
        stepsPerEpoch: Int, tolerance: Double, timeout: Double = defaultTimeout(), shouldStop: @escaping () -> Bool = { false }
    ) -> ReferenceResult {
        var row = ReferenceResult(framework, tolerance: tolerance)
        let script = (scriptsDirectory as NSString).appendingPathComponent(framework.script)
        let name = "references: \(framework.framework) (\(framework.script))"
        guard FileManager.default.fileExists(atPath: script) else {
            row.error = "\(name): no such script \(script)"
            return row
        }
        try? FileManager.default.removeItem(atPath: outputDirectory)
        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        } catch {
            row.error = "\(name): cannot create the results folder \(outputDirectory)"
            return row
        }

        let status: Int32, stderr: String, stop: ScriptStop?
        do {
            (status, stderr, stop) = try runScript(python: python, script: script,
                                                   arguments: [exportDirectory, outputDirectory],
                                                   logDirectory: outputDirectory, timeout: timeout, shouldStop: shouldStop)
        } catch let error as LaunchError {
            row.available = false
            row.reason = "cannot start \(python): \(error.reason)"
            return row
        } catch {
            row.available = false
            row.reason = "cannot start \(python): \(oneLine(error))"
            return row
        }
        let lastLine = stderr.split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        let log = (outputDirectory as NSString).appendingPathComponent("stderr.txt")
        switch stop {
        case .timedOut(let stopped):
            row.error = "\(name): \(script) did not finish within \(String(format: "%g", timeout)) s (--reference-timeout) and "
                + (stopped ? "was stopped" : "could not be stopped") + " (log: \(log))"
            return row
        case .interrupted:
            (row.available, row.reason) = (false, "stopped: interrupted")
            return row
        case nil: break
        }
        switch status {
        case 0: break
        case unavailableStatus:
            row.available = false
            row.reason = lastLine.hasPrefix("unavailable: ") ? String(lastLine.dropFirst("unavailable: ".count)) : lastLine
            return row
        case badExportStatus:
            row.error = "\(name): " + (lastLine.isEmpty ? "cannot read the export in \(exportDirectory)" : lastLine)
            return row
        default:
            let log = (outputDirectory as NSString).appendingPathComponent("stderr.txt")
            row.error = "\(name): \(script) " + (status < 0 ? "was killed by signal \(-status)" : "exited with status \(status)")
                + (lastLine.isEmpty ? "" : ": \(lastLine)") + " (log: \(log))"
            return row
        }

        let resultFile = (outputDirectory as NSString).appendingPathComponent("result.json")
        let output: ReplayOutput
        do {
            let data: Data
            do {
                data = Data(try readRegularFile(atPath: resultFile,
                                                maximumSize: maximumResultBytes + 64 * referenceLosses.count))
            } catch let error as NeuralLevelsError {
                row.error = "\(name): \(error.description.replacingOccurrences(of: "error: ", with: ""))"
                return row
            }
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(
                positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
            output = try decoder.decode(ReplayOutput.self, from: data)
        } catch {
            row.error = "\(name): \(resultFile): not a replay result (\(oneLine(error)))"
            return row
        }
        let weightsFile = (outputDirectory as NSString).appendingPathComponent(output.finalWeights)
        let weights: NetworkParameters<Float>
        do {
            weights = try NetworkParameters<Float>.load(from: weightsFile, shape: referenceWeights.shape)
        } catch let error as NeuralLevelsError {
            row.error = "\(name): \(error.description.replacingOccurrences(of: "error: ", with: ""))"
            return row
        } catch {
            row.error = "\(name): \(weightsFile): \(oneLine(error))"
            return row
        }

        row = compare(framework, losses: output.stepLosses, weights: weights, referenceLosses: referenceLosses,
                      referenceWeights: referenceWeights, stepsPerEpoch: stepsPerEpoch, tolerance: tolerance)
        row.versions = output.versions
        row.secondsPerEpoch = output.secondsPerEpoch
        row.samplesPerSecond = output.samplesPerSecond
        row.peakRssMib = output.peakRssMib
        row.testAccuracy = output.epochs.last?.testAccuracy
        row.testR2 = output.epochs.last?.testR2
        return row
    }

    /// The row of a replay that produced `losses` (every step's) and final `weights`: their
    /// differences from the reference's.
    ///
    /// A step fails when `|ℓ − ℓ_ref| > tolerance · |ℓ_ref|` (or either is not finite); a replay
    /// that ran fewer or more steps than the reference fails at the first step only one ran.
    /// Weights: `max|w − w_ref| / max|w_ref|` per tensor, the largest over the six.
    public static func compare(
        _ framework: ReferenceFramework, losses: [Double], weights: NetworkParameters<Float>,
        referenceLosses: [Double], referenceWeights: NetworkParameters<Float>, stepsPerEpoch: Int,
        tolerance: Double = defaultTolerance
    ) -> ReferenceResult {
        var row = ReferenceResult(framework, tolerance: tolerance)
        var maxFirst = 0.0, maxRun = 0.0
        var drift: [Double] = []
        var firstFailing: Int?
        for (index, (loss, reference)) in zip(losses, referenceLosses).enumerated() {
            let difference = abs(loss - reference)
            let relative = reference == 0 ? (difference == 0 ? 0 : .infinity) : difference / abs(reference)
            drift.append(difference)
            if index < stepsPerEpoch { maxFirst = relative.isNaN ? .infinity : max(maxFirst, relative) }
            maxRun = relative.isNaN ? .infinity : max(maxRun, relative)
            if firstFailing == nil && !(relative <= row.tolerance) { firstFailing = index + 1 }
        }
        if firstFailing == nil && losses.count != referenceLosses.count {
            firstFailing = min(losses.count, referenceLosses.count) + 1
        }
        var maxWeight = 0.0
        for ((_, matrix), (_, reference)) in zip(weights.namedTensors, referenceWeights.namedTensors) {
            let scale = reference.storage.reduce(0.0) { max($0, abs(Double($1))) }
            let difference = zip(matrix.storage, reference.storage).reduce(0.0) { max($0, abs(Double($1.0) - Double($1.1))) }
            maxWeight = max(maxWeight, scale == 0 ? difference : difference / scale)
        }
        row.stepsCompared = min(losses.count, referenceLosses.count)
        row.maxRelativeLossDifferenceFirstEpoch = maxFirst
        row.maxRelativeLossDifference = maxRun
        row.maxRelativeWeightDifference = maxWeight
        row.firstFailingStep = firstFailing
        row.drift = drift
        return row
    }

    /// Why a replay was stopped before it ended by itself.
    enum ScriptStop: Equatable {
        /// It ran past the timeout; `stopped` says whether it then ended.
        case timedOut(stopped: Bool)
        /// `shouldStop` asked for it (Ctrl-C).
        case interrupted
    }

    /// Runs `python script arguments…`, with its output in `logDirectory/stdout.txt` and
    /// `stderr.txt`; returns the exit status (minus the signal number when killed), the end of
    /// stderr (its last 64 KiB), and why it was stopped, if it was: after `timeout` seconds, or
    /// when `shouldStop` answers true (asked every 0.1 s). Stopping sends SIGTERM to the
    /// script's whole process group (Foundation starts it in a group of its own, so worker
    /// processes go too, and the terminal's Ctrl-C does not reach it), then SIGKILL 5 s later.
    /// A process the script leaves behind in its group, however it ended, gets SIGKILL.
    static func runScript(python: String, script: String, arguments: [String], logDirectory: String,
                          timeout: Double = defaultTimeout(), shouldStop: () -> Bool = { false }) throws
        -> (status: Int32, stderr: String, stop: ScriptStop?)
    {
        let process = Process()
        if python.contains("/") && !FileManager.default.isExecutableFile(atPath: python) {
            throw LaunchError(reason: FileManager.default.fileExists(atPath: python) ? "not executable" : "no such file")
        }
        if python.contains("/") {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python, script] + arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"          // no __pycache__ in References/
        environment["PYTHONUNBUFFERED"] = "1"
        environment["TF_CPP_MIN_LOG_LEVEL"] = environment["TF_CPP_MIN_LOG_LEVEL"] ?? "2"
        process.environment = environment
        let stdoutPath = (logDirectory as NSString).appendingPathComponent("stdout.txt")
        let stderrPath = (logDirectory as NSString).appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)   // nil handles below say if not
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        guard let out = FileHandle(forWritingAtPath: stdoutPath), let err = FileHandle(forWritingAtPath: stderrPath) else {
            throw LaunchError(reason: "cannot write \(stdoutPath)")
        }
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        /// Sends `number` to the script's process group (or to the script alone, should it
        /// have no group of its own).
        func signalGroup(_ number: Int32) {
            if kill(-process.processIdentifier, number) != 0 { kill(process.processIdentifier, number) }
        }
        let deadline = DispatchTime.now() + timeout
        var stop: ScriptStop?
        var ended = true
        while finished.wait(timeout: .now() + 0.1) == .timedOut {
            if shouldStop() { stop = .interrupted } else if DispatchTime.now() >= deadline { stop = .timedOut(stopped: true) }
            guard stop != nil else { continue }
            signalGroup(SIGTERM)                                   // Python's own clean-up first
            if finished.wait(timeout: .now() + 5) == .timedOut {
                signalGroup(SIGKILL)
                ended = finished.wait(timeout: .now() + 5) == .success
            }
            break
        }
        if ended {
            // Whatever the script left running in its group (a worker it started and did not
            // wait for) ends with it. The group's number stays reserved while a member lives; with
            // none left, the signal finds no group (Linux hands out process numbers in turn, so
            // the script's comes round again only after pid_max others).
            kill(-process.processIdentifier, SIGKILL)
        }
        let stderr = String(decoding: lastBytes(ofFile: stderrPath, count: 1 << 16), as: UTF8.self)
        guard ended else {
            // Not seen to end (a process outside its group holds its pipes): its status cannot
            // be read, and waiting longer would hang compare-levels.
            return (-SIGKILL, stderr, stop == .interrupted ? .interrupted : .timedOut(stopped: false))
        }
        let status = process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
        // `/usr/bin/env` answers 127 when it cannot find the interpreter.
        if !python.contains("/") && status == 127 && stderr.contains("No such file") {
            throw LaunchError(reason: "no \(python) in PATH")
        }
        return (status, stderr, stop)
    }

    /// The last `count` bytes of the file at `path` (all of it when shorter; none when unreadable).
    static func lastBytes(ofFile path: String, count: Int) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd() else { return Data() }
        try? handle.seek(toOffset: end > UInt64(count) ? end - UInt64(count) : 0)
        return (try? handle.readToEnd()) ?? Data()
    }

    /// The first replay that failed or disagreed, as the error compare-levels exits with.
    public static func failure(_ results: [ReferenceResult]) -> NeuralLevelsError? {
        if let failed = results.first(where: { $0.error != nil }), let error = failed.error {
            return .failure(error)
        }
        guard let row = results.first(where: { $0.available && $0.firstFailingStep != nil }),
              let step = row.firstFailingStep else { return nil }
        return .disagreement("\(row.framework) (\(row.script)) differs from the Swift reference first at step \(step), "
            + "beyond relative tolerance \(row.tolerance) (--reference-tolerance)")
    }

    // MARK: Reports

    /// The table compare-levels prints.
    public static func tableText(_ results: [ReferenceResult], task: Task) -> String {
        let metric = task == .classification ? "test acc" : "test R²"
        var lines = ["reference (style mirrored)                      epoch-1 rel.  run rel.  weights rel.  \(metric)  s/epoch  samples/s  RSS MiB"]
        for row in results {
            let label = "\(row.framework) (\(row.style))"
            let padded = label.count >= 46 ? label : label + String(repeating: " ", count: 46 - label.count)
            if !row.available {
                lines.append("\(padded)  not available: \(row.reason ?? "?")")
            } else if row.error != nil {
                lines.append("\(padded)  failed (see the line above)")
            } else {
                let value = task == .classification ? row.testAccuracy : row.testR2
                lines.append(padded + "  " + [
                    scientific(row.maxRelativeLossDifferenceFirstEpoch).padded(12),
                    scientific(row.maxRelativeLossDifference).padded(8),
                    scientific(row.maxRelativeWeightDifference).padded(12),
                    (value.map { format($0, 4) } ?? "—").padded(metric.count),
                    (row.secondsPerEpoch.map { format($0, 3) } ?? "—").padded(7),
                    (row.samplesPerSecond.map { format($0, 0) } ?? "—").padded(9),
                    (row.peakRssMib.map { format($0, 0) } ?? "—").padded(7),
                ].joined(separator: "  ") + (row.firstFailingStep.map { "  differs from step \($0)" } ?? ""))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The replays as a Markdown table (summary.md).
    public static func markdownLines(_ results: [ReferenceResult], task: Task) -> [String] {
        let metric = task == .classification ? "test acc" : "test R²"
        var lines = ["Each script of `References/` trained from the same initial weights on the same batches; "
                     + "differences are relative to the Swift reference's step losses and final weights.", "",
                     "| framework | style | epoch-1 max rel. loss diff | run max rel. loss diff | max rel. weight diff | "
                     + "\(metric) | s/epoch | samples/s | peak RSS MiB | status |",
                     "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for row in results {
            let value = task == .classification ? row.testAccuracy : row.testR2
            let status = !row.available ? "not available: \(row.reason ?? "?")"
                : row.error.map { "failed: \($0)" }
                ?? row.firstFailingStep.map { "**differs from step \($0)**" } ?? "within \(scientific(row.tolerance))"
            lines.append("| \(row.framework) | \(row.style) | \(scientific(row.maxRelativeLossDifferenceFirstEpoch)) | "
                         + "\(scientific(row.maxRelativeLossDifference)) | \(scientific(row.maxRelativeWeightDifference)) | "
                         + "\(value.map { format($0, 4) } ?? "—") | \(row.secondsPerEpoch.map { format($0, 3) } ?? "—") | "
                         + "\(row.samplesPerSecond.map { format($0, 0) } ?? "—") | \(row.peakRssMib.map { format($0, 0) } ?? "—") | "
                         + "\(status) |")
        }
        return lines
    }

    /// `drift.png`: per step, `|ℓ − ℓ_ref|` of every replay that ran, on a log axis. A long run
    /// (more than `maximumPoints` steps) is drawn as the largest difference of each window of
    /// steps, so that seven curves of thousands of steps stay readable; the growth shows as well.
    public static func driftChart(_ results: [ReferenceResult], referenceName: String = "Level 4",
                                  maximumPoints: Int = 600) -> LineChart {
        let shown = results.filter { $0.available && $0.error == nil && !$0.drift.isEmpty }
        let steps = shown.map(\.drift.count).max() ?? 0
        let window = max(1, (steps + maximumPoints - 1) / maximumPoints)
        let series = shown.map { row in
            LineSeries(name: "\(row.framework) − \(referenceName)", points: stride(from: 0, to: row.drift.count, by: window).map {
                let part = row.drift[$0..<min($0 + window, row.drift.count)]
                return (x: Double($0 + part.count), y: part.max() ?? 0)
            })
        }
        let tolerance = results.first?.tolerance ?? defaultTolerance
        var notes: [LineChart.Annotation] = [
            .zeroBand(label: "same bits (difference 0)"),
            .note("same weights, same batches: the differences are rounding (tolerance \(scientific(tolerance)) relative)"),
        ]
        if window > 1 { notes.append(.note("each point: the largest difference of \(window) steps")) }
        return LineChart(
            title: "Drift: |batch loss − \(referenceName)'s| at every step, replayed in the Python frameworks",
            xLabel: "training step", yLabel: "absolute loss difference", yScale: .logarithmic, series: series,
            annotations: notes)
    }

    /// Why the interpreter could not be started.
    struct LaunchError: Error {
        var reason: String
    }

    static func scientific(_ value: Double?) -> String {
        guard let value else { return "—" }
        return value == 0 ? "0" : String(format: "%.1e", value)
    }

    static func oneLine(_ error: Error) -> String {
        "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
    }
}

extension String {
    fileprivate func padded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
