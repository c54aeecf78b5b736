// compare-levels — train every style of every level from the same start and prove they agree.
//
//     swift run -c release compare-levels                      # Fashion-MNIST, 10 epochs, 8 styles
//     swift run -c release compare-levels --task regression
//     swift run -c release compare-levels --levels 1           # the three Level 1 styles, checked against keras
//     swift run -c release compare-levels --levels gradient-tape,manual --trace

import ArgumentParser
import Foundation
import LevelComparison
import Shared
import TrainingCLI

struct CompareLevelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-levels",
        abstract: "Train the network in every style, at every level of abstraction, from the same weights and "
            + "batches, verify that they agree, and write Reports/.")

    @OptionGroup var options: TrainingOptions

    @Option(help: ArgumentHelp(
        "Level numbers and/or style ids to run, e.g. 1,modules,gradient-tape (default: every style).",
        discussion: "Styles: " + Style.all.map { "\($0.id) (\($0.level))" }.joined(separator: ", ")
            + ". Every style is compared with manual when it runs, else with the first style of the highest-numbered level run.",
        valueName: "list"))
    var levels: String?

    /// `--levels`' default: every style.
    static let allStyles = Style.all.map(\.id).joined(separator: ",")

    @Option(parsing: .unconditional, help: "Relative tolerance for losses and weights.")
    var tolerance: Double = 1e-5

    @Flag(help: ArgumentHelp("Print the kernel calls of one training step, each once, and under it the construct of "
        + "each style that made it (model.fit → optimizer.step(), loss.backward(): matmul's backward, "
        + "ManualNetwork.swift:55 linearBackward, …)."))
    var trace = false

    @Flag(help: ArgumentHelp("Print every number of one training step on a network small enough to check by hand "
        + "(4 → 3 → 2 → 2, batch of 2), and each style's loss and updated weights beside Level 4's."))
    var explain = false

    @Option(help: ArgumentHelp("Run a classic mistake beside the clean run from the same start; 'list' lists them.",
                               valueName: "name"))
    var mistake: String?

    @Option(help: .hidden)      // test hook: make this style's learning rate differ slightly
    var perturbStyle: String?

    @Flag(help: ArgumentHelp("After the comparison, time every style over --repeats one-epoch rounds, manual "
        + "before and after each (medians, min–max, GFLOP/s, % of ceiling, × manual, peak RSS), and the small "
        + "regression net at batch 32."))
    var benchmark = false

    @Option(help: "Rounds of the benchmark (with --benchmark).")
    var repeats: Int = 5

    // MARK: References: the run replayed in Python frameworks (LevelComparison/References.swift)

    @Flag(help: ArgumentHelp("Replay the run in the Python frameworks of References/ (PyTorch, Lightning, Keras, "
        + "TensorFlow, JAX, NumPy) and compare each with manual."))
    var references = false

    @Option(help: ArgumentHelp("Replays to run with --references: all, or ids like numpy,torch-modules,jax.",
                               valueName: "list"))
    var referenceFrameworks = "all"

    @Option(help: ArgumentHelp("Python for --references (default $NEURAL_LEVELS_PYTHON, else python3).", valueName: "path"))
    var python: String?

    @Option(parsing: .unconditional, help: "Relative step-loss tolerance of the replays (with --references).")
    var referenceTolerance: Double = ReferenceReplay.defaultTolerance

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds each replay may run before it is stopped "
        + "(with --references; default an hour, or a minute per epoch if more).", valueName: "seconds"))
    var referenceTimeout: Double?

    @Option(help: ArgumentHelp("Write the run (recipe, initial weights, batch order) for the replays to this folder "
        + "(default with --references: <report-dir>/run).", valueName: "dir"))
    var exportRun: String?

    var styles: [Style] {
        get throws { try Style.parseList(levels ?? Self.allStyles) }
    }

    func validate() throws {
        _ = try styles
        // --trace and --explain show one step and stop; --mistake runs its own style.
        let oneStep = [("--trace", trace), ("--explain", explain)].filter(\.1).map(\.0)
        if oneStep.count > 1 { throw ValidationError("--trace and --explain: one at a time") }
        if let mode = oneStep.first {
            let ignored = [("--mistake", mistake != nil), ("--benchmark", benchmark), ("--references", references),
                           ("--save", options.save != nil)].filter(\.1).map(\.0)
                + (explain ? [("--export-run", exportRun != nil), ("--save-init", options.saveInit != nil)].filter(\.1).map(\.0) : [])
            if let option = ignored.first {
                throw ValidationError("\(option): not with \(mode), which shows one training step and writes no reports")
            }
        }
        try refuseUnusedOptions(TrainingOptions.givenOptions())
        if !trace && !explain && mistake != "list" {
            let ids = try mistake.flatMap(Mistake.named).map { [$0.style] } ?? styles.map(\.id)
            try options.checkReportDirectory(files: ComparisonOutcome.reportFileNames(styles: ids, task: options.task))
        }
        if let exportRun { try ReportDirectory.checkWritable(exportRun, option: "--export-run") }
        if let mistake, mistake != "list" {
            guard let known = Mistake.named(mistake) else {
                throw ValidationError("--mistake: no mistake '\(mistake)' (see --mistake list): "
                                      + Mistake.all.map(\.id).joined(separator: ", "))
            }
            if let task = known.task, task != options.task {
                throw ValidationError("--mistake \(mistake): only for --task \(task.rawValue)")
            }
        }
        if let mistake, mistake != "list", levels != nil {
            throw ValidationError("--mistake \(mistake): not with --levels; a mistake runs beside the one style it breaks")
        }
        if let perturbStyle, Style.named(perturbStyle) == nil {
            throw ValidationError("--perturb-style: no style '\(perturbStyle)'")
        }
        guard tolerance.isFinite, tolerance >= 0 else {
            throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)")
        }
        do {
            _ = try ReferenceFramework.named(referenceFrameworks)
        } catch let error as NeuralLevelsError {
            throw ValidationError(error.description.replacingOccurrences(of: "error: ", with: ""))
        }
        if let referenceTimeout, !(referenceTimeout.isFinite && referenceTimeout > 0 && referenceTimeout <= 1e7) {
            throw ValidationError("--reference-timeout must be between 0 and 10000000 seconds, got \(referenceTimeout)")
        }
        guard referenceTolerance.isFinite, referenceTolerance >= 0 else {
            throw ValidationError("--reference-tolerance must be a finite number ≥ 0, got \(referenceTolerance)")
        }
        guard (1...1000).contains(repeats) else {
            throw ValidationError("--repeats must be between 1 and 1000, got \(repeats)")
        }
    }

    /// Refuses (exit 64) an option given on the command line that the chosen mode would ignore:
    /// anything but `--mistake` with `--mistake list`; with `--explain`, anything but the task,
    /// seed, learning rate and styles of its built-in network and batch; `--tolerance` with a
    /// mistake, which compares no styles; with `--trace`, the
    /// options of the epochs and reports it does not run (`--epochs` counts with `--export-run`,
    /// which writes that many epochs' batch order); `--repeats` without `--benchmark`; the
    /// replays' options without `--references`.
    func refuseUnusedOptions(_ given: [String]) throws {
        func first(_ options: Set<String>) -> String? { given.first(where: options.contains) }
        func firstExcept(_ options: Set<String>) -> String? { given.first { !options.contains($0) } }
        if mistake == "list", let option = firstExcept(["--mistake"]) {
            throw ValidationError("\(option): not with --mistake list, which only lists the mistakes")
        }
        if explain, let option = firstExcept(["--explain", "--task", "--seed", "--learning-rate", "--levels"]) {
            throw ValidationError("\(option): not with --explain, which uses only --task, --seed, --learning-rate "
                                  + "and --levels (its network and batch are built in)")
        }
        let replays: Set<String> = ["--reference-frameworks", "--python", "--reference-tolerance", "--reference-timeout"]
        // (--trace with --export-run exports the run of --epochs epochs.)
        if trace, let option = first(replays.union(["--report-dir", "--tolerance", "--repeats"]
                                                   + (exportRun == nil ? ["--epochs"] : []))) {
            throw ValidationError("\(option): not with --trace, which shows one training step and writes no reports")
        }
        if let mistake, mistake != "list", let option = first(["--tolerance"]) {
            throw ValidationError("\(option): not with --mistake, which runs one style beside its clean run and compares no styles")
        }
        if !benchmark, let option = first(["--repeats"]) {
            throw ValidationError("\(option): only with --benchmark")
        }
        if !references, let option = first(replays) {
            throw ValidationError("\(option): only with --references")
        }
    }

    func run() throws {
        Interruption.install()
        do {
            if mistake == "list" {
                print(Mistake.listText)
                return
            }
            if explain {                        // no data set needed: the network and batch are built in
                print(try Explanation.text(task: options.task, seed: options.seed, learningRate: options.learningRate,
                                           styles: try styles))
                return
            }
            let loadStart = DispatchTime.now().uptimeNanoseconds
            let chosenStyles = try self.styles, mistake = self.mistake.flatMap(Mistake.named)
            let experiment = try Experiment.prepare(options) { rows, inputValues in
                // Each style's result is kept for the comparison; a mistake may keep more.
                var need = MemoryBudget.Need(rows: rows, weightCopies: 4 + chosenStyles.count + (mistake == nil ? 0 : 2))
                mistake?.addMemory(to: &need, inputValues: inputValues)
                return need
            }
            let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
            // Checked before the banner, so that a signal after the banner always lands in training.
            if Interruption.isRequested { throw Interruption.reportedStop("before training started; \(options.writtenBeforeTraining)") }
            print("compare-levels: \(experiment.banner)")
            fflush(nil)         // seen at once through a pipe (`| tee`), before the first epoch ends
            Interruption.trainingBegins()
            let styles = mistake.map { [Style.named($0.style)].compactMap { $0 } } ?? chosenStyles
            let exportDirectory = exportRun ?? (references ? (options.reportDir as NSString).appendingPathComponent("run") : nil)
            if let exportDirectory {
                try ReferenceReplay.export(experiment: experiment, to: exportDirectory)
                print("Run exported for the replays: \(exportDirectory)")
            }
            if trace {
                let traces = try Comparison.traceFirstStep(experiment, styles: styles)
                print("")
                print(Comparison.traceText(traces))
                return
            }
            let settings = ComparisonSettings(styles: styles, tolerance: tolerance, perturbedStyle: perturbStyle)
            var outcome = try Comparison.run(experiment, settings: settings, shouldStop: { Interruption.isRequested })
            print("\n" + outcome.tableText)
            if let mistake, !Interruption.isRequested, let clean = outcome.runs.first {
                print("\nNow the same run with the mistake …")
                let display = ProgressDisplay(epochs: options.epochs, task: options.task)
                let job = TrainingJob(style: mistake.style, train: experiment.train, test: experiment.test,
                                      initialParameters: experiment.initialParameters, recipe: options.recipe,
                                      shouldStop: { Interruption.isRequested }, onEvent: display.handle)
                outcome.mistake = try MistakeReport.run(mistake, job: job, clean: clean.trained)
                print("\n" + (outcome.mistake?.text ?? ""))
            }
            if benchmark && !Interruption.isRequested && outcome.failure == nil {
                outcome.benchmark = try Benchmark.run(
                    experiment, styles: styles, settings: BenchmarkSettings(repeats: repeats),
                    dataLoadSeconds: loadSeconds, shouldStop: { Interruption.isRequested })
                if let report = outcome.benchmark { print("\n" + report.text) }
            }
            if references, let exportDirectory, !Interruption.isRequested, outcome.failure == nil,
               let reference = outcome.runs.first(where: { $0.style.id == outcome.reference.id }) {
                print("\nReplaying the run in the Python frameworks of References/ …")
                outcome.references = ReferenceReplay.run(
                    frameworks: try ReferenceFramework.named(referenceFrameworks),
                    python: ReferenceReplay.python(python), exportDirectory: exportDirectory,
                    referenceLosses: reference.trained.result.stepLosses, referenceWeights: reference.trained.parameters,
                    tolerance: referenceTolerance,
                    timeout: referenceTimeout ?? ReferenceReplay.defaultTimeout(epochs: options.epochs),
                    shouldStop: { Interruption.isRequested })
                print("\n" + ReferenceReplay.tableText(outcome.references ?? [], task: options.task))
            }
            // Ctrl-C / SIGTERM or a divergence: write what completed (atomically), unless nothing did.
            let interrupted = Interruption.isRequested
            if outcome.runs.allSatisfy({ $0.trained.result.epochs.isEmpty }) {
                let kept = "no epoch completed, so no report was written in \(options.reportDir)"
                if interrupted { throw Interruption.reportedStop("\(stopDetail(outcome, styles: styles)); " + kept) }
                if let failure = outcome.failure { throw failure.noting(kept) }
            }
            let files = try outcome.writeReports(to: options.reportDir)
            print("\nReports: \(files.map { (options.reportDir as NSString).appendingPathComponent($0) }.joined(separator: ", "))")
            if interrupted {
                throw Interruption.reportedStop(
                    "\(stopDetail(outcome, styles: styles)); what completed is in "
                        + (options.reportDir as NSString).appendingPathComponent("summary.json"))
            }
            if let failure = outcome.failure { throw failure }
            // `--save`: the trained weights of the reference (the others agree with them),
            // written only by a comparison that ran to the end and passed.
            if let save = options.save,
               let reference = outcome.runs.first(where: { $0.style.id == outcome.reference.id }) {
                try reference.trained.parameters.save(to: save)
                print("Trained weights of \(outcome.reference.label): \(save)")
            }
            print(outcome.mistake.map { "\(outcome.reference.label) ran clean and with the mistake \($0.mistake); "
                    + "where the two part is above." }
                ?? (outcome.runs.count == 1 ? "One style run: \(outcome.reference.label); nothing to compare."
                : outcome.bitwiseIdentical
                ? "All \(outcome.runs.count) styles are bitwise identical to \(outcome.reference.label)."
                : "All \(outcome.runs.count) styles agree with \(outcome.reference.label) within relative tolerance \(tolerance)."))
            if let failure = ReferenceReplay.failure(outcome.references ?? []) { throw failure }
        } catch let error as NeuralLevelsError {
            throw reported(error)
        }
    }

    /// Where an interrupted comparison stopped: "modules stopped at epoch 3, step 17 (after that
    /// step); autograd, gradient-tape, manual not run".
    func stopDetail(_ outcome: ComparisonOutcome, styles: [Style]) -> String {
        guard let last = outcome.runs.last else { return "before training started" }
        var text = Interruption.position(in: last.trained.result.stopError)
            .map { "\(last.style.id) stopped \($0) (after that step)" }
            ?? "after \(last.style.id) finished"
        let notRun = styles.map(\.id).drop { $0 != last.style.id }.dropFirst()
        if !notRun.isEmpty { text += "; \(notRun.joined(separator: ", ")) not run" }
        return text
    }
}

CompareLevelsCommand.mainWithOneLineErrors()
