// DivergenceTests.swift — a learning rate that makes the loss overflow: caught at the step it
// happens, one line naming the level, epoch and step with a hint, the completed epochs still
// written, no checkpoint overwritten, exit status 1 — and never a crash, even in the report.
//
// Teaches: divergence is a result to report, not a failure of the program.
// Leaves out: choosing a good learning rate.

import Foundation
import Level4Manual
import Shared
import TestSupport
import Testing

/// `error: STYLE diverged at epoch E, step S: loss is inf; try a lower --learning-rate`, and
/// `NOTE` after it when the run wrote nothing.
func isDivergenceLine(_ line: Substring, style: String, note: String = "") -> Bool {
    guard line.hasSuffix(note), let match = line.dropLast(note.count).wholeMatch(
        of: #/error: ([a-z-]+) diverged at epoch \d+, step \d+: loss is (-?inf|nan)[^;]*; try a lower --learning-rate/#)
    else { return false }
    return String(match.output.1) == style
}

@Suite("Reliability: divergence")
struct DivergenceTests {
    @Test("level4-manual --learning-rate 50: one line with level, epoch, step and hint; exit 1; no epoch, so the reports and --save are left as they were")
    func singleLevel() throws {
        let scratch = try ScratchFolder()
        let weights = try scratch.write([42], to: "previous.safetensors")   // a checkpoint from before
        try FileManager.default.createDirectory(atPath: scratch.path("reports"), withIntermediateDirectories: true)
        let history = try scratch.write(Array("an earlier run's history\n".utf8), to: "reports/history-manual.csv")
        let output = try run("level4-manual", ["--task", "regression", "--learning-rate", "50", "--epochs", "3",
                                               "--report-dir", scratch.path("reports"), "--save", weights])
        #expect(output.status == 1 && !output.endedBySignal, "\(output.standardError)")
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        #expect(output.errorLines.first.map { isDivergenceLine($0, style: "manual", note: "; no epoch completed, so \(history) was left as it was") } == true,
                "\(output.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("reports")) == ["history-manual.csv"])
        #expect(try String(contentsOfFile: history, encoding: .utf8) == "an earlier run's history\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: weights)) == Data([42]), "diverged weights replaced --save")
    }

    @Test("divergence after a completed epoch: that epoch is in the history, the step is in the message")
    func afterCompletedEpochs() throws {
        let scratch = try ScratchFolder()
        let output = try run("level4-manual", ["--task", "regression", "--learning-rate", "2", "--epochs", "10",
                                               "--train-limit", "2000", "--test-limit", "200",
                                               "--report-dir", scratch.path("reports")])
        #expect(output.status == 1, "\(output.standardError)")
        #expect(output.errorLines.count == 1)
        // Where it diverges, from the same run in this process (the library, not the executable).
        let data = SyntheticRegression.make(seed: 42, as: Float.self)
        let job = TrainingJob(style: "manual", train: data.train.prefix(2000), test: data.test.prefix(200),
                              initialParameters: .glorotNormal(shape: .standard(for: .regression), seed: 42),
                              recipe: Recipe(epochs: 10, batchSize: 64, learningRate: 2, seed: 42, shuffle: true))
        let expected = try #require(try ManualNetwork.run(job).result.stopError)
        guard case let .diverged(_, epoch, _, _) = expected else { Issue.record("\(expected)"); return }
        #expect(epoch >= 2, "the history below needs a completed epoch: \(expected)")
        #expect(output.standardError == expected.description + "\n", "\(output.standardError)")
        let rows = try String(contentsOfFile: scratch.path("reports/history-manual.csv"), encoding: .utf8)
            .split(separator: "\n")
        #expect(rows.count == epoch && rows[1].hasPrefix("1,"), "\(rows)")
    }

    @Test("an update that overflows on the epoch's last step is caught by the evaluation, not trained on")
    func lastStepOverflow() throws {
        let scratch = try ScratchFolder()
        // One step per epoch: its loss is computed before the update, so only the test loss
        // after the epoch shows the overflow.
        let output = try run("level4-manual", ["--task", "regression", "--learning-rate", "1e30", "--epochs", "3",
                                               "--train-limit", "64", "--report-dir", scratch.path("reports")])
        #expect(output.status == 1, "\(output.standardError)")
        #expect(output.standardError == "error: manual diverged at epoch 1, step 1: loss is inf on the test set "
                + "after the update; try a lower --learning-rate\n")
        let rows = try String(contentsOfFile: scratch.path("reports/history-manual.csv"), encoding: .utf8)
            .split(separator: "\n")
        #expect(rows.count == 2 && rows[1].hasPrefix("1,") && rows[1].contains(",inf,"), "\(rows)")
    }

    @Test("compare-levels diverging in the first epoch: the table prints, the report folder is left as it was, exit 1")
    func compareLevelsFirstEpoch() throws {
        let scratch = try ScratchFolder()
        let reports = scratch.path("reports")
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        let summary = try scratch.write(Array("{}".utf8), to: "reports/summary.json")      // an earlier run's
        let output = try run("compare-levels", ["--task", "regression", "--levels", "autograd,manual", "--learning-rate", "50",
                                                "--epochs", "3", "--report-dir", reports])
        #expect(output.status == 1 && !output.endedBySignal, "\(output.standardError)")
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        #expect(output.errorLines.first.map { isDivergenceLine($0, style: "autograd", note: "; no epoch completed, so no report was written in \(reports)") } == true,
                "\(output.standardError)")
        // The table still prints; a level with no completed epoch shows dashes, not "nan".
        let rows = output.standardOutput.split(separator: "\n")
            .filter { $0.hasPrefix("Level ") && ($0.contains("reference") || $0.contains("bitwise identical")) }
        #expect(rows.count == 2 && rows.allSatisfy { !$0.contains("nan") && $0.contains("—") }, "\(output.standardOutput)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: reports) == ["summary.json"])
        #expect(try String(contentsOfFile: summary, encoding: .utf8) == "{}")
    }

    @Test("compare-levels diverging after a completed epoch: report written, every level stopped at the same step, exit 1")
    func compareLevels() throws {
        let scratch = try ScratchFolder()
        let reports = scratch.path("reports")
        let output = try run("compare-levels", ["--task", "regression", "--levels", "autograd,manual", "--learning-rate", "2",
                                                "--epochs", "10", "--train-limit", "2000", "--test-limit", "200",
                                                "--report-dir", reports])
        #expect(output.status == 1 && !output.endedBySignal, "\(output.standardError)")
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        #expect(output.errorLines.first.map { isDivergenceLine($0, style: "autograd") } == true, "\(output.standardError)")

        let data = try Data(contentsOf: URL(fileURLWithPath: reports + "/summary.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let levels = try #require(summary["levels"] as? [[String: Any]])
        let stops = levels.compactMap { $0["stopped"] as? String }
        #expect(stops.count == 2 && stops.allSatisfy { $0.contains("diverged at epoch") && !$0.contains("epoch 1,") },
                "\(stops)")
        // The same step in both levels: they computed the same (overflowing) numbers.
        let steps = Set(stops.map { $0.replacingOccurrences(of: #"^error: [a-z-]+ "#, with: "", options: .regularExpression) })
        #expect(steps.count == 1, "\(stops)")
        let agreement = try #require(summary["agreement"] as? [String: Any])
        #expect(agreement["bitwise_identical"] as? Bool == true)
        for file in ["summary.md", "history-autograd.csv", "history-manual.csv", "loss.png", "regression-4d.png"] {
            #expect(FileManager.default.fileExists(atPath: reports + "/" + file), "\(file)")
        }
    }
}
