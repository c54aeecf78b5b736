// CompareLevelsTests.swift — compare-levels as a user runs it: agreement verified, reports
// written and readable, a deliberately different level caught, bad options refused.

import Charts
import Foundation
import TestSupport
import Testing

/// Every style, in registry order (the default of `--levels`).
let allStyles = ["keras", "keras-functional", "lightning", "modules", "autograd", "gradient-tape", "manual"]
/// Their levels.
let allLevels = [1, 1, 1, 2, 3, 3, 4]

func runCompare(_ arguments: [String]) throws -> ProcessOutput {
    try run("compare-levels", arguments)
}

/// Checks that a written PNG decodes, has the expected size, and is a real picture.
func expectChart(_ path: String, width: Int = 1200, height: Int = 750) throws {
    let image = try PNGImage(path: path)
    #expect(image.width == width && image.height == height, "\(path)")
    #expect(image.distinctColorCount > 50, "\(path) looks blank or flat")
    #expect(image.inkFraction > 0.02, "\(path) is nearly empty")
}

@Suite("compare-levels", .serialized)
struct CompareLevelsTests {
    @Test("classification slice, every style by default: all bitwise identical, summary.json complete, charts readable")
    func classification() throws {
        let reports = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let output = try runCompare(["--epochs", "2", "--train-limit", "2000", "--test-limit", "500", "--report-dir", reports.path])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput.contains("All 7 styles are bitwise identical to Level 4 · manual."))
        for (style, level) in zip(allStyles, allLevels) where style != "manual" {   // one table row each
            let row = output.standardOutput.split(separator: "\n").last { $0.hasPrefix("Level \(level) · \(style) ") }
            #expect(row?.hasSuffix("bitwise identical") == true, "\(style): \(row ?? "no row")")
        }

        let data = try Data(contentsOf: reports.appendingPathComponent("summary.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(summary["task"] as? String == "classification")
        let dataset = try #require(summary["dataset"] as? [String: Any])
        #expect(dataset["train"] as? Int == 2000 && dataset["test"] as? Int == 500 && dataset["path"] is String)
        let config = try #require(summary["config"] as? [String: Any])
        for key in ["epochs", "batch_size", "learning_rate", "seed", "hidden", "shuffle"] {
            #expect(config[key] != nil, "config.\(key)")
        }
        #expect(config["hidden"] as? [Int] == [128, 64])
        let levels = try #require(summary["levels"] as? [[String: Any]])
        #expect(levels.compactMap { $0["level"] as? Int } == allLevels)
        #expect(levels.compactMap { $0["style"] as? String } == allStyles)
        var hashes: Set<String> = []
        for level in levels {
            for key in ["level", "style", "epochs", "samples_per_second", "weights_sha256"] {
                #expect(level[key] != nil, "levels[].\(key)")
            }
            let epochs = try #require(level["epochs"] as? [[String: Any]])
            #expect(epochs.count == 2)
            for epoch in epochs {
                for key in ["epoch", "train_loss", "test_loss", "test_accuracy", "seconds"] {
                    #expect(epoch[key] != nil, "epochs[].\(key)")
                }
                #expect((epoch["test_accuracy"] as? Double ?? 0) > 0.5)
            }
            hashes.insert(try #require(level["weights_sha256"] as? String))
        }
        #expect(hashes.count == 1 && hashes.first?.count == 64)       // identical weights, one hash
        let agreement = try #require(summary["agreement"] as? [String: Any])
        #expect(agreement["reference_style"] as? String == "manual")
        let compared = try #require(agreement["styles"] as? [[String: Any]])
        #expect(compared.compactMap { $0["style"] as? String } == Array(allStyles.dropLast()))
        #expect(compared.allSatisfy { $0["bitwise_identical"] as? Bool == true })
        #expect(agreement["bitwise_identical"] as? Bool == true)
        #expect(agreement["passed"] as? Bool == true)
        #expect(agreement["max_abs_loss_difference"] as? Double == 0)
        #expect(agreement["max_rel_loss_difference"] as? Double == 0)
        #expect(agreement["max_abs_weight_difference"] as? Double == 0)
        #expect(agreement["tolerance"] as? Double == 1e-5)
        let ceiling = try #require(summary["blas_ceiling"] as? [String: Any])
        #expect((ceiling["seconds_per_epoch"] as? Double ?? 0) > 0 && (ceiling["gflops"] as? Double ?? 0) > 1)

        for chart in ["loss.png", "accuracy.png", "agreement.png", "throughput.png"] {
            try expectChart(reports.appendingPathComponent(chart).path)
        }
        let markdown = try String(contentsOf: reports.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(markdown.contains("bitwise identical") && markdown.contains("![loss.png](loss.png)"))
        for style in allStyles {
            #expect(FileManager.default.fileExists(atPath: reports.appendingPathComponent("history-\(style).csv").path))
        }
    }

    @Test("regression slice, every style, file order: agreement, R², the 4-D chart, and --save writes the weights level4-manual trains")
    func regression() throws {
        let reports = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let recipe = ["--task", "regression", "--epochs", "2", "--train-limit", "3000", "--test-limit", "500", "--no-shuffle"]
        let compared = reports.appendingPathComponent("compared.safetensors").path
        let output = try runCompare(recipe + ["--report-dir", reports.path, "--save", compared])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput.contains("All 7 styles are bitwise identical to Level 4 · manual."))
        let alone = reports.appendingPathComponent("level4.safetensors").path
        let single = try run("level4-manual", recipe + ["--report-dir", reports.appendingPathComponent("single").path, "--save", alone])
        #expect(single.status == 0, "\(single.standardError)")
        let (comparedBytes, aloneBytes) = (FileManager.default.contents(atPath: compared), FileManager.default.contents(atPath: alone))
        #expect(comparedBytes != nil && comparedBytes == aloneBytes)          // the same trained weights, byte for byte
        try expectChart(reports.appendingPathComponent("r2.png").path)
        try expectChart(reports.appendingPathComponent("regression-4d.png").path, width: 1800, height: 650)
        let data = try Data(contentsOf: reports.appendingPathComponent("summary.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let config = try #require(summary["config"] as? [String: Any])
        #expect(config["shuffle"] as? Bool == false)
        let first = try #require((summary["levels"] as? [[String: Any]])?.first?["epochs"] as? [[String: Any]])
        #expect(first.allSatisfy { $0["test_r2"] is Double && $0["test_accuracy"] == nil })
    }

    @Test("a style made to differ is caught: exit 1, naming the style and the first diverging step, report written")
    func perturbedStyle() throws {
        let reports = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let output = try runCompare(["--levels", "3,4", "--epochs", "1", "--train-limit", "1000", "--test-limit", "200",
                                     "--report-dir", reports.path, "--perturb-style", "gradient-tape"])
        #expect(output.status == 1)
        // Step 1's loss is computed before any update, so the first difference is at step 2.
        #expect(output.standardError.contains("gradient-tape differs from manual first at step 2"), "\(output.standardError)")
        #expect(output.standardError.split(separator: "\n").count == 1)
        let data = try Data(contentsOf: reports.appendingPathComponent("summary.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let agreement = try #require(summary["agreement"] as? [String: Any])
        #expect(agreement["passed"] as? Bool == false && agreement["bitwise_identical"] as? Bool == false)
    }

    @Test("--trace shows the same kernel calls for every style")
    func trace() throws {
        let output = try runCompare(["--train-limit", "256", "--test-limit", "64", "--trace"])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput.contains("All 7 styles made the same"), "\(output.standardOutput)")
        #expect(output.standardOutput.contains("gemm A[64,784]·Bᵀ[128,784]"))
        #expect(output.standardOutput.contains("softmaxCrossEntropyBackward"))
    }

    @Test("--levels takes level numbers and style ids: --levels 1 runs the three Level 1 styles, checked against keras")
    func levelsSelectStyles() throws {
        let reports = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let output = try runCompare(["--levels", "1", "--epochs", "1", "--train-limit", "500", "--test-limit", "100",
                                     "--report-dir", reports.path])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput.contains("All 3 styles are bitwise identical to Level 1 · keras."))
        let data = try Data(contentsOf: reports.appendingPathComponent("summary.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let styles = (summary["levels"] as? [[String: Any]])?.compactMap { $0["style"] as? String }
        #expect(styles == ["keras", "keras-functional", "lightning"])

        let two = try runCompare(["--levels", "gradient-tape, manual", "--epochs", "1", "--train-limit", "300",
                                  "--test-limit", "100", "--report-dir", reports.path])
        #expect(two.status == 0, "\(two.standardError)")
        #expect(two.standardOutput.contains("All 2 styles are bitwise identical to Level 4 · manual."))
        #expect(!two.standardOutput.contains("Level 3 · autograd"))
    }

    @Test("bad --levels and other options: one line, exit status 64, nothing on standard output", arguments: [
        (["--levels", "1,1"], "names the style keras twice"),
        (["--levels", "manual,4"], "names the style manual twice"),
        (["--levels", "5"], "no level 5"),
        (["--levels", "a"], "'a' is not a level or a style"),
        (["--levels", "keras,,manual"], "'' is not a level or a style"),
        (["--levels", ""], "'' is not a level or a style"),
        (["--tolerance", "-1"], "--tolerance"),
        (["--perturb-style", "nope"], "--perturb-style"),
    ])
    func badOptions(arguments: [String], message: String) throws {
        let output = try runCompare(arguments)
        #expect(output.status == 64, "\(arguments): \(output.standardError)")
        #expect(output.standardOutput.isEmpty)
        #expect(output.standardError.split(separator: "\n").count == 1, "\(output.standardError)")
        #expect(output.standardError.contains(message), "\(arguments): \(output.standardError)")
    }
}
