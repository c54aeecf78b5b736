// Summary.swift — Reports/summary.json, Reports/summary.md and the table compare-levels prints.
//
// Teaches: a result worth trusting is written down in a form a program can check
// (summary.json) and a person can read (summary.md, the printed table), from the same numbers.
// Leaves out: the charts (ReportCharts).

import Foundation
import Shared
import TrainingCLI

/// The machine-readable summary (`Reports/summary.json`); keys are written in snake case.
public struct Summary: Codable, Sendable {
    public struct DatasetInfo: Codable, Sendable {
        public var path: String
        public var train: Int
        public var test: Int
    }
    public struct Config: Codable, Sendable {
        public var epochs: Int
        public var batchSize: Int
        public var learningRate: Double
        public var seed: UInt64
        public var hidden: [Int]
        /// `--init-scheme`, or "file" for `--init FILE`.
        public var initScheme: String
        public var shuffle: Bool
        public var threads: Int
    }
    public struct StyleSummary: Codable, Sendable {
        public var level: Int
        /// The style's id: "keras", "modules", "manual", ….
        public var style: String
        public var idiom: String
        public var epochs: [EpochRecord]
        public var secondsPerEpoch: Double
        public var samplesPerSecond: Double
        public var percentOfCeiling: Double
        public var weightsSha256: String
        public var stopped: String?
    }
    public struct Agreement: Codable, Sendable {
        public var referenceStyle: String
        public var bitwiseIdentical: Bool
        public var maxAbsLossDifference: Double
        public var maxRelLossDifference: Double
        public var maxAbsWeightDifference: Double
        public var tolerance: Double
        public var passed: Bool
        public var failure: String?
        public var styles: [StyleAgreementSummary]
    }
    public struct StyleAgreementSummary: Codable, Sendable {
        public var level: Int
        public var style: String
        public var bitwiseIdentical: Bool
        public var maxAbsLossDifference: Double
        public var maxRelLossDifference: Double
        public var maxAbsWeightDifference: Double
        public var firstFailingStep: Int?
        public var firstFailingEpoch: Int?
        public var failingTensor: String?
    }
    public struct Ceiling: Codable, Sendable {
        public var secondsPerEpoch: Double
        public var gflops: Double
        public var samplesPerSecond: Double
    }

    public var task: String
    public var dataset: DatasetInfo
    public var config: Config
    /// One entry per style run (the key keeps its first name: each entry has `level` and `style`).
    public var levels: [StyleSummary]
    public var agreement: Agreement
    public var blasCeiling: Ceiling
    /// `--benchmark` only: repeated timings, each beside `manual`'s (see Benchmark.swift).
    public var benchmark: BenchmarkReport?
    /// The saturated shares of the hidden layers per epoch (0 = initial weights), from `manual`.
    public var saturation: [SaturationRecord]? = nil
    /// `--mistake` only: where the mistaken run parted from the clean one, and why the rule exists.
    public var mistake: MistakeReport? = nil
    /// `--references` only: the replays in the Python frameworks (References.swift).
    public var references: [ReferenceResult]? = nil
}

extension ComparisonOutcome {
    /// The summary of this run.
    public var summary: Summary {
        let options = experiment.options
        let ceilingRate = Double(experiment.train.count) / ceiling.secondsPerEpoch
        let levels = runs.map { run in
            Summary.StyleSummary(
                level: run.style.level, style: run.style.id, idiom: run.style.idiom,
                epochs: run.trained.result.epochs,
                secondsPerEpoch: run.secondsPerEpoch, samplesPerSecond: run.samplesPerSecond,
                percentOfCeiling: 100 * ceiling.secondsPerEpoch / run.secondsPerEpoch,
                weightsSha256: run.weightsSHA256, stopped: run.trained.result.stopError?.description)
        }
        var summary = Summary(
            task: options.task.rawValue,
            dataset: .init(path: experiment.dataPath, train: experiment.train.count, test: experiment.test.count),
            config: .init(epochs: options.epochs, batchSize: options.batchSize, learningRate: options.learningRate,
                          seed: options.seed, hidden: experiment.shape.hidden,
                          initScheme: options.initFile == nil ? options.initScheme.rawValue : "file", shuffle: !options.noShuffle,
                          threads: KernelThreads.count),
            levels: levels,
            agreement: .init(
                referenceStyle: reference.id, bitwiseIdentical: bitwiseIdentical,
                maxAbsLossDifference: agreements.map(\.maxAbsLossDifference).max() ?? 0,
                maxRelLossDifference: agreements.map(\.maxRelLossDifference).max() ?? 0,
                maxAbsWeightDifference: agreements.map(\.maxAbsWeightDifference).max() ?? 0,
                tolerance: settings.tolerance, passed: agreementPassed, failure: failure?.description,
                styles: agreements.map {
                    .init(level: Style.named($0.style)?.level ?? 0, style: $0.style, bitwiseIdentical: $0.bitwiseIdentical,
                          maxAbsLossDifference: $0.maxAbsLossDifference, maxRelLossDifference: $0.maxRelLossDifference,
                          maxAbsWeightDifference: $0.maxAbsWeightDifference, firstFailingStep: $0.firstFailingStep,
                          firstFailingEpoch: $0.firstFailingEpoch, failingTensor: $0.failingTensor)
                }),
            blasCeiling: .init(secondsPerEpoch: ceiling.secondsPerEpoch, gflops: ceiling.gflops,
                               samplesPerSecond: ceilingRate),
            benchmark: benchmark)
        summary.references = references
        summary.saturation = saturation
        summary.mistake = mistake
        return summary
    }

    /// `summary.json`: pretty-printed, keys sorted, snake case.
    public func summaryJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try encoder.encode(summary)
    }

    /// How a style compares with the reference, in a few words.
    func agreementText(for style: String) -> String {
        if style == reference.id { return "reference" }
        guard let agreement = agreements.first(where: { $0.style == style }) else { return "—" }
        if agreement.bitwiseIdentical { return "bitwise identical" }
        let text = "max rel. loss diff \(String(format: "%.1e", agreement.maxRelLossDifference))"
        return agreement.passed ? text : "DIFFERS: " + text
    }

    /// The table printed at the end of a run (and put in summary.md).
    public var table: [[String]] {
        let metricName = experiment.options.task == .classification ? "acc" : "R²"
        var rows = [["style", "train loss", "train \(metricName)", "test loss", "test \(metricName)", "s/epoch",
                     "samples/s", "% ceiling", "agreement"]]
        for run in runs {
            let last = run.trained.result.epochs.last
            let trainMetric = (last?.trainAccuracy ?? last?.trainR2).map { format($0, 4) } ?? "—"
            let metric = (last?.testAccuracy ?? last?.testR2).map { format($0, 4) } ?? "—"
            let timed = run.secondsPerEpoch.isFinite && run.secondsPerEpoch > 0   // no epoch completed: no time
            rows.append([run.style.label, last.map { format($0.trainLoss, 4) } ?? "—", trainMetric,
                         last.map { format($0.testLoss, 4) } ?? "—", metric,
                         timed ? format(run.secondsPerEpoch, 3) : "—",
                         timed ? String(Int(run.samplesPerSecond.rounded())) : "—",
                         timed ? format(100 * ceiling.secondsPerEpoch / run.secondsPerEpoch, 0) + "%" : "—",
                         agreementText(for: run.style.id)])
        }
        rows.append(["BLAS ceiling (gemm only)", "", "", "", "", format(ceiling.secondsPerEpoch, 3),
                     String(Int((Double(experiment.train.count) / ceiling.secondsPerEpoch).rounded())),
                     "100%", format(ceiling.gflops, 1) + " GFLOP/s"])
        return rows
    }

    /// The table as aligned text for the terminal.
    public var tableText: String {
        let rows = table
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == 0 || column == row.count - 1
                    ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// `summary.md`: the table, the agreement, the configuration, and links to the charts.
    public func summaryMarkdown(charts: [String]) -> String {
        let options = experiment.options
        let rows = table
        var lines = ["# NeuralLevels — compare-levels", "",
                     "\(options.task.rawValue), \(experiment.shape.sizes.map(String.init).joined(separator: " → ")), "
                        + "data: `\(experiment.dataPath)` (\(experiment.train.count) train, \(experiment.test.count) test); "
                        + "\(options.epochs) epoch\(options.epochs == 1 ? "" : "s"), batch \(options.batchSize), learning rate \(options.learningRate), "
                        + "seed \(options.seed)\(options.noShuffle ? ", no shuffle" : ""), \(KernelThreads.count) threads.",
                     "",
                     "| " + rows[0].joined(separator: " | ") + " |",
                     "|" + String(repeating: " --- |", count: rows[0].count)]
        lines += rows.dropFirst().map { "| " + $0.joined(separator: " | ") + " |" }
        lines += ["", "## Agreement", ""]
        if let failure {
            lines.append("**Failed:** \(failure.description)")
        } else if bitwiseIdentical {
            lines.append("Every style is **bitwise identical** to \(reference.label): every step's loss, every "
                         + "epoch's test numbers and every final weight has the same bits.")
        } else {
            lines.append("Every style agrees with \(reference.label) within relative tolerance \(settings.tolerance).")
        }
        lines += ["", "| style | bitwise identical | max abs loss diff | max rel loss diff | max abs weight diff |",
                  "| --- | --- | --- | --- | --- |"]
        for a in agreements {
            lines.append("| \(a.style) | \(a.bitwiseIdentical ? "yes" : "no") | \(a.maxAbsLossDifference) | "
                         + "\(a.maxRelLossDifference) | \(a.maxAbsWeightDifference) |")
        }
        if let benchmark {
            lines += ["", "## Benchmark", "",
                      "Median of \(benchmark.repeats) rounds of one epoch (manual before and after each other entry), "
                        + "batch \(benchmark.batchSize), "
                        + "\(benchmark.threads) thread(s)"
                        + (benchmark.blasKernels.map { " (\($0) kernels)" } ?? "")
                        + ", \(format(benchmark.gflopPerEpoch, 2)) GFLOP per epoch; "
                        + "peak RSS \(format(benchmark.peakRssMib, 1)) MiB"
                        + (benchmark.dataLoadSeconds.map { ", data loaded in \(format($0, 3)) s" } ?? "") + ".", ""]
            lines += markdownTable(benchmark.table)
            if benchmark.smallNetwork != nil {
                lines += ["", "Small network (\(benchmark.smallNetwork!.description)):", ""]
                lines += markdownTable(benchmark.smallNetworkTable)
            }
            if let warning = benchmark.unsteadyWarning { lines += ["", warning] }
        }
        if let references { lines += ["", "## References", ""] + ReferenceReplay.markdownLines(references, task: options.task) }
        lines += ["", "## Weights (SHA-256 of the final safetensors)", ""]
        lines += runs.map { "- \($0.style.label): `\($0.weightsSHA256)`" }
        lines += ["", "## Charts", ""]
        lines += charts.map { "![\($0)](\($0))" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Rows as a Markdown table (the first row is the header).
func markdownTable(_ rows: [[String]]) -> [String] {
    guard let header = rows.first else { return [] }
    return ["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: " --- |", count: header.count)]
        + rows.dropFirst().map { "| " + $0.joined(separator: " | ") + " |" }
}
