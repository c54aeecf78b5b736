// SingleLevel.swift — what `level1-high-level` … `level4-manual` do: train one style, print,
// and write `Reports/history-<style>.csv` and its charts.
//
// Teaches: the executables are thin; the lesson is in each level's library target.
// Leaves out: comparing levels (that is `compare-levels`).

import ArgumentParser
import Foundation
import Shared

/// Prints a `NeuralLevelsError` as its one-line message on standard error and returns the
/// exit status (64 usage, 65 data/checkpoint, 1 otherwise; docs/design.md) for `run()` to throw.
public func reported(_ error: NeuralLevelsError) -> ExitCode {
    printToStandardError(error.description)
    return ExitCode(error.exitCode)
}

/// Trains one style with its own loop and writes its history and charts.
///
/// Ctrl-C or SIGTERM stops training after the current step (see ``Interruption``); the epochs
/// completed are written and the process exits 130 (SIGINT) or 143 (SIGTERM). A diverged run
/// writes its completed epochs and exits 1. A run that completed no epoch writes nothing, and
/// `--save` is written only by a run that trained to the end.
///
/// - Parameters:
///   - level: the level, 1–4.
///   - style: the style's id, e.g. "manual" (names the files: `history-manual.csv`, …).
///   - title: printed in the banner, e.g. "Level 4 — the chain rule by hand".
///   - options: the shared command-line options.
///   - run: the style's training job (e.g. `ManualNetwork.run`).
public func runSingleLevel(
    level: Int, style: String, title: String, options: TrainingOptions,
    run: (TrainingJob) throws -> TrainedLevel
) throws {
    Interruption.install()
    // The report's files, checked before any work and written after training.
    let (historyFile, lossChart, metricChart, regressionChart) = (
        "history-\(style).csv", "\(style)-loss.png", "\(style)-\(ReportCharts.metricFileName(options.task))",
        "\(style)-regression-4d.png")
    try options.checkReportDirectory(files: [historyFile, lossChart, metricChart, regressionChart])
    do {
        let experiment = try Experiment.prepare(options)
        // Checked before the banner, so that a signal after the banner always lands in training.
        if Interruption.isRequested { throw Interruption.reportedStop("before training started; \(options.writtenBeforeTraining)") }
        print("\(title): \(experiment.banner)")
        fflush(nil)             // seen at once through a pipe (`| tee`), before the first epoch ends
        Interruption.trainingBegins()
        let display = ProgressDisplay(epochs: options.epochs, task: options.task)
        let job = TrainingJob(style: style, train: experiment.train, test: experiment.test,
                              initialParameters: experiment.initialParameters, recipe: options.recipe,
                              shouldStop: { Interruption.isRequested }, onEvent: display.handle)
        let trained = try run(job)
        let result = trained.result
        let interrupted = Interruption.isRequested
        func path(_ name: String) -> String { (options.reportDir as NSString).appendingPathComponent(name) }
        let historyPath = path(historyFile)
        // A run that completed no epoch (stopped, or diverged in its first) has nothing to
        // report: the previous files stay.
        if result.epochs.isEmpty {
            let kept = "no epoch completed, so \(historyPath) was left as it was"
            if interrupted {
                throw Interruption.reportedStop(
                    "stopped \(Interruption.position(in: result.stopError) ?? "during training") (after that step); " + kept)
            }
            if let error = result.stopError { throw error.noting(kept) }
        }
        try ReportDirectory.create(options.reportDir)
        try AtomicFile.write(string: HistoryCSV.text(result.epochs, task: options.task), to: historyPath)
        let history = StyleHistory(level: level, style: style, epochs: result.epochs)
        var charts: [ReportCharts.File] = [
            (lossChart, { try ReportCharts.loss([history], task: options.task).renderPNG(to: $0) }),
            (metricChart, {
                try ReportCharts.metric([history], task: options.task).renderPNG(to: $0)
            }),
        ]
        if options.task == .regression {
            charts.append((regressionChart, {
                try ReportCharts.regressionFigure(test: experiment.test, weights: trained.parameters,
                                                  label: history.label).renderPNG(to: $0)
            }))
        }
        _ = try ReportCharts.write(charts, in: options.reportDir)
        // Only a run that trained to the end saves its weights: a diverged or interrupted run
        // must not replace a good checkpoint with non-finite or half-trained weights.
        if let save = options.save, result.stopError == nil { try trained.parameters.save(to: save) }
        if let last = result.epochs.last {
            let seconds = result.epochs.map(\.seconds).sorted()[result.epochs.count / 2]
            let rate = seconds > 0 ? Double(experiment.train.count) / seconds : 0
            let metric = last.testAccuracy.map { "test accuracy \(format($0, 4))" }
                ?? last.testR2.map { "test R² \(format($0, 4))" } ?? ""
            print("done: \(result.epochs.count) epoch\(result.epochs.count == 1 ? "" : "s"), \(metric), median \(format(seconds, 3)) s/epoch "
                  + "(\(rate.isFinite ? Int(rate) : 0) samples/s); history in \(historyPath)")
        }
        if interrupted {
            let position = Interruption.position(in: result.stopError).map { "stopped \($0) (after that step)" }
                ?? "after training finished"
            let count = result.epochs.count
            throw Interruption.reportedStop(
                "\(position); \(count) completed epoch\(count == 1 ? "" : "s") in \(historyPath)"
                    + (options.save != nil && result.stopError != nil ? "; --save not written" : ""))
        }
        if let error = result.stopError { throw error }
    } catch let error as NeuralLevelsError {
        throw reported(error)
    }
}

/// The per-epoch history as CSV:
/// `epoch,train_loss,train_accuracy|train_r2,test_loss,test_accuracy|test_r2,seconds`.
public enum HistoryCSV {
    public static func text(_ epochs: [EpochRecord], task: Task) -> String {
        let metric = task == .classification ? "accuracy" : "r2"
        var lines = ["epoch,train_loss,train_\(metric),test_loss,test_\(metric),seconds"]
        for e in epochs {
            let train = (task == .classification ? e.trainAccuracy : e.trainR2) ?? .nan
            let test = (task == .classification ? e.testAccuracy : e.testR2) ?? .nan
            lines.append("\(e.epoch),\(e.trainLoss),\(train),\(e.testLoss),\(test),\(e.seconds)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Writes `line` and a newline to standard error. A closed or full standard error
/// (`2>&-`, `2>/dev/full`) loses the line but is not an error (the older `FileHandle.write(_:)`
/// traps on it).
public func printToStandardError(_ line: String) {
    try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
}

extension ParsableCommand {
    /// Like `main()`, except that a command-line error is one line on standard error
    /// (`error: --epochs must be …`) with exit status 64, as docs/design.md says, instead of the
    /// message followed by the usage. `--help` still prints the help, and errors that `run()`
    /// already reported (an `ExitCode`) just set the exit status. The process then ends with
    /// ``endProcess(_:)``.
    public static func mainWithOneLineErrors() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            endProcess(0)
        } catch let code as ExitCode {
            endProcess(code.rawValue)                          // already reported by run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {                              // --help: the help, on standard output
                print(fullMessage(for: error))
            } else {
                let text = message(for: error)                 // some errors' descriptions start "error: " already
                printToStandardError((text.hasPrefix("error: ") ? "" : "error: ") + text)
            }
            endProcess(code.rawValue)
        }
    }
}

/// Ends the process with `status` once standard output and error are flushed, without running
/// the libraries' exit handlers. OpenBLAS's handler joins the worker threads it starts when it
/// loads (this program computes on its own threads and never gives them work); under a tight
/// `ulimit -v` such a worker cannot get its 128 MB buffer and retries forever, so `exit` would
/// never return. Every file this program writes is complete (renamed into place) before this.
public func endProcess(_ status: Int32) -> Never {
    fflush(nil)
    _exit(status)
}
