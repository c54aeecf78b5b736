// StyleExecutableTests.swift — every style through its own executable, as a user runs it: a
// diverging learning rate and a Ctrl-C after the first epoch behave the same for all eight.
//
// Teaches: the stop paths of a loop you do not own (`fit`, `Trainer.fit`) and of loops you
// write (modules, autograd, the tape, manual) end the same way: one line, the completed epochs
// written, no `--save`, the documented exit status.
// Leaves out: what each style computes (StyleTests checks the bits).

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Every style, as the executable and `--style` that run it alone.
let styleCommands: [(style: String, executable: String, arguments: [String])] = [
    ("keras", "level1-high-level", ["--style", "keras"]),
    ("keras-functional", "level1-high-level", ["--style", "keras-functional"]),
    ("lightning", "level1-high-level", ["--style", "lightning"]),
    ("modules", "level2-modules", []),
    ("autograd", "level3-autograd", ["--style", "autograd"]),
    ("gradient-tape", "level3-autograd", ["--style", "gradient-tape"]),
    ("differentiable", "level3-autograd", ["--style", "differentiable"]),
    ("manual", "level4-manual", []),
]

@Suite("Reliability: every style's executable", .serialized)
struct StyleExecutableTests {
    @Test("--learning-rate 50 diverges: one line naming the style, epoch and step; exit 1; no --save, no reports", arguments: styleCommands.map(\.style))
    func divergence(style: String) throws {
        let command = try #require(styleCommands.first { $0.style == style })
        let scratch = try ScratchFolder()
        let weights = scratch.path("trained.safetensors")
        let output = try run(command.executable, command.arguments + [
            "--task", "regression", "--learning-rate", "50", "--epochs", "3", "--train-limit", "3000", "--test-limit", "200",
            "--report-dir", scratch.path("reports"), "--save", weights])
        #expect(output.status == 1 && !output.endedBySignal, "\(output.standardError)")
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        // It diverges in the first epoch: nothing is written, and the line says so.
        let history = scratch.path("reports/history-\(style).csv")
        #expect(output.errorLines.first.map { isDivergenceLine($0, style: style, note: "; no epoch completed, so \(history) was left as it was") } == true,
                "\(output.standardError)")
        #expect(!FileManager.default.fileExists(atPath: weights))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("reports")))
    }

    @Test("SIGINT after the first epoch: stops after that step, writes history-<style>.csv, exit 130", arguments: styleCommands.map(\.style))
    func interruption(style: String) throws {
        let command = try #require(styleCommands.first { $0.style == style })
        let scratch = try ScratchFolder()
        let process = try RunningProcess(command.executable, command.arguments + longRun + ["--report-dir", scratch.path("reports")])
        defer { process.stopIfRunning() }            // a failed #require must not leave it training
        try #require(process.waitForLine(startingWith: "epoch 1/50"), "no epoch line: \(process.standardOutputSoFar)")
        process.send(SIGINT)
        let output = process.finish()
        #expect(output.status == 130 && !output.endedBySignal, "\(output.standardError)")
        let last = try #require(output.errorLines.last)
        #expect(last.hasPrefix("interrupted by SIGINT: stopped at epoch ") && last.contains("history-\(style).csv"), "\(last)")
        let rows = try String(contentsOfFile: scratch.path("reports/history-\(style).csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds")
        #expect((2..<51).contains(rows.count), "\(rows.count) rows")
    }
}
