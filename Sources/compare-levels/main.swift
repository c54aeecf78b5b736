// compare-levels — train every level from the same start and prove they agree.
//
//     swift run -c release compare-levels                      # Fashion-MNIST, 10 epochs
//     swift run -c release compare-levels --task regression
//     swift run -c release compare-levels --levels 3,4 --epochs 2 --trace

import ArgumentParser
import Foundation
import LevelComparison
import Shared
import TrainingCLI

struct CompareLevelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-levels",
        abstract: "Train the network at every level of abstraction from the same weights and batches, "
            + "verify that they agree, and write Reports/.")

    @OptionGroup var options: TrainingOptions

    @Option(help: ArgumentHelp("Levels to run, e.g. 1,2,3,4 (the lowest level run is the reference).",
                               valueName: "list"))
    var levels: String = "1,2,3,4"

    @Option(parsing: .unconditional, help: "Relative tolerance for losses and weights.")
    var tolerance: Double = 1e-5

    @Flag(help: "Print the kernel calls of one training step of every level, side by side.")
    var trace = false

    @Option(help: .hidden)      // test hook: make this level's learning rate differ slightly
    var perturbLevel: Int?

    @Flag(help: ArgumentHelp("After the comparison, time every level over --repeats interleaved one-epoch rounds "
        + "(medians, min–max, GFLOP/s, % of ceiling, peak RSS) and the small regression net at batch 32."))
    var benchmark = false

    @Option(help: "Rounds of the benchmark (with --benchmark).")
    var repeats: Int = 5

    // MARK: References: the run replayed in Python frameworks (LevelComparison/References.swift)

    @Flag(help: ArgumentHelp("Replay the run in the Python frameworks of References/ (PyTorch, Lightning, Keras, "
        + "TensorFlow, JAX, NumPy) and compare each with Level 4."))
    var references = false

    @Option(help: ArgumentHelp("Replays to run with --references: all, or ids like numpy,torch-modules,jax.",
                               valueName: "list"))
    var referenceFrameworks = "all"

    @Option(help: ArgumentHelp("Python for --references (default $NEURAL_LEVELS_PYTHON, else python3).", valueName: "path"))
    var python: String?

    @Option(parsing: .unconditional, help: "Relative step-loss tolerance of the replays (with --references).")
    var referenceTolerance: Double = ReferenceReplay.defaultTolerance

    @Option(help: ArgumentHelp("Write the run (recipe, initial weights, batch order) for the replays to this folder "
        + "(default with --references: <report-dir>/run).", valueName: "dir"))
    var exportRun: String?

    var levelNumbers: [Int] {
        get throws {
            let parts = levels.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = parts.compactMap { Int($0) }
            guard !parts.isEmpty, numbers.count == parts.count, numbers.allSatisfy({ (1...4).contains($0) }) else {
                throw ValidationError("--levels: expected level numbers from 1 to 4 like 1,2,3,4, got '\(levels)'")
            }
            guard Set(numbers).count == numbers.count else {
                throw ValidationError("--levels: '\(levels)' names a level twice")
            }
            let missing = numbers.filter { Level.numbered($0) == nil }
            guard missing.isEmpty else {
                throw ValidationError("--levels: level \(missing.map(String.init).joined(separator: ", ")) is not built yet")
            }
            return numbers
        }
    }

    func validate() throws {
        _ = try levelNumbers
        guard tolerance.isFinite, tolerance >= 0 else {
            throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)")
        }
        do {
            _ = try ReferenceFramework.named(referenceFrameworks)
        } catch let error as NeuralLevelsError {
            throw ValidationError(error.description.replacingOccurrences(of: "error: ", with: ""))
        }
        guard referenceTolerance.isFinite, referenceTolerance >= 0 else {
            throw ValidationError("--reference-tolerance must be a finite number ≥ 0, got \(referenceTolerance)")
        }
        guard (1...1000).contains(repeats) else {
            throw ValidationError("--repeats must be between 1 and 1000, got \(repeats)")
        }
    }

    func run() throws {
        Interruption.install()
        do {
            let loadStart = DispatchTime.now().uptimeNanoseconds
            let experiment = try Experiment.prepare(options)
            let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
            // Checked before the banner, so that a signal after the banner always lands in training.
            if Interruption.isRequested { throw Interruption.reportedStop("before training started; nothing written") }
            print("compare-levels: \(experiment.banner)")
            fflush(nil)         // seen at once through a pipe (`| tee`), before the first epoch ends
            let numbers = try levelNumbers
            let exportDirectory = exportRun ?? (references ? (options.reportDir as NSString).appendingPathComponent("run") : nil)
            if let exportDirectory {
                try ReferenceReplay.export(experiment: experiment, to: exportDirectory)
                print("Run exported for the replays: \(exportDirectory)")
            }
            if trace {
                let traces = try Comparison.traceFirstStep(experiment, levels: numbers.compactMap(Level.numbered))
                print("\nKernel calls of the first training step:\n")
                print(Comparison.traceText(traces))
                return
            }
            let settings = ComparisonSettings(levels: numbers, tolerance: tolerance, perturbedLevel: perturbLevel)
            var outcome = try Comparison.run(experiment, settings: settings, shouldStop: { Interruption.isRequested })
            print("\n" + outcome.tableText)
            if benchmark && !Interruption.isRequested && outcome.failure == nil {
                outcome.benchmark = try Benchmark.run(
                    experiment, levels: numbers.compactMap(Level.numbered), settings: BenchmarkSettings(repeats: repeats),
                    dataLoadSeconds: loadSeconds, shouldStop: { Interruption.isRequested })
                if let report = outcome.benchmark { print("\n" + report.text) }
            }
            if references, let exportDirectory, !Interruption.isRequested, outcome.failure == nil,
               let reference = outcome.runs.first(where: { $0.level.id == outcome.referenceLevel }) {
                print("\nReplaying the run in the Python frameworks of References/ …")
                outcome.references = ReferenceReplay.run(
                    frameworks: try ReferenceFramework.named(referenceFrameworks),
                    python: ReferenceReplay.python(python), exportDirectory: exportDirectory,
                    referenceLosses: reference.trained.result.stepLosses, referenceWeights: reference.trained.parameters,
                    tolerance: referenceTolerance)
                print("\n" + ReferenceReplay.tableText(outcome.references ?? [], task: options.task))
            }
            // Ctrl-C / SIGTERM: write what completed (atomically), unless nothing did.
            let interrupted = Interruption.isRequested
            if interrupted && outcome.runs.allSatisfy({ $0.trained.result.epochs.isEmpty }) {
                throw Interruption.reportedStop(
                    "\(stopDetail(outcome, levels: numbers)); no epoch completed, so \(options.reportDir) was left as it was")
            }
            let files = try outcome.writeReports(to: options.reportDir)
            print("\nReports: \(files.map { (options.reportDir as NSString).appendingPathComponent($0) }.joined(separator: ", "))")
            if interrupted {
                throw Interruption.reportedStop(
                    "\(stopDetail(outcome, levels: numbers)); what completed is in "
                        + (options.reportDir as NSString).appendingPathComponent("summary.json"))
            }
            if let failure = outcome.failure { throw failure }
            // `--save`: the trained weights of the reference level (the others agree with them),
            // written only by a comparison that ran to the end and passed.
            if let save = options.save,
               let reference = outcome.runs.first(where: { $0.level.id == outcome.referenceLevel }) {
                try reference.trained.parameters.save(to: save)
                print("Trained weights of Level \(outcome.referenceLevel): \(save)")
            }
            print(outcome.bitwiseIdentical
                ? "All levels are bitwise identical to Level \(outcome.referenceLevel)."
                : "All levels agree with Level \(outcome.referenceLevel) within relative tolerance \(tolerance).")
            if let failure = ReferenceReplay.failure(outcome.references ?? []) { throw failure }
        } catch let error as NeuralLevelsError {
            throw reported(error)
        }
    }

    /// Where an interrupted comparison stopped: "level 2 stopped at epoch 3, step 17 (after that
    /// step); levels 3, 4 not run".
    func stopDetail(_ outcome: ComparisonOutcome, levels: [Int]) -> String {
        guard let last = outcome.runs.last else { return "before training started" }
        var text = Interruption.position(in: last.trained.result.stopError)
            .map { "level \(last.level.id) stopped \($0) (after that step)" }
            ?? "after level \(last.level.id) finished"
        let notRun = levels.drop { $0 != last.level.id }.dropFirst()
        if !notRun.isEmpty {
            text += "; level\(notRun.count == 1 ? "" : "s") \(notRun.map(String.init).joined(separator: ", ")) not run"
        }
        return text
    }
}

CompareLevelsCommand.mainWithOneLineErrors()
