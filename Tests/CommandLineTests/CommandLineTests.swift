// CommandLineTests.swift — the executables as a user runs them: exit statuses, one-line errors,
// the history file, and the same output run after run.

import Foundation
import Charts
import LevelComparison
import Testing
import Shared
import TestSupport
import TrainingCLI

@Suite("level4-manual as a user runs it")
struct Level4CommandLineTests {
    @Test("a regression run prints one line per epoch and writes history-manual.csv")
    func regressionRun() throws {
        let reports = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let output = try run("level4-manual", ["--task", "regression", "--epochs", "2", "--train-limit", "3000",
                                               "--test-limit", "500", "--report-dir", reports.path])
        #expect(output.status == 0, "\(output.standardError)")
        let lines = output.standardOutput.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("epoch ") }.count == 2)
        let csv = try String(contentsOf: reports.appendingPathComponent("history-manual.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n")
        #expect(rows.first == "epoch,train_loss,train_r2,test_loss,test_r2,seconds")
        #expect(rows.count == 3)
        let epochs = rows.dropFirst().map { $0.split(separator: ",").compactMap { Double($0) } }
        #expect(epochs.allSatisfy { $0.count == 6 && $0.allSatisfy(\.isFinite) })
        #expect(epochs.map { $0[0] } == [1, 2])
        // The numbers are the run's: the same training in this process gives each of them exactly.
        let data = SyntheticRegression.make(seed: 42, as: Float.self)
        let job = TrainingJob(style: "manual", train: data.train.prefix(3000), test: data.test.prefix(500),
                              initialParameters: .glorotNormal(shape: .standard(for: .regression), seed: 42),
                              recipe: Recipe(epochs: 2, batchSize: 64, learningRate: 0.1, seed: 42, shuffle: true))
        let records = try #require(Style.named("manual")).run(job).result.epochs
        #expect(epochs.map { Array($0[1...4]) } == records.map { [$0.trainLoss, $0.trainR2 ?? .nan, $0.testLoss, $0.testR2 ?? .nan] })
        let chart = try PNGImage(path: reports.appendingPathComponent("manual-loss.png").path)
        #expect(chart.width == 1200 && chart.height == 750 && chart.distinctColorCount > 50)
    }

    @Test("a chart that cannot be written (a folder in its place): one line naming it once; the charts before it stay written")
    func unwritableChart() throws {
        // The executables refuse such a folder before training (OptionTests); a folder that
        // appears during training reaches ReportCharts.write, which every executable writes through.
        let reports = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let blocked = reports.appendingPathComponent("loss.png").path
        try FileManager.default.createDirectory(atPath: blocked, withIntermediateDirectories: false)
        let history = StyleHistory(level: 4, style: "manual", epochs: [
            EpochRecord(epoch: 1, trainLoss: 0.5, trainR2: 0.5, testLoss: 0.6, testAccuracy: nil, testR2: 0.4, seconds: 1)])
        let chart = ReportCharts.loss([history], task: .regression)
        #expect(throws: NeuralLevelsError.failure("cannot write chart \(blocked): is a folder, not a file")) {
            try ReportCharts.write([("first.png", { try chart.renderPNG(to: $0) }), ("loss.png", { try chart.renderPNG(to: $0) }),
                                    ("last.png", { try chart.renderPNG(to: $0) })], in: reports.path)
        }
        #expect(FileManager.default.fileExists(atPath: reports.appendingPathComponent("first.png").path))
        #expect(!FileManager.default.fileExists(atPath: reports.appendingPathComponent("last.png").path))
    }

    @Test("same seed, same options: the same losses and weights, run after run")
    func determinism() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        func losses(_ name: String) throws -> [String] {
            let weights = folder.appendingPathComponent("\(name).safetensors").path
            let output = try run("level4-manual", ["--epochs", "2", "--train-limit", "2000", "--test-limit", "500",
                                                   "--report-dir", folder.path, "--save", weights])
            #expect(output.status == 0, "\(output.standardError)")
            // Every column but the last (seconds) must repeat exactly.
            let csv = try String(contentsOf: folder.appendingPathComponent("history-manual.csv"), encoding: .utf8)
            return csv.split(separator: "\n").map { $0.split(separator: ",").dropLast().joined(separator: ",") }
        }
        #expect(try losses("a") == losses("b"))
        let a = try Data(contentsOf: folder.appendingPathComponent("a.safetensors"))
        let b = try Data(contentsOf: folder.appendingPathComponent("b.safetensors"))
        #expect(a == b && a.count > 400_000)
    }

    @Test("a missing data folder: one line naming it, exit status 65")
    func missingData() throws {
        let output = try run("level4-manual", ["--data", "/no/such/folder", "--epochs", "1"])
        #expect(output.status == 65)
        #expect(output.standardError.split(separator: "\n").count == 1)
        #expect(output.standardError.contains("/no/such/folder"))
    }

    @Test("a malformed IDX file: one line naming the file, exit status 65")
    func malformedData() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            try Data([0, 0, 8, 3, 0, 0]).write(to: folder.appendingPathComponent(name))   // header cut short
        }
        let output = try run("level4-manual", ["--data", folder.path, "--epochs", "1",
                                               "--report-dir", folder.appendingPathComponent("r").path])
        #expect(output.status == 65)
        #expect(output.standardError.split(separator: "\n").count == 1)
        #expect(output.standardError.contains("train-images-idx3-ubyte"))
    }

    @Test("bad options: exit status 64 before any work", arguments: [
        ["--epochs", "0"], ["--batch-size", "0"], ["--learning-rate", "-1"], ["--learning-rate", "nan"],
        ["--hidden", "128"], ["--hidden", "0,5"], ["--task", "segmentation"], ["--train-limit", "0"],
    ])
    func badOptions(arguments: [String]) throws {
        let output = try run("level4-manual", arguments)
        #expect(output.status == 64, "\(arguments): \(output.standardError)")
        #expect(!output.standardError.isEmpty)
        #expect(output.standardOutput.isEmpty)
    }
}
