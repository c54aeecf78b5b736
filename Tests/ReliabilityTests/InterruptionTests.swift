// InterruptionTests.swift — Ctrl-C, SIGTERM and SIGKILL sent to running executables: a clean
// stop after the current step, what is done written, exit 130 / 143; and a report folder that
// holds a good report is never left with a half-written file, whatever the signal and moment.
//
// Teaches: how to test signal handling — start the real program, wait for a line it prints,
// signal it, then judge the exit status and the files.
// Leaves out: terminals (Ctrl-C there sends SIGINT to the whole process group; here the signal
// goes to the one process, which is what the handler sees either way).

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A long classification run: 50 epochs of 20,000 samples, far more than any test waits for.
let longRun = ["--epochs", "50", "--train-limit", "20000", "--test-limit", "1000"]

/// The JSON object in `path`, or nil if it does not parse (a half-written file would not).
func jsonObject(at path: String) -> [String: Any]? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}

@Suite("Reliability: Ctrl-C, SIGTERM, SIGKILL", .serialized)
struct InterruptionTests {
    @Test("level4-manual + SIGINT after the first epoch: stops after that step, writes the history, exit 130")
    func singleLevelSIGINT() throws {
        let scratch = try ScratchFolder()
        let weights = scratch.path("trained.safetensors")
        let process = try RunningProcess("level4-manual", longRun + ["--report-dir", scratch.path("reports"), "--save", weights])
        defer { process.stopIfRunning() }            // a failed #require must not leave it training
        try #require(process.waitForLine(startingWith: "epoch 1/50"), "no epoch line: \(process.standardOutputSoFar)")
        process.send(SIGINT)
        let output = process.finish()

        #expect(output.status == 130 && !output.endedBySignal, "\(output.standardError)")
        #expect(output.standardError.contains("stopping after the current step"))
        let last = try #require(output.errorLines.last)
        #expect(last.hasPrefix("interrupted by SIGINT: stopped at epoch "), "\(last)")
        #expect(last.contains("(after that step);") && last.contains("history-manual.csv"), "\(last)")
        #expect(last.hasSuffix("; --save not written"), "\(last)")

        let rows = try String(contentsOfFile: scratch.path("reports/history-manual.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds")
        #expect((2..<51).contains(rows.count), "\(rows.count) rows")           // 1 to 49 completed epochs
        #expect(rows.dropFirst().enumerated().allSatisfy { $1.hasPrefix("\($0 + 1),") })
        #expect(!FileManager.default.fileExists(atPath: weights), "a half-trained --save was written")
    }

    @Test("compare-levels + SIGTERM over a good report: summary of what completed, complete files, exit 143")
    func compareLevelsSIGTERM() throws {
        let scratch = try goodReports()
        let reports = scratch.path("reports")

        let process = try RunningProcess("compare-levels", ["--levels", "autograd,manual", "--report-dir", reports] + longRun)
        defer { process.stopIfRunning() }            // a failed #require must not leave it training
        try #require(process.waitForLine(startingWith: "epoch 1/50"), "no epoch line: \(process.standardOutputSoFar)")
        process.send(SIGTERM)
        let output = process.finish()

        #expect(output.status == 143 && !output.endedBySignal, "\(output.standardError)")
        // A SIGTERM comes from `kill`, not the keyboard: the notice does not mention Ctrl-C.
        #expect(output.standardError.contains("stopping after the current step (send the signal again to quit at once)"),
                "\(output.standardError)")
        let last = try #require(output.errorLines.last)
        #expect(last.hasPrefix("interrupted by SIGTERM: autograd stopped at epoch "), "\(last)")
        #expect(last.hasSuffix("; manual not run; what completed is in \(reports)/summary.json"), "\(last)")

        // The new summary is complete and says what happened; no temp file is left behind.
        let summary = try #require(jsonObject(at: reports + "/summary.json"), "summary.json does not parse")
        #expect(summary["task"] as? String == "classification")
        let levels = try #require(summary["levels"] as? [[String: Any]])
        #expect(levels.count == 1 && levels[0]["style"] as? String == "autograd")
        #expect((levels[0]["stopped"] as? String)?.contains("interrupted at epoch") == true)
        #expect(((levels[0]["epochs"] as? [Any])?.count ?? 0) >= 1)
        let entries = try FileManager.default.contentsOfDirectory(atPath: reports)
        #expect(!entries.contains { $0.contains(".tmp-") }, "\(entries)")
        // Level 4 did not run this time: its history from the good run is still there, whole.
        let old = try String(contentsOfFile: reports + "/history-manual.csv", encoding: .utf8)
        #expect(old.hasPrefix("epoch,train_loss,train_r2,test_loss,test_r2,seconds\n1,"))
    }

    @Test("Ctrl-C before any epoch completes leaves a good report byte-identical",
          arguments: ["level4-manual", "compare-levels"])
    func interruptedInFirstEpoch(executable: String) throws {
        let scratch = try goodReports()
        let reports = scratch.path("reports")
        let before = try snapshot(reports)

        // The banner is printed (and flushed) once the data is loaded, just before the first
        // epoch, which takes a good half second over all 60,000 samples.
        let levels = executable == "compare-levels" ? ["--levels", "autograd,manual"] : []
        let process = try RunningProcess(executable, levels + ["--epochs", "50", "--report-dir", reports])
        defer { process.stopIfRunning() }            // a failed #require must not leave it training
        try #require(process.waitForLine(startingWith: executable == "compare-levels" ? "compare-levels: " : "Level 4"))
        process.send(SIGINT)
        let output = process.finish()
        #expect(output.status == 130 && !output.endedBySignal, "\(output.standardError)")
        #expect(!output.standardOutput.contains("epoch 1/50"), "the first epoch ended before the signal arrived")
        let last = try #require(output.errorLines.last)
        #expect(last.hasPrefix("interrupted by SIGINT: "), "\(last)")
        #expect(last.contains("stopped at epoch 1, step "), "\(last)")
        #expect(last.hasSuffix(executable == "compare-levels" ? "no epoch completed, so no report was written in \(reports)"
                               : "no epoch completed, so \(reports)/history-manual.csv was left as it was"), "\(last)")
        #expect(try snapshot(reports) == before)
    }

    @Test("a second Ctrl-C ends the process at once; files are still whole")
    func secondInterruption() throws {
        let scratch = try ScratchFolder()
        // compare-levels: its clean stop writes a whole report (histories, four charts, the
        // summaries), a wider window for the second signal than one style's three files.
        let process = try RunningProcess("compare-levels", ["--levels", "autograd,manual",
                                                            "--report-dir", scratch.path("reports")] + longRun)
        defer { process.stopIfRunning() }            // a failed #require must not leave it training
        try #require(process.waitForLine(startingWith: "epoch 1/50"))
        process.send(SIGINT)
        // The second signal once the first was handled (sent at once, the two could merge into
        // one pending signal). The clean stop then takes a few tenths of a second to write the
        // reports, the window in which the second Ctrl-C must end the process by SIGINT itself.
        try #require(process.waitForError(containing: "press Ctrl-C again to quit at once"))
        process.send(SIGINT)
        let output = process.finish()
        #expect(output.endedBySignal && output.status == SIGINT, "status \(output.status), \(output.standardError)")
        // Whatever was written is whole: no history at all, or a complete one (the hidden
        // temp file of an unfinished write may be left beside it).
        let history = scratch.path("reports/history-autograd.csv")
        if FileManager.default.fileExists(atPath: history) {
            let text = try String(contentsOfFile: history, encoding: .utf8)
            #expect(text.hasPrefix("epoch,") && text.hasSuffix("\n") && text.split(separator: "\n").count >= 2, "\(text)")
        }
        let summary = scratch.path("reports/summary.json")
        if FileManager.default.fileExists(atPath: summary) { #expect(jsonObject(at: summary) != nil, "a half-written summary") }
    }

    @Test("SIGKILL at any moment of the report writing leaves each report file old or complete")
    func killedWhileWriting() throws {
        // Five moments from "just before the reports" to "well into the charts"; at least one of
        // them must land after some file was replaced, or the test has shown nothing.
        var replacedSomewhere = false
        for delayMilliseconds in [0, 15, 40, 90, 160] {
            let scratch = try goodReports(epochs: 2, trainLimit: 300)
            let reports = scratch.path("reports")
            let before = try snapshot(reports)

            // The second level's last epoch line is printed just before the reports are written.
            let process = try RunningProcess("compare-levels", ["--task", "regression", "--levels", "autograd,manual",
                                                                "--epochs", "2", "--train-limit", "3000", "--test-limit", "500",
                                                                "--report-dir", reports])
            defer { process.stopIfRunning() }            // a failed #require must not leave it training
            try #require(process.waitForLines(startingWith: ["Level 4", "epoch 2/2"]), "\(process.standardOutputSoFar)")
            usleep(useconds_t(delayMilliseconds * 1000))
            process.send(SIGKILL)
            _ = process.finish()

            let after = try snapshot(reports)
            // Every report is there, old or complete; a file new to the folder may only be a
            // hidden temp file of the write the kill interrupted.
            for name in after.keys where before[name] == nil {
                #expect(name.hasPrefix(".") && name.contains(".tmp-"), "\(name) appeared at \(delayMilliseconds) ms")
            }
            for (name, old) in before {
                let new = try #require(after[name], "\(name) disappeared")
                if new == old { continue }
                replacedSomewhere = true
                switch (name as NSString).pathExtension {
                case "json": #expect(jsonObject(at: reports + "/" + name) != nil, "\(name) is half-written")
                case "md": #expect(String(decoding: new, as: UTF8.self).contains("## Charts"), "\(name) is half-written")
                case "csv": #expect(new.last == UInt8(ascii: "\n"), "\(name) is half-written")
                case "png": #expect(new.suffix(8) == Data([0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]), "\(name) lacks IEND")
                default: Issue.record("\(name): an unexpected report file")
                }
            }
        }
        #expect(replacedSomewhere, "no kill landed after a report was replaced: the files were never tested mid-write")
    }

    @Test("compare-levels + SIGINT while the second style is in its first epoch: that style's earlier history stays")
    func styleWithoutEpochKeepsItsHistory() throws {
        let scratch = try goodReports(task: "classification", trainLimit: 300)
        let reports = scratch.path("reports")
        let before = try snapshot(reports)

        // autograd completes its one epoch; manual is stopped in its first (60,000 samples in
        // batches of 4: 15,000 steps, about a second, a wide window for the signal).
        let process = try RunningProcess("compare-levels", ["--levels", "autograd,manual", "--epochs", "1", "--batch-size", "4",
                                                            "--test-limit", "100", "--report-dir", reports])
        defer { process.stopIfRunning() }            // a failed #require must not leave it training
        try #require(process.waitForLines(startingWith: ["Level 4"]), "\(process.standardOutputSoFar)")
        process.send(SIGINT)
        let output = process.finish()
        try #require(output.status == 130, "\(output.standardError)")
        // autograd's epoch line only: manual's epoch outlasts the signal.
        try #require(output.standardOutput.components(separatedBy: "epoch 1/1").count == 2,
                     "manual completed its epoch before the signal: \(output.standardOutput)")
        let after = try snapshot(reports)
        #expect(after["history-manual.csv"] == before["history-manual.csv"], "manual's earlier history was replaced")
        #expect(after["history-autograd.csv"] != before["history-autograd.csv"], "autograd's new epoch was not written")
    }

    @Test("SIGINT before training: the message says what was written (--save-init's file, if asked)")
    func interruptedBeforeTraining() throws {
        let scratch = try ScratchFolder()
        let initial = scratch.path("initial.safetensors")
        // The signal must land after the handler is installed and before training starts: while
        // the data set loads. Later delays are retried if the first comes too early or too late.
        var seen: [String] = []
        for delay in [50, 150, 400] {
            let process = try RunningProcess("level4-manual", ["--save-init", initial, "--report-dir", scratch.path("reports")])
            defer { process.stopIfRunning() }            // a failed #require must not leave it training
            usleep(useconds_t(delay * 1000))
            process.send(SIGINT)
            let output = process.finish()
            seen.append("\(delay) ms: \(output.status) \(output.standardError)")
            guard output.status == 130, output.standardError.contains("before training started") else { continue }
            // One line: no "stopping after the current step" before it, as no step is running.
            #expect(output.errorLines.map(String.init) == ["interrupted by SIGINT: before training started; "
                    + "nothing written but the initial weights in \(initial) (--save-init)"], "\(output.standardError)")
            #expect(FileManager.default.fileExists(atPath: initial))
            return
        }
        Issue.record("no signal landed before training: \(seen)")
    }
}
