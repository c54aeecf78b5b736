// DeterminismTests.swift — the same seed and options give the same weights, bit for bit
// (summary.json's `weights_sha256`), run after run; and what changes with `--threads`.
//
// Teaches: reproducibility has a precondition one rarely sees — the number of threads. The
// kernels split a product in one part per thread only when m·n·k ≥ 262,144 (`gemmMinimumPerPart`, Fast/FastLinearAlgebra.swift),
// so the regression network (3 → 64 → 32 → 1, batch 64: every product of a training step is at
// most 64·64·32) trains to identical weights with 1 or 2 threads. The classification network's
// products (64·128·784 and larger) are split, each part a single-threaded OpenBLAS call, and
// OpenBLAS (0.3.21, Haswell kernels) rounds a part of a product differently from the whole: 1
// and 2 threads give weights that differ in the last bits (each thread count is reproducible,
// and every level still agrees bit for bit with the others in the same run).
// Leaves out: other BLAS libraries and versions (summary.json records the thread count; compare
// hashes only between runs with the same one).

import Foundation
import TestSupport
import Testing

/// Every level's `weights_sha256` and per-epoch losses from one compare-levels run.
func fingerprint(_ arguments: [String]) throws -> (hashes: [String], losses: [[Double]]) {
    let scratch = try ScratchFolder()
    let output = try run("compare-levels", arguments + ["--report-dir", scratch.path("reports")])
    try #require(output.status == 0, "\(arguments): \(output.standardError)")
    let summary = try #require(jsonObject(at: scratch.path("reports/summary.json")))
    let levels = try #require(summary["levels"] as? [[String: Any]])
    let hashes = levels.compactMap { $0["weights_sha256"] as? String }
    let losses = levels.map { level in
        ((level["epochs"] as? [[String: Any]]) ?? []).flatMap { [$0["train_loss"] as? Double ?? .nan, $0["test_loss"] as? Double ?? .nan] }
    }
    #expect(hashes.count == levels.count && hashes.allSatisfy { $0.count == 64 })
    // Two losses (train, test) per epoch, every one a number: equal lists then mean something.
    let epochs = try #require(arguments.firstIndex(of: "--epochs").flatMap { Int(arguments[$0 + 1]) })
    #expect(losses.allSatisfy { $0.count == 2 * epochs && $0.allSatisfy(\.isFinite) }, "\(losses)")
    return (hashes, losses)
}

@Suite("Reliability: determinism", .serialized)
struct DeterminismTests {
    static let classification = ["--levels", "autograd,manual", "--epochs", "2", "--train-limit", "3000", "--test-limit", "500"]
    static let regression = ["--task", "regression", "--levels", "autograd,manual", "--epochs", "2", "--train-limit", "5000",
                             "--test-limit", "500"]

    @Test("same seed and options, same thread count: identical weights_sha256 and losses, run after run",
          arguments: ["1", "2"])
    func repeatable(threads: String) throws {
        let first = try fingerprint(Self.classification + ["--threads", threads])
        let second = try fingerprint(Self.classification + ["--threads", threads])
        #expect(first.hashes == second.hashes)
        #expect(first.losses == second.losses)
        #expect(Set(first.hashes).count == 1)          // and every level the same weights
    }

    @Test("a different seed gives different weights (the hash is not constant)")
    func seedMatters() throws {
        let a = try fingerprint(Self.regression)
        let b = try fingerprint(Self.regression + ["--seed", "43"])
        #expect(a.hashes != b.hashes)
    }

    @Test("regression: --threads 1 and --threads 2 give identical weights (every kernel below the splitting threshold)")
    func regressionAcrossThreadCounts() throws {
        let one = try fingerprint(Self.regression + ["--threads", "1"])
        let two = try fingerprint(Self.regression + ["--threads", "2"])
        #expect(one.hashes == two.hashes)
    }

    @Test("classification: --threads 1 and --threads 2 agree closely, though a product split in parts may round differently")
    func classificationAcrossThreadCounts() throws {
        let one = try fingerprint(Self.classification + ["--threads", "1"])
        let two = try fingerprint(Self.classification + ["--threads", "2"])
        #expect(Set(one.hashes).count == 1 && Set(two.hashes).count == 1)
        for (a, b) in zip(one.losses.flatMap { $0 }, two.losses.flatMap { $0 }) {
            #expect(abs(a - b) <= 1e-4 * abs(b), "\(a) vs \(b)")
        }
        if one.hashes != two.hashes {
            print("determinism: 1 and 2 threads give different classification weights "
                  + "(\(one.hashes[0].prefix(12))… vs \(two.hashes[0].prefix(12))…)")
        }
    }
}
