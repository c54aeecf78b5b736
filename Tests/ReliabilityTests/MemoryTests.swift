// MemoryTests.swift — a network too wide for the memory at hand is refused in one line before
// training, instead of a failed allocation (Swift's "Fatal error") or the kernel's OOM killer.
//
// Teaches: the arithmetic of training memory (rows × widths), and how to test a limit from
// outside: run the program under `ulimit -v` and read its exit status and message.
// Leaves out: the measurements behind the estimate's factors (MemoryBudget.swift's comment).

import Foundation
import Shared
import TestSupport
import Testing
import TrainingCLI

@Suite("Reliability: memory for the activations is checked before training")
struct MemoryTests {
    @Test("the estimate is the per-row and per-parameter arithmetic of its formula")
    func estimate() {
        let shape = NetworkShape.standard(for: .classification, hidden: [128, 64])     // 784-128-64-10
        let parameters = 128 * 785 + 64 * 129 + 10 * 65                                  // 109,386
        let perRow = 2 * 784 + 6 * (128 + 64) + 4 * 10                                    // 2,760 values
        #expect(shape.parameterCount == parameters)
        #expect(MemoryBudget.estimatedBytes(shape: shape, need: .init(rows: 64, weightCopies: 12, extraBytes: 5))
                == Double(4 * (64 * perRow + 12 * parameters) + 5))
        // Twice the rows: exactly the rows' share more.
        let growth = MemoryBudget.estimatedBytes(shape: shape, need: .init(rows: 128))
            - MemoryBudget.estimatedBytes(shape: shape, need: .init(rows: 64))
        #expect(growth == Double(4 * 64 * perRow))
    }

    @Test("rows: the larger of a training batch (at most the training set) and an evaluation chunk (at most 1,000 test rows)")
    func rows() {
        #expect(MemoryBudget.Need.rows(batchSize: 64, trainCount: 60_000, testCount: 10_000) == 1000)
        #expect(MemoryBudget.Need.rows(batchSize: 60_000, trainCount: 100, testCount: 10_000) == 1000)
        #expect(MemoryBudget.Need.rows(batchSize: 60_000, trainCount: 20_000, testCount: 10_000) == 20_000)
        #expect(MemoryBudget.Need.rows(batchSize: 64, trainCount: 60_000, testCount: 300) == 300)
    }

    @Test("a limit below the estimate is refused with the options, both sizes and the right advice; above it, or none, passes")
    func check() throws {
        let shape = NetworkShape.standard(for: .classification, hidden: [4096, 4096])
        let need = MemoryBudget.Need(rows: 60_000)
        let needed = MemoryBudget.estimatedBytes(shape: shape, need: need)                // about 12 GB
        let tight = MemoryBudget.Limit(bytes: 6e9, source: "ulimit -v")
        #expect(throws: NeuralLevelsError.badOption(
            option: "--batch-size 60000 with --hidden 4096,4096",
            reason: "training needs about \(String(format: "%.1f", needed / 1e9)) GB (batches of up to 60000 rows, "
                + "4 copies of the weights), more than the 6.0 GB left (ulimit -v); use a smaller --batch-size or --hidden")) {
            try MemoryBudget.check(shape: shape, need: need, batchSize: 60_000, limit: tight)
        }
        try MemoryBudget.check(shape: shape, need: need, batchSize: 60_000,
                               limit: MemoryBudget.Limit(bytes: needed + 1, source: "available memory"))
        try MemoryBudget.check(shape: shape, need: need, batchSize: 60_000, limit: nil)
        // When the weights alone do not fit, a smaller batch cannot help: the advice says so.
        let weights = MemoryBudget.estimatedBytes(shape: shape, need: .init(rows: 0))
        do {
            try MemoryBudget.check(shape: shape, need: .init(rows: 1000), batchSize: 64,
                                   limit: MemoryBudget.Limit(bytes: weights / 2, source: "ulimit -v"))
            Issue.record("not refused")
        } catch let error as NeuralLevelsError {
            #expect(error.description.hasSuffix("(ulimit -v); use a smaller --hidden"), "\(error)")
        }
        // When the program's own mappings leave nothing, no network fits: the advice is the limit.
        let noRoom = MemoryBudget.Limit(bytes: -3e8, source: "ulimit -v", addressSpace: .init(limit: 8e8, programMaps: 1.1e9))
        let small = MemoryBudget.estimatedBytes(shape: shape, need: .init(rows: 1000))      // about 0.52 GB
        try #require(small > 5e8 && small < 6e8)
        #expect(throws: NeuralLevelsError.badOption(
            option: "--batch-size 64 with --hidden 4096,4096",
            reason: "training needs about \(Int((small / 1e6).rounded())) MB, "
                + "but ulimit -v (800 MB) is less than the about 1.1 GB of address space the program maps before training "
                + "(thread stacks, malloc's arenas, OpenBLAS's buffers); raise ulimit -v to at least 1.7 GB")) {   // 1.1 + 0.5x, up
            try MemoryBudget.check(shape: shape, need: .init(rows: 1000), batchSize: 64, limit: noRoom)
        }
    }

    @Test("under a ulimit -v too small for any run, level4-manual exits 64 in one line, and does not hang at exit")
    func tooSmallForAnyRun() throws {
        let scratch = try ScratchFolder()
        // 200 MB: OpenBLAS's worker thread cannot get its 128 MB buffer and retries forever; the
        // exit handlers would join it (and a SIGTERM only asks the run to stop): `timeout -k` turns
        // a hang into status 124 or a SIGKILL.
        let output = try RunningProcess(url: URL(fileURLWithPath: "/bin/bash"), [
            "-c", "ulimit -v 200000 && exec timeout -k 5 60 \"$0\" \"$@\"", productsDirectory.appendingPathComponent("level4-manual").path,
            "--task", "regression", "--epochs", "1", "--report-dir", scratch.path("r"),
        ]).finish()
        #expect(output.status == 64, "\(output.standardError)")
        #expect(output.errorLines.count == 1 && output.errorLines.first?.contains("raise ulimit -v to at least") == true,
                "\(output.standardError)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("r")))
    }

    @Test("this machine's limit is read, and is no more than its memory")
    func currentLimit() throws {
        let limit = try #require(MemoryBudget.currentLimit())          // /proc/meminfo exists on Linux
        #expect(limit.bytes > 0)
        var physical = Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
        if let cgroup = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let max = Double(cgroup.trimmingCharacters(in: .whitespacesAndNewlines)) { physical = min(physical, max) }
        #expect(limit.bytes <= physical)
    }

    @Test("the estimate bounds what a large batch really adds to peak memory, within a factor of 3")
    func estimateBoundsMeasuredMemory() throws {
        let scratch = try ScratchFolder()
        /// Peak RSS in bytes of compare-levels (autograd, the tape, and manual) at `batch` rows.
        func peak(batch: Int) throws -> Double {
            let arguments = ["--levels", "autograd,manual", "--epochs", "1", "--train-limit", "8192", "--test-limit", "1000",
                             "--hidden", "512,512", "--batch-size", "\(batch)", "--report-dir", scratch.path("reports\(batch)")]
            // A python parent measures its one child alone (this process has many).
            let script = "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
                + "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
            let output = try RunningProcess(url: URL(fileURLWithPath: "/usr/bin/env"),
                                            ["python3", "-c", script, productsDirectory.appendingPathComponent("compare-levels").path]
                                                + arguments).finish()
            let fields = output.standardOutput.split(whereSeparator: \.isWhitespace)
            try #require(fields.count == 2 && fields[0] == "0", "\(output.standardOutput) \(output.standardError)")
            return try #require(Double(fields[1])) * 1024                                 // ru_maxrss is in KiB
        }
        let grown = try peak(batch: 8192) - peak(batch: 64)
        let shape = NetworkShape.standard(for: .classification, hidden: [512, 512])
        let estimated = MemoryBudget.estimatedBytes(shape: shape, need: .init(rows: 8192))
            - MemoryBudget.estimatedBytes(shape: shape, need: .init(rows: 64))
        #expect(grown > 0 && grown <= estimated && estimated <= 3 * grown, "grew \(grown / 1e6) MB, estimated \(estimated / 1e6) MB")
    }

    @Test("level4-manual under ulimit -v: a wide network with a large batch exits 64 in one line, writing nothing")
    func refusedUnderAddressLimit() throws {
        let scratch = try ScratchFolder()
        // Regression (synthetic data, no files): batches of 10,000 rows through 4096 + 4096 units,
        // about 2.2 GB by the estimate, against a 2 GB address space.
        let output = try runInShell("level4-manual", [
            "--task", "regression", "--hidden", "4096,4096", "--batch-size", "10000", "--epochs", "1",
            "--save-init", scratch.path("init.safetensors"), "--report-dir", scratch.path("reports"),
        ], setup: "ulimit -v 2000000 &&")
        let lines = output.errorLines
        #expect(output.status == 64 && !output.endedBySignal, "\(output.standardError)")
        #expect(lines.count == 1, "one line, not: \(output.standardError)")
        #expect(lines.first?.hasPrefix("error: --batch-size 10000 with --hidden 4096,4096: training needs about") == true,
                "\(output.standardError)")
        #expect(lines.first?.contains("(ulimit -v)") == true, "\(output.standardError)")
        #expect(output.standardOutput.isEmpty, "nothing trained: \(output.standardOutput)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("init.safetensors")))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("reports")))
    }

    @Test("compare-levels --export-run under ulimit -v: a long run's batch order is written an epoch at a time")
    func exportStreamsUnderAddressLimit() throws {
        let scratch = try ScratchFolder()
        // 2,000 epochs of the 60,000 synthetic samples: a 480 MB batch order. Built in memory (every
        // epoch's order, then the encoded file) it needed about 960 MB, and this run ended in
        // "failed to allocate" (exit 134) under a 1 GB address space; now it needs one epoch's order
        // at a time. --trace: one step, no training.
        let (epochs, samples) = (2000, 60_000)
        let output = try runInShell("compare-levels", [
            "--task", "regression", "--levels", "4", "--epochs", "\(epochs)", "--trace", "--export-run", scratch.path("run"),
            "--threads", "1",                   // no helper threads, whose stacks and heaps take address space
        ], setup: "ulimit -v 1000000 &&")
        #expect(output.status == 0 && !output.endedBySignal, "\(output.standardError)")
        let handle = try #require(FileHandle(forReadingAtPath: scratch.path("run/batch_order.safetensors")))
        defer { try? handle.close() }
        let lengthBytes = try #require(try handle.read(upToCount: 8))
        let headerLength = lengthBytes.reversed().reduce(0) { $0 << 8 | Int($1) }
        let headerBytes = try #require(try handle.read(upToCount: headerLength))
        let header = try #require(try JSONSerialization.jsonObject(with: headerBytes) as? [String: Any])
        #expect(header.count == epochs + 1, "every epoch's tensor and the metadata")
        let last = try #require(header["epoch_\(epochs)"] as? [String: Any])
        #expect(last["data_offsets"] as? [Int] == [4 * samples * (epochs - 1), 4 * samples * epochs])
        #expect(try handle.seekToEnd() == UInt64(8 + headerLength + 4 * samples * epochs))
        // The last epoch's rows, as the training loop orders them.
        try handle.seek(toOffset: UInt64(8 + headerLength + 4 * samples * (epochs - 1)))
        let bytes = try #require(try handle.read(upToCount: 4 * samples))
        let rows = stride(from: 0, to: bytes.count, by: 4).map { i in
            Int(Int32(littleEndian: bytes[i..<(i + 4)].reversed().reduce(0) { $0 << 8 | Int32($1) }))
        }
        let schedule = BatchSchedule(sampleCount: samples, batchSize: 64, shuffle: true, seed: 42)
        #expect(rows == schedule.order(epoch: epochs))
    }
}
