// ReferencesTests.swift — the run exported for the Python replays, and the replays compared:
// the export reads back as the same weights and batch order; the NumPy replay of a small slice
// agrees with Level 4; a framework that cannot be imported is a row, not a failure; a corrupt
// export or a crashing script is one line naming the replay and the file.

import Foundation
@testable import LevelComparison
import Shared
import TestSupport
import Testing

/// A python that can import NumPy: `$NEURAL_LEVELS_PYTHON`, Debian's `/usr/bin/python3`
/// (python3-numpy, installed by scripts/install-dependencies.sh), or `python3` in PATH.
let pythonWithNumPy: String? = {
    var candidates = ["/usr/bin/python3", "python3"]
    if let configured = ProcessInfo.processInfo.environment["NEURAL_LEVELS_PYTHON"], !configured.isEmpty {
        candidates.insert(configured, at: 0)
    }
    for candidate in candidates {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: candidate.contains("/") ? candidate : "/usr/bin/env")
        process.arguments = (candidate.contains("/") ? [] : [candidate]) + ["-c", "import numpy"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { continue }
        process.waitUntilExit()
        if process.terminationStatus == 0 { return candidate }
    }
    return nil
}()

func requireNumPyPython() throws -> String {
    try #require(pythonWithNumPy, "no python with NumPy (install python3-numpy, or set NEURAL_LEVELS_PYTHON)")
}

/// A `References/` folder in `folder` whose `numpy_manual.py` is `source`, and this process's
/// environment pointing compare-levels at it (`NEURAL_LEVELS_REFERENCES`).
func fakeReplayScripts(in folder: URL, numpy source: String) throws -> (scripts: URL, environment: [String: String]) {
    let scripts = folder.appendingPathComponent("References")
    try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
    try source.write(to: scripts.appendingPathComponent("numpy_manual.py"), atomically: true, encoding: .utf8)
    var environment = ProcessInfo.processInfo.environment
    environment["NEURAL_LEVELS_REFERENCES"] = scripts.path
    return (scripts, environment)
}

/// compare-levels on a 200-sample slice, Level 4 only, with `--references` replaying the fake
/// `numpy_manual.py` `source` (and `extra` arguments); its reports go to `folder/reports`.
func runWithFakeNumPyReplay(in folder: URL, numpy source: String, _ extra: [String] = []) throws
    -> (output: ProcessOutput, scripts: URL, reports: URL)
{
    let (scripts, environment) = try fakeReplayScripts(in: folder, numpy: source)
    let reports = folder.appendingPathComponent("reports")
    let output = try run("compare-levels", [
        "--levels", "4", "--epochs", "1", "--train-limit", "200", "--test-limit", "100", "--references",
        "--reference-frameworks", "numpy", "--python", pythonWithNumPy ?? "python3", "--report-dir", reports.path,
    ] + extra, environment: environment)
    return (output, scripts, reports)
}

/// Whether process `pid` is running: /proc has it, and not as a zombie (ended, waiting for its
/// parent or init to collect it).
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let state = stat.split(separator: ")").last?.split(separator: " ").first else { return false }
    return state != "Z" && state != "X"
}

func readJSON(_ url: URL) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
}

@Suite("compare-levels --references", .serialized)
struct ReferencesTests {
    @Test("the export holds the initial weights, every epoch's batch order and the recipe")
    func exportRoundTrips() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let export = folder.appendingPathComponent("run").path
        let saved = folder.appendingPathComponent("init.safetensors").path
        let output = try runCompare(["--levels", "4", "--epochs", "3", "--train-limit", "300", "--test-limit", "100",
                                     "--export-run", export, "--save-init", saved,
                                     "--report-dir", folder.appendingPathComponent("reports").path])
        #expect(output.status == 0, "\(output.standardError)")

        let recipe = try RunExport.readRecipe(in: export)
        #expect(recipe.task == "classification" && recipe.sizes == [784, 128, 64, 10])
        #expect(recipe.activations == ["tanh", "sigmoid", "softmax"])
        #expect(recipe.learningRate == 0.1 && recipe.batchSize == 64 && recipe.epochs == 3 && recipe.seed == 42)
        #expect(recipe.shuffle && recipe.trainCount == 300 && recipe.testCount == 100 && recipe.stepsPerEpoch == 5)
        #expect(recipe.trainLimit == 300 && recipe.testLimit == 100)
        #expect(recipe.data["kind"] == "idx")
        for key in ["train_images", "train_labels", "test_images", "test_labels"] {
            #expect(FileManager.default.fileExists(atPath: recipe.data[key] ?? "/nonexistent"), "data.\(key)")
        }

        let orders = try RunExport.readBatchOrder(file: (export as NSString).appendingPathComponent("batch_order.safetensors"))
        let schedule = BatchSchedule(sampleCount: 300, batchSize: 64, shuffle: true, seed: 42)
        #expect(orders == (1...3).map { schedule.order(epoch: $0) })
        #expect(orders[0] != orders[1] && orders[0].sorted() == Array(0..<300))

        let initialFile = (export as NSString).appendingPathComponent("initial.safetensors")
        #expect(FileManager.default.contents(atPath: initialFile) == FileManager.default.contents(atPath: saved))
        let shape = NetworkShape.standard(for: .classification)
        #expect(try NetworkParameters<Float>.load(from: initialFile, shape: shape) == .glorotNormal(shape: shape, seed: 42))
    }

    @Test("without shuffling the order is file order; regression exports its data")
    func exportWithoutShuffleAndRegression() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let export = folder.appendingPathComponent("run").path
        let output = try runCompare(["--task", "regression", "--no-shuffle", "--levels", "4", "--epochs", "2",
                                     "--train-limit", "100", "--test-limit", "40", "--batch-size", "32",
                                     "--export-run", export, "--report-dir", folder.appendingPathComponent("reports").path])
        #expect(output.status == 0, "\(output.standardError)")
        let recipe = try RunExport.readRecipe(in: export)
        #expect(recipe.task == "regression" && recipe.sizes == [3, 64, 32, 1] && !recipe.shuffle)
        #expect(recipe.loss == "mean_squared_error" && recipe.data["file"] == "data.safetensors" && recipe.stepsPerEpoch == 4)
        let orders = try RunExport.readBatchOrder(file: (export as NSString).appendingPathComponent("batch_order.safetensors"))
        #expect(orders == [Array(0..<100), Array(0..<100)])

        let bytes = try #require(FileManager.default.contents(atPath: (export as NSString).appendingPathComponent("data.safetensors")))
        let tensors = try Safetensors.decode(Array(bytes), file: "data.safetensors").tensors
        let expected = SyntheticRegression.make(seed: 42, as: Float.self)
        #expect(tensors["train_inputs"]?.shape == [100, 3] && tensors["test_targets"]?.shape == [40, 1])
        #expect(try tensors["train_inputs"]?.scalars(as: Float.self) == Array(expected.train.inputs.storage.prefix(300)))
        #expect(try tensors["train_targets"]?.scalars(as: Float.self) == Array(expected.train.targets.storage.prefix(100)))
        #expect(try tensors["test_inputs"]?.scalars(as: Float.self) == Array(expected.test.inputs.storage.prefix(120)))
    }

    @Test("a batch order too large to export is refused before training, in one line")
    func exportTooLarge() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let export = folder.appendingPathComponent("run")
        let output = try runCompare(["--levels", "4", "--epochs", "1000000", "--train-limit", "300", "--test-limit", "100",
                                     "--export-run", export.path, "--report-dir", folder.appendingPathComponent("reports").path])
        #expect(output.status == 64)
        #expect(output.errorLines == ["error: --epochs: the batch order of 1000000 epochs of 300 samples is too large "
                                      + "to export for the replays (at most 1024 MiB)"], "\(output.standardError)")
        #expect(!FileManager.default.fileExists(atPath: export.path))
        #expect(!output.standardOutput.contains("epoch 1/"))
    }

    @Test("the NumPy replay of a small run agrees with Level 4 at every step, and drift.png is drawn")
    func numpyReplayAgrees() throws {
        let python = try requireNumPyPython()
        let reports = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let output = try runCompare(["--levels", "4", "--epochs", "2", "--train-limit", "1000", "--test-limit", "500",
                                     "--references", "--reference-frameworks", "numpy", "--python", python,
                                     "--report-dir", reports.path])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput.contains("NumPy by hand (manual)"))

        let summary = try readJSON(reports.appendingPathComponent("summary.json"))
        let rows = try #require(summary["references"] as? [[String: Any]])
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row["framework"] as? String == "NumPy by hand" && row["style"] as? String == "manual")
        #expect(row["available"] as? Bool == true && row["error"] == nil)
        #expect(row["steps_compared"] as? Int == 32)                 // 2 epochs of ⌈1000 / 64⌉ = 16 steps
        // Float32 rounding only: well under 1e-5 relative over two epochs of this slice.
        let firstEpoch = try #require(row["max_relative_loss_difference_first_epoch"] as? Double)
        let run = try #require(row["max_relative_loss_difference"] as? Double)
        let weights = try #require(row["max_relative_weight_difference"] as? Double)
        #expect(firstEpoch < 1e-5 && run < 1e-5 && weights < 1e-5, "\(row)")
        #expect(firstEpoch <= run)
        let levels = try #require(summary["levels"] as? [[String: Any]])
        let level4 = try #require((levels.first?["epochs"] as? [[String: Any]])?.last?["test_accuracy"] as? Double)
        let replayed = try #require(row["test_accuracy"] as? Double)
        #expect(abs(replayed - level4) <= 0.004, "NumPy \(replayed) vs Level 4 \(level4)")   // at most 2 of 500 flip
        #expect((row["seconds_per_epoch"] as? Double ?? 0) > 0 && (row["peak_rss_mib"] as? Double ?? 0) > 10)
        try expectChart(reports.appendingPathComponent("drift.png").path)
        let markdown = try String(contentsOf: reports.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(markdown.contains("## References") && markdown.contains("| NumPy by hand | manual |"))
        #expect(markdown.contains("![drift.png](drift.png)"))
    }

    @Test("the NumPy replay of a regression run reads the exported data and agrees with Level 4")
    func numpyRegressionReplayAgrees() throws {
        let python = try requireNumPyPython()
        let reports = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let output = try runCompare(["--task", "regression", "--levels", "4", "--epochs", "3", "--train-limit", "3000",
                                     "--test-limit", "1000", "--batch-size", "32", "--references",
                                     "--reference-frameworks", "numpy", "--python", python, "--report-dir", reports.path])
        #expect(output.status == 0, "\(output.standardError)")
        let summary = try readJSON(reports.appendingPathComponent("summary.json"))
        let row = try #require((summary["references"] as? [[String: Any]])?.first)
        #expect(row["steps_compared"] as? Int == 3 * 94 && row["test_accuracy"] == nil)
        let relative = try #require(row["max_relative_loss_difference"] as? Double)
        #expect(relative < 1e-5 && (row["max_relative_weight_difference"] as? Double ?? 1) < 1e-5, "\(row)")
        let levels = try #require(summary["levels"] as? [[String: Any]])
        let level4 = try #require((levels.first?["epochs"] as? [[String: Any]])?.last?["test_r2"] as? Double)
        let replayed = try #require(row["test_r2"] as? Double)
        #expect(abs(replayed - level4) < 1e-4, "NumPy R² \(replayed) vs Level 4 \(level4)")
    }

    @Test("a framework that cannot be imported is a row with its reason, and the run succeeds")
    func missingFramework() throws {
        let python = try requireNumPyPython()
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A package named torch that refuses to import, ahead of any installed one.
        let shadow = folder.appendingPathComponent("shadow/torch")
        try FileManager.default.createDirectory(at: shadow, withIntermediateDirectories: true)
        try "raise ImportError('torch is hidden by the test')\n"
            .write(to: shadow.appendingPathComponent("__init__.py"), atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = folder.appendingPathComponent("shadow").path
        let reports = folder.appendingPathComponent("reports")
        let output = try run("compare-levels", [
            "--levels", "4", "--epochs", "1", "--train-limit", "200", "--test-limit", "100", "--references",
            "--reference-frameworks", "torch-modules,numpy", "--python", python, "--report-dir", reports.path,
        ], environment: environment)
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput.contains("not available: torch is hidden by the test"))

        let rows = try #require(try readJSON(reports.appendingPathComponent("summary.json"))["references"] as? [[String: Any]])
        #expect(rows.map { $0["script"] as? String } == ["torch_modules.py", "numpy_manual.py"])
        #expect(rows[0]["available"] as? Bool == false && rows[0]["reason"] as? String == "torch is hidden by the test")
        #expect(rows[0]["steps_compared"] as? Int == 0 && rows[0]["max_relative_loss_difference"] == nil)
        #expect(rows[1]["available"] as? Bool == true && rows[1]["steps_compared"] as? Int == 4)
    }

    @Test("a python that does not exist makes every replay unavailable, with the reason")
    func missingPython() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let shape = NetworkShape.standard(for: .classification)
        let results = ReferenceReplay.run(
            frameworks: try ReferenceFramework.named("numpy,jax"), python: "/nonexistent/python3",
            exportDirectory: folder.path, referenceLosses: [1], referenceWeights: .glorotNormal(shape: shape, seed: 42),
            stepsPerEpoch: 1, log: { _ in })
        #expect(results.map(\.script) == ["numpy_manual.py", "jax_grad.py"])
        #expect(results.allSatisfy { !$0.available && $0.reason == "cannot start /nonexistent/python3: no such file" })
        #expect(ReferenceReplay.failure(results) == nil)
        #expect(ReferenceReplay.tableText(results, task: .classification)
            .contains("NumPy by hand (manual)                          not available: cannot start /nonexistent/python3"))
    }

    @Test("a replay that crashes is one line naming it and its script; the report is still written")
    func crashingScript() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (output, scripts, reports) = try runWithFakeNumPyReplay(
            in: folder, numpy: "import sys\nprint('starting', file=sys.stderr)\nraise RuntimeError('the replay broke')\n")
        #expect(output.status == 1)
        let errors = output.errorLines
        #expect(errors.count == 1, "\(output.standardError)")
        let line = String(errors.last ?? "")
        #expect(line.contains("NumPy by hand") && line.contains(scripts.appendingPathComponent("numpy_manual.py").path))
        #expect(line.contains("exited with status 1") && line.contains("RuntimeError: the replay broke"), "\(line)")

        let summary = try readJSON(reports.appendingPathComponent("summary.json"))
        #expect((summary["agreement"] as? [String: Any])?["passed"] as? Bool == true)
        let rows = try #require(summary["references"] as? [[String: Any]])
        #expect((rows.first?["error"] as? String)?.contains("the replay broke") == true)
        #expect(FileManager.default.fileExists(atPath: reports.appendingPathComponent("loss.png").path))
    }

    @Test("a replay that hangs, even ignoring SIGTERM and with a worker process, is stopped at --reference-timeout with its worker: one line naming it")
    func hangingScript() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        // It also starts a worker process that holds its output pipes, as a framework's data
        // workers do; the worker's pid goes to a file, to check that the worker was stopped too.
        let workerFile = folder.appendingPathComponent("worker.pid").path
        let started = Date()
        let (output, _, reports) = try runWithFakeNumPyReplay(
            in: folder,
            numpy: "import signal, subprocess, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                + "worker = subprocess.Popen(['sleep', '600'])\nopen('\(workerFile)', 'w').write(str(worker.pid))\n"
                + "print('waiting', file=sys.stderr)\ntime.sleep(600)\n",
            ["--reference-timeout", "1"])
        let worker = try #require(Int32(String(contentsOfFile: workerFile, encoding: .utf8)))
        for _ in 0..<20 where isRunning(worker) { usleep(100_000) }
        #expect(!isRunning(worker), "the replay's worker \(worker) is still running")
        if isRunning(worker) { kill(worker, SIGKILL) }
        #expect(Date().timeIntervalSince(started) < 60, "SIGKILL follows SIGTERM 5 s later")
        #expect(output.status == 1)
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        let line = String(output.errorLines.last ?? "")
        #expect(line.contains("NumPy by hand") && line.contains("did not finish within 1 s (--reference-timeout)"), "\(line)")
        #expect(line.contains(reports.appendingPathComponent("run/results/numpy/stderr.txt").path), "\(line)")
        let rows = try #require(try readJSON(reports.appendingPathComponent("summary.json"))["references"] as? [[String: Any]])
        #expect((rows.first?["error"] as? String)?.contains("did not finish") == true)
    }

    @Test("a replay that finishes but leaves a worker process running: the worker is stopped when the replay ends")
    func leftoverWorker() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("leaves_a_worker.py")
        let workerFile = folder.appendingPathComponent("worker.pid").path
        try ("import subprocess\nworker = subprocess.Popen(['sleep', '600'])\n"
             + "open('\(workerFile)', 'w').write(str(worker.pid))\n")
            .write(to: script, atomically: true, encoding: .utf8)
        let started = Date()
        let ended = try ReferenceReplay.runScript(python: "python3", script: script.path, arguments: [],
                                                  logDirectory: folder.path, timeout: 60)
        #expect(ended.status == 0 && ended.stop == nil, "\(ended.stderr)")
        #expect(Date().timeIntervalSince(started) < 30, "the replay returned when the script ended, not at the timeout")
        let worker = try #require(Int32(String(contentsOfFile: workerFile, encoding: .utf8)))
        for _ in 0..<20 where isRunning(worker) { usleep(100_000) }
        #expect(!isRunning(worker), "the replay's worker \(worker) is still running")
        if isRunning(worker) { kill(worker, SIGKILL) }
    }

    @Test("a replay that fails after pages of output is reported by its last line")
    func longLogLastLine() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (scripts, _) = try fakeReplayScripts(
            in: folder,
            numpy: "import sys\nfor i in range(200000): print('progress', i, file=sys.stderr)\nprint('ValueError: the last line', file=sys.stderr)\nsys.exit(1)\n")
        let shape = NetworkShape.standard(for: .classification)
        let results = ReferenceReplay.run(
            frameworks: try ReferenceFramework.named("numpy"), python: pythonWithNumPy ?? "python3",
            exportDirectory: folder.path, resultsDirectory: folder.appendingPathComponent("results").path,
            scriptsDirectory: scripts.path, referenceLosses: [1],
            referenceWeights: .glorotNormal(shape: shape, seed: 42), stepsPerEpoch: 1, log: { _ in })
        let error = try #require(results.first?.error)
        #expect(error.contains("exited with status 1: ValueError: the last line"), "\(error)")
        let log = try #require(FileManager.default.attributesOfItem(
            atPath: folder.appendingPathComponent("results/numpy/stderr.txt").path)[.size] as? Int)
        #expect(log > 1 << 21, "the log is longer than the 64 KiB read back: \(log) bytes")
    }

    @Test("a corrupt export is one line naming the replay and the file")
    func corruptExport() throws {
        let python = try requireNumPyPython()
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let export = folder.appendingPathComponent("run").path
        let output = try runCompare(["--levels", "4", "--epochs", "1", "--train-limit", "200", "--test-limit", "100",
                                     "--export-run", export, "--report-dir", folder.appendingPathComponent("reports").path])
        #expect(output.status == 0, "\(output.standardError)")
        let shape = NetworkShape.standard(for: .classification)
        let initial = NetworkParameters<Float>.glorotNormal(shape: shape, seed: 42)
        let numpy = try ReferenceFramework.named("numpy")

        let orderFile = (export as NSString).appendingPathComponent("batch_order.safetensors")
        let order = try #require(FileManager.default.contents(atPath: orderFile))
        try order.prefix(order.count - 100).write(to: URL(fileURLWithPath: orderFile))       // cut short
        var lines: [String] = []
        var results = ReferenceReplay.run(frameworks: numpy, python: python, exportDirectory: export,
                                          resultsDirectory: folder.appendingPathComponent("results").path,
                                          referenceLosses: [], referenceWeights: initial, log: { lines.append($0) })
        var error = try #require(results.first?.error)
        #expect(results.first?.available == true && lines == [error])
        #expect(error.contains("NumPy by hand (numpy_manual.py)") && error.contains(orderFile) && !error.contains("\n"), "\(error)")
        #expect(ReferenceReplay.failure(results)?.description == "error: \(error)")

        let recipeFile = (export as NSString).appendingPathComponent("run.json")
        try Data("{\"task\": \"classification\"".utf8).write(to: URL(fileURLWithPath: recipeFile))
        results = ReferenceReplay.run(frameworks: numpy, python: python, exportDirectory: export,
                                      resultsDirectory: folder.appendingPathComponent("results").path,
                                      referenceLosses: [], referenceWeights: initial, stepsPerEpoch: 4, log: { _ in })
        error = try #require(results.first?.error)
        #expect(error.contains("numpy_manual.py") && error.contains(recipeFile), "\(error)")
    }

    @Test("a replay whose losses drift beyond the tolerance is named with its first step")
    func disagreementNamesTheStep() throws {
        let shape = NetworkShape.standard(for: .regression)
        let weights = NetworkParameters<Float>.glorotNormal(shape: shape, seed: 1)
        let reference: [Double] = [2.0, 1.5, 1.2, 1.0, 0.9, 0.8]
        var replayed = reference.map { $0 * (1 + 1e-7) }
        replayed[3] = 1.002                                  // 2e-3 relative at step 4 (epoch 2)
        let jax = try #require(try ReferenceFramework.named("jax").first)
        var row = ReferenceReplay.compare(jax, losses: replayed, weights: weights, referenceLosses: reference,
                                          referenceWeights: weights, stepsPerEpoch: 3, tolerance: 1e-3)
        #expect(row.stepsCompared == 6 && row.firstFailingStep == 4 && !row.passed)
        #expect(abs((row.maxRelativeLossDifferenceFirstEpoch ?? 0) - 1e-7) < 1e-9)
        #expect(abs((row.maxRelativeLossDifference ?? 0) - 2e-3) < 1e-9 && row.maxRelativeWeightDifference == 0)
        #expect(row.drift.count == 6 && abs(row.drift[3] - 0.002) < 1e-12)
        #expect(ReferenceReplay.failure([row])?.description
            == "error: levels disagree: JAX value_and_grad + jit (jax_grad.py) differs from the Swift reference first at "
            + "step 4, beyond relative tolerance 0.001 (--reference-tolerance)")

        // One step short: fails at the step it did not run. A bias moved by 0.02 from its reference of
        // zeros (a tensor of zeros has no scale, so its difference counts as it is).
        var moved = weights
        moved.fc3.bias.storage[0] += 0.02
        row = ReferenceReplay.compare(jax, losses: Array(reference.dropLast()), weights: moved, referenceLosses: reference,
                                      referenceWeights: weights, stepsPerEpoch: 3, tolerance: 1e-3)
        #expect(row.firstFailingStep == 6 && row.stepsCompared == 5 && row.maxRelativeLossDifference == 0)
        #expect(abs((row.maxRelativeWeightDifference ?? 0) - 0.02) < 1e-7)
    }
}
