// BenchmarkTests.swift — compare-levels --benchmark writes its measurements where a program can
// read them. Only the shape of the report is checked: timings belong in the report, never in
// an assertion.

import Foundation
@testable import LevelComparison
import Shared
import TestSupport
import Testing

@Suite("compare-levels --benchmark", .serialized)
struct BenchmarkTests {
    @Test("summary.json has a benchmark object with every key, the table is printed, the chart is drawn")
    func benchmarkKeys() throws {
        let reports = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let output = try runCompare(["--levels", "gradient-tape,manual", "--epochs", "1", "--train-limit", "640", "--test-limit", "100",
                                     "--benchmark", "--repeats", "2", "--report-dir", reports.path])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput.contains("Benchmark: median of 2 rounds"))
        #expect(output.standardOutput.contains("Small network"))
        // Each round: manual, the ceiling, manual, the other style, manual.
        let rounds = output.standardOutput.split(separator: "\n").filter { $0.hasPrefix("  round ") }
        #expect(rounds.count == 4)                                               // 2 big-network, 2 small
        let order = rounds.first.map { $0.split(separator: " ").filter { $0.allSatisfy(\.isLetter) || $0.contains("-") } }
        #expect(order == ["round", "manual", "ceiling", "manual", "gradient-tape", "manual"])

        let data = try Data(contentsOf: reports.appendingPathComponent("summary.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let benchmark = try #require(summary["benchmark"] as? [String: Any])
        for key in ["repeats", "threads", "batch_size", "train_samples", "steps_per_epoch", "gflop_per_epoch",
                    "ceiling_seconds_per_epoch", "ceiling_gflops", "data_load_seconds", "peak_rss_mib", "styles",
                    "small_network", "blas_kernels"] {
            #expect(benchmark[key] != nil, "benchmark.\(key)")
        }
        // The kernels OpenBLAS chose (this test process loads the same library, same environment).
        #expect(!BLASLibrary.kernels.isEmpty && BLASLibrary.kernels != "unknown")
        #expect(benchmark["blas_kernels"] as? String == BLASLibrary.kernels)
        #expect(output.standardOutput.contains("thread(s) (\(BLASLibrary.kernels) kernels)"))
        #expect(benchmark["repeats"] as? Int == 2 && benchmark["train_samples"] as? Int == 640)
        #expect((benchmark["peak_rss_mib"] as? Double ?? 0) > 1)
        // 454,400 FLOP per sample for 784-128-64-10 (27.26 GFLOP for 60,000 samples).
        #expect(abs((benchmark["gflop_per_epoch"] as? Double ?? 0) - 640 * 454_400 / 1e9) < 1e-9)

        let levels = try #require(benchmark["styles"] as? [[String: Any]])
        #expect(levels.compactMap { $0["level"] as? Int } == [3, 4])
        #expect(levels.compactMap { $0["style"] as? String } == ["gradient-tape", "manual"])
        for level in levels {
            for key in ["level", "style", "seconds_per_epoch", "cpu_seconds_per_epoch", "samples_per_second", "gflops",
                        "percent_of_ceiling", "ratio_to_manual", "peak_rss_mib"] {
                #expect(level[key] != nil, "benchmark.styles[].\(key)")
            }
            let seconds = try #require(level["seconds_per_epoch"] as? [String: Any])
            let (median, low, high) = (seconds["median"] as? Double ?? .nan, seconds["min"] as? Double ?? .nan,
                                       seconds["max"] as? Double ?? .nan)
            #expect(low > 0 && low <= median && median <= high)
        }
        let small = try #require(benchmark["small_network"] as? [String: Any])
        for key in ["batch_size", "samples", "steps_per_epoch", "styles"] {
            #expect(small[key] != nil, "benchmark.small_network.\(key)")
        }
        #expect(small["batch_size"] as? Int == 32 && small["steps_per_epoch"] as? Int == 313)
        let smallLevels = try #require(small["styles"] as? [[String: Any]])
        #expect(smallLevels.allSatisfy { $0["steps_per_second"] is [String: Any] && $0["ratio_to_manual"] is Double })
        #expect(smallLevels.last?["ratio_to_manual"] as? Double == 1)          // manual against itself
        #expect(!output.standardOutput.contains("torch"))                       // no figure from elsewhere

        try expectChart(reports.appendingPathComponent("throughput.png").path)
        let markdown = try String(contentsOf: reports.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(markdown.contains("## Benchmark"))
    }

    @Test("rounds whose ceilings differ by more than 6% are flagged as measured on a busy machine")
    func unsteadyRoundsAreFlagged() {
        func report(ceilings: [Double]) -> BenchmarkReport {
            BenchmarkReport(repeats: ceilings.count, threads: 2, batchSize: 64, trainSamples: 60_000, stepsPerEpoch: 938,
                            gflopPerEpoch: 27.26, ceilingSecondsPerEpoch: Spread(ceilings), ceilingGflops: 180,
                            dataLoadSeconds: nil, peakRssMib: 90, styles: [], smallNetwork: nil)
        }
        let steady = report(ceilings: [0.148, 0.146, 0.150, 0.147])          // 2.7% apart
        #expect(steady.isSteady && steady.unsteadyWarning == nil && !steady.text.contains("busy"))
        let busy = report(ceilings: [0.148, 0.223, 0.146])                    // one slow round
        #expect(!busy.isSteady)
        #expect(busy.unsteadyWarning?.contains("0.146–0.223 s") == true)
        #expect(busy.text.hasSuffix(busy.unsteadyWarning ?? "missing"))
        #expect(report(ceilings: [0.100, 0.105]).isSteady && !report(ceilings: [0.100, 0.107]).isSteady)   // the 6% line
    }

    @Test("a round measures the reference before and after every item; each item's neighbours are its own")
    func bracketedOrder() throws {
        var calls: [String] = []
        var clock = 0.0
        let measured = measureBracketed(["a", "b", "c"], reference: "R") { item -> Double in
            calls.append(item)
            clock += 1
            return clock                                                         // the time of the call
        }
        #expect(calls == ["R", "a", "R", "b", "R", "c", "R"])
        #expect(measured.items == [2, 4, 6] && measured.referenceRuns == [1, 3, 5, 7])
        #expect((0..<3).map { measured.around($0) { $0 } } == [2, 4, 6])      // R's mean around each item
        #expect(measured.around(3) { $0 }.isNaN)
        #expect(measured.ratiosToReference { $0 } == [1, 1, 1])                 // 2/2, 4/4, 6/6
        let squares: [Double] = measured.ratiosToReference { $0 * $0 }
        let expected: [Double] = [4.0 / 5, 16.0 / 17, 36.0 / 37]                 // 4/((1+9)/2), 16/((9+25)/2), …
        #expect(squares == expected)

        calls = []
        let alone = measureBracketed(["a", "b"], reference: nil) { item -> Double in calls.append(item); return 1 }
        #expect(calls == ["a", "b"] && alone.referenceRuns.isEmpty && alone.around(0) { $0 }.isNaN)
        let aloneRatios = alone.ratiosToReference { $0 }
        #expect(aloneRatios.count == 2 && aloneRatios.allSatisfy { $0.isNaN })

        struct Failure: Error {}
        calls = []
        #expect(throws: Failure.self) {                                          // stops at the first error
            _ = try measureBracketed(["a", "b"], reference: "R") { item -> Double in
                calls.append(item)
                if item == "a" { throw Failure() }
                return 1
            }
        }
        #expect(calls == ["R", "a"])
    }

    @Test("--repeats is validated")
    func badRepeats() throws {
        let output = try runCompare(["--benchmark", "--repeats", "0"])
        #expect(output.status == 64)
        #expect(output.standardError.contains("--repeats"))
    }
}
