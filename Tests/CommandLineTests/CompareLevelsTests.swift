// CompareLevelsTests.swift — compare-levels as a user runs it: agreement verified, reports
// written and readable, a deliberately different level caught, bad options refused.

import Charts
import Foundation
import LevelComparison
import Shared
import TestSupport
import Testing

/// Every style, in registry order (the default of `--levels`).
let allStyles = ["keras", "keras-functional", "lightning", "modules", "autograd", "gradient-tape", "differentiable", "manual"]
/// Their levels.
let allLevels = [1, 1, 1, 2, 3, 3, 3, 4]

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
        #expect(output.standardOutput.contains("All 8 styles are bitwise identical to Level 4 · manual."))
        for (style, level) in zip(allStyles, allLevels) where style != "manual" {   // one table row each
            let row = output.standardOutput.split(separator: "\n").last { $0.hasPrefix("Level \(level) · \(style) ") }
            #expect(row?.hasSuffix("bitwise identical") == true, "\(style): \(row ?? "no row")")
        }

        // Every file written is one the run checked before training (none may be a folder or a pipe).
        let checked = Set(ComparisonOutcome.reportFileNames(styles: allStyles, task: .classification))
        let written = try FileManager.default.contentsOfDirectory(atPath: reports.path)
        #expect(written.allSatisfy(checked.contains), "\(written.filter { !checked.contains($0) })")
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
        #expect(output.standardOutput.contains("All 8 styles are bitwise identical to Level 4 · manual."))
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

    @Test("one sample and tiny layers: every chart is drawn (axes through 0 with tiny ticks), exit 0")
    func degenerateCharts() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let reports = folder.path
        // update-on-tape's memory chart gets a near-constant series here. (The mistake's run has no
        // `manual`, so no saturation chart.)
        let output = try runCompare(["--mistake", "update-on-tape", "--task", "regression", "--hidden", "2,2",
                                     "--train-limit", "1", "--epochs", "1", "--report-dir", reports])
        #expect(output.status == 0 && !output.endedBySignal, "\(output.standardError)")
        for chart in ["loss.png", "r2.png", "agreement.png", "throughput.png", "mistake.png"] {
            #expect(FileManager.default.fileExists(atPath: reports + "/" + chart), "\(chart) was not drawn")
            try expectChart(reports + "/" + chart)               // decodes, right size, not blank
        }
        try expectChart(reports + "/regression-4d.png", width: 1800, height: 650)
    }

    @Test("NEURAL_LEVELS_READABLE_KERNELS=1: the formulas alone; the styles still agree bitwise, and with the fast forms closely")
    func readableKernels() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let recipe = ["--levels", "2,4", "--epochs", "1", "--train-limit", "500", "--test-limit", "100"]
        var environment = ProcessInfo.processInfo.environment
        environment["NEURAL_LEVELS_READABLE_KERNELS"] = "1"
        let readable = try run("compare-levels", recipe + ["--report-dir", folder.appendingPathComponent("readable").path],
                               environment: environment)
        #expect(readable.status == 0, "\(readable.standardError)")
        #expect(readable.standardOutput.contains("All 2 styles are bitwise identical to Level 4 · manual."))
        let fast = try runCompare(recipe + ["--report-dir", folder.appendingPathComponent("fast").path])
        #expect(fast.status == 0, "\(fast.standardError)")
        func manual(_ name: String) throws -> (trainLoss: Double, weights: String) {
            let summary = try readJSON(folder.appendingPathComponent("\(name)/summary.json"))
            let levels = try #require(summary["levels"] as? [[String: Any]])
            let level = try #require(levels.first { $0["style"] as? String == "manual" })
            return (try #require((level["epochs"] as? [[String: Any]])?.last?["train_loss"] as? Double),
                    try #require(level["weights_sha256"] as? String))
        }
        // The fast tanh, σ and exp round differently (within a few ulps): other bits, close numbers.
        let (slow, quick) = (try manual("readable"), try manual("fast"))
        #expect(slow.weights != quick.weights)
        #expect(abs(slow.trainLoss - quick.trainLoss) <= 1e-5 * abs(quick.trainLoss), "readable \(slow), fast \(quick)")
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

        // The same difference (a learning rate 1% higher) within a loose --tolerance: it passes, said so.
        let loose = try runCompare(["--levels", "3,4", "--epochs", "1", "--train-limit", "1000", "--test-limit", "200",
                                    "--report-dir", reports.path, "--perturb-style", "gradient-tape", "--tolerance", "0.5"])
        #expect(loose.status == 0, "\(loose.standardError)")
        #expect(loose.standardOutput.contains("All 4 styles agree with Level 4 · manual within relative tolerance 0.5."),
                "\(loose.standardOutput)")
    }

    @Test("--trace of one style lists its calls and says there is nothing to compare")
    func traceOneStyle() throws {
        let output = try runCompare(["--levels", "4", "--train-limit", "256", "--test-limit", "64", "--trace"])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput.hasSuffix("Level 4 · manual made 26 kernel calls; nothing to compare them with.\n"),
                "\(output.standardOutput)")
    }

    @Test("--trace shows the same kernel calls for every style, and where each style's code made them")
    func trace() throws {
        // The line of ManualNetwork.swift where a layer with an input gradient computes dW = dyᵀ·x.
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let network = try String(contentsOf: package.appendingPathComponent("Sources/Level4Manual/ManualNetwork.swift"),
                                 encoding: .utf8).components(separatedBy: "\n")
        let dxLine = try #require(network.firstIndex { $0.contains("gemm(dy, layer.weight, into: &dx)") })
        let weightGradientLine = try #require(network[dxLine...].firstIndex { $0.contains("gemm(dy, transposeA: true") }) + 1
        let output = try runCompare(["--train-limit", "256", "--test-limit", "64", "--trace"])
        #expect(output.status == 0, "\(output.standardError)")
        let text = output.standardOutput
        #expect(text.contains("All 8 styles made the same 26 kernel calls"), "\(text)")
        #expect(text.contains("    1  gemm A[64,784]·Bᵀ[128,784]\n"))
        #expect(text.contains("softmaxCrossEntropyBackward"))
        #expect(!text.contains(" ≠ "))
        // The origins, one line per style (or per group of styles with the same origin).
        for origin in ["keras, keras-functional  model.fit → optimizer.step()", "lightning                trainer.fit → trainingStep → matmul",
                       "modules, autograd        loss.backward(): matmul's backward", "tape.gradient: einsum bi,oi->bo's backward",
                       "valueWithGradient → dense's pullback", "manual                   ManualNetwork.swift:\(weightGradientLine) linearBackward"] {
            #expect(text.contains(origin), "\(origin)")
        }
        // The README shows rows of this output: each of its lines must still be printed (the
        // line numbers of the styles' own code move when that code is edited).
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let afterIntro = try #require(readme.range(of: "rows 1, 13 and 21 of 26:\n\n```\n"))
        let block = readme[afterIntro.upperBound...].prefix { $0 != "`" }
        let printed = Set(text.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        let shown = block.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0 != "…" }
        #expect(shown.count >= 20, "the README's --trace sample: \(shown.count) lines")
        for line in shown { #expect(printed.contains(line), "the README's --trace sample has a line the trace does not print: \(line)") }
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

    @Test("--explain prints every number of one step; the first layer, recomputed by hand from the printed inputs and weights, matches")
    func explain() throws {
        let output = try runCompare(["--explain"])
        #expect(output.status == 0, "\(output.standardError)")
        let lines = output.standardOutput.components(separatedBy: "\n")
        /// The matrix printed under the line that starts with `name [`.
        func matrix(_ name: String) throws -> [[Double]] {
            let start = try #require(lines.firstIndex { $0.hasPrefix(name + " [") }, "no \(name) block")
            return lines[(start + 1)...].prefix { $0.hasPrefix("    ") }
                .map { $0.split(separator: " ").compactMap { Double($0) } }
        }
        let (x, w1, b1) = (try matrix("x"), try matrix("fc1.weight"), try matrix("fc1.bias"))
        let (z1, a1) = (try matrix("z1"), try matrix("a1"))
        #expect(x.count == 2 && x.allSatisfy { $0.count == 4 } && w1.count == 3 && b1 == [[0, 0, 0]])
        for row in 0..<2 {
            for unit in 0..<3 {
                let z = (0..<4).reduce(b1[0][unit]) { $0 + x[row][$1] * w1[unit][$1] }       // z1 = x·W1ᵀ + b1
                #expect(abs(z - z1[row][unit]) <= 1e-6 * max(1, abs(z)), "z1[\(row), \(unit)]: \(z) vs \(z1[row][unit])")
                #expect(abs(Foundation.tanh(z) - a1[row][unit]) <= 2e-6, "a1[\(row), \(unit)]")
            }
        }
        for name in ["z2", "a2", "z3", "p", "dz3", "dW3", "db3", "da2", "dz2", "dW2", "db2", "da1", "dz1", "dW1", "db1"] {
            #expect(lines.contains { $0.hasPrefix(name + " [") }, "\(name) is not printed")
        }
        // Every other style took the same step.
        let verdicts = lines.filter { $0.hasPrefix("  Level ") }
        #expect(verdicts.count == 7 && verdicts.allSatisfy { $0.contains("updated weights = Level 4's, bit for bit") })
    }

    @Test("--mistake: the list, and a mistake run beside its clean style: where they part, why, mistake.png, summary.json")
    func mistake() throws {
        let list = try runCompare(["--mistake", "list"])
        #expect(list.status == 0 && list.standardOutput.split(separator: "\n").count >= 6)
        #expect(list.standardOutput.contains("forgot-zero-grad") && list.standardOutput.contains("(modules)"))
        let reports = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let output = try runCompare(["--mistake", "summed-loss", "--epochs", "1", "--train-limit", "500",
                                     "--test-limit", "100", "--report-dir", reports.path])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput.contains("The runs part at step 1"))
        #expect(output.standardOutput.contains("Why the rule exists: "))
        #expect(output.standardOutput.hasSuffix(
            "Level 2 · modules ran clean and with the mistake summed-loss; where the two part is above.\n"))
        #expect(output.standardOutput.contains("1 epoch, batch 64"), "the banner: one epoch, singular")
        try expectChart(reports.appendingPathComponent("mistake.png").path)
        let data = try Data(contentsOf: reports.appendingPathComponent("summary.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let mistake = try #require(summary["mistake"] as? [String: Any])
        #expect(mistake["mistake"] as? String == "summed-loss" && mistake["first_different_step"] as? Int == 1)
        #expect((summary["levels"] as? [[String: Any]])?.compactMap { $0["style"] as? String } == ["modules"])
    }

    @Test("--init-scheme: every style starts from the same Keras-style weights and still agrees; saturation.png and its numbers")
    func initScheme() throws {
        let reports = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let initial = reports.appendingPathComponent("initial.safetensors").path
        let output = try runCompare(["--levels", "keras,modules,manual", "--epochs", "2", "--train-limit", "500",
                                     "--test-limit", "200", "--init-scheme", "glorot-uniform", "--save-init", initial,
                                     "--report-dir", reports.path])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput.contains("glorot-uniform init"))
        #expect(output.standardOutput.contains("All 3 styles are bitwise identical to Level 4 · manual."))
        let data = try Data(contentsOf: reports.appendingPathComponent("summary.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((summary["config"] as? [String: Any])?["init_scheme"] as? String == "glorot-uniform")
        let saturation = try #require(summary["saturation"] as? [[String: Any]])
        #expect(saturation.compactMap { $0["epoch"] as? Int } == [0, 1, 2])
        #expect(saturation.allSatisfy { (0...1).contains($0["tanh_saturated"] as? Double ?? -1)
                                        && (0...1).contains($0["sigmoid_saturated"] as? Double ?? -1) })
        try expectChart(reports.appendingPathComponent("saturation.png").path)
        // The weights written are the scheme's, not the default's: uniform within ±√(6/(784+128)).
        let shape = NetworkShape.standard(for: .classification)
        let written = try NetworkParameters<Float>.load(from: initial, shape: shape)
        #expect(written == NetworkParameters<Float>.initialized(shape: shape, seed: 42, scheme: .glorotUniform))
        #expect(written != NetworkParameters<Float>.glorotNormal(shape: shape, seed: 42))
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
        (["--init-scheme", "xavier"], "--init-scheme"),
        (["--mistake", "nope"], "no mistake 'nope'"),
        (["--mistake", "unscaled-inputs", "--task", "regression"], "only for --task classification"),
        (["--init-scheme", "kaiming-uniform", "--init", "weights.safetensors"], "not with --init"),
    ])
    func badOptions(arguments: [String], message: String) throws {
        let output = try runCompare(arguments)
        #expect(output.status == 64, "\(arguments): \(output.standardError)")
        #expect(output.standardOutput.isEmpty)
        #expect(output.standardError.split(separator: "\n").count == 1, "\(output.standardError)")
        #expect(output.standardError.contains(message), "\(arguments): \(output.standardError)")
    }
}
