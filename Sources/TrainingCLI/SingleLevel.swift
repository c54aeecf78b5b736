// SingleLevel.swift — what `level1-high-level` … `level4-manual` do: train one level, print,
// and write `Reports/history-levelN.csv`.
//
// Teaches: the executables are thin; the lesson is in each level's library target.
// Leaves out: comparing levels (that is `compare-levels`).

import ArgumentParser
import Foundation
import Shared

/// Prints a ``NeuralLevelsError`` as its one-line message on standard error and returns the
/// exit status of DESIGN.md (64 usage, 65 data/checkpoint, 1 otherwise) for `run()` to throw.
public func reported(_ error: NeuralLevelsError) -> ExitCode {
    FileHandle.standardError.write(Data((error.description + "\n").utf8))
    return ExitCode(error.exitCode)
}

/// Trains one level with the shared loop and writes its history.
///
/// - Parameters:
///   - number: the level, 1–4 (names the history file).
///   - name: printed in the banner, e.g. "Level 4 — manual backprop".
///   - trainLevel: the level's training job (e.g. `ManualNetwork.train`).
public func runSingleLevel(
    number: Int, name: String, options: TrainingOptions,
    trainLevel: (TrainingJob) throws -> TrainedLevel
) throws {
    do {
        let experiment = try Experiment.prepare(options)
        print("\(name): \(experiment.banner)")
        let display = ProgressDisplay(epochs: options.epochs, task: options.task)
        let job = TrainingJob(level: "level \(number)", train: experiment.train, test: experiment.test,
                              initialParameters: experiment.initialParameters, recipe: options.recipe,
                              onEvent: display.handle)
        let trained = try trainLevel(job)
        let result = trained.result
        let historyPath = (options.reportDir as NSString).appendingPathComponent("history-level\(number).csv")
        try AtomicFile.write(string: HistoryCSV.text(result.epochs, task: options.task), to: historyPath)
        let chartPath = (options.reportDir as NSString).appendingPathComponent("level\(number)-loss.png")
        let shortName = name.components(separatedBy: " — ").last ?? name          // "manual backprop"
        let history = LevelHistory(level: number, name: shortName, epochs: result.epochs)
        do { try ReportCharts.loss([history], task: options.task).renderPNG(to: chartPath) } catch {
            throw NeuralLevelsError.failure("cannot write chart \(chartPath): \(error)")
        }
        if let save = options.save { try trained.parameters.save(to: save) }
        if let last = result.epochs.last {
            let seconds = result.epochs.map(\.seconds).sorted()[result.epochs.count / 2]
            let metric = last.testAccuracy.map { "test accuracy \(format($0, 4))" }
                ?? last.testR2.map { "test R² \(format($0, 4))" } ?? ""
            print("done: \(result.epochs.count) epochs, \(metric), median \(format(seconds, 3)) s/epoch "
                  + "(\(Int(Double(experiment.train.count) / seconds)) samples/s); history in \(historyPath)")
        }
        if let error = result.stopError { throw error }
    } catch let error as NeuralLevelsError {
        throw reported(error)
    }
}

/// The per-epoch history as CSV: `epoch,train_loss,test_loss,test_accuracy|test_r2,seconds`.
public enum HistoryCSV {
    public static func text(_ epochs: [EpochRecord], task: Task) -> String {
        let metric = task == .classification ? "test_accuracy" : "test_r2"
        var lines = ["epoch,train_loss,test_loss,\(metric),seconds"]
        for e in epochs {
            let value = (task == .classification ? e.testAccuracy : e.testR2) ?? .nan
            lines.append("\(e.epoch),\(e.trainLoss),\(e.testLoss),\(value),\(e.seconds)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
