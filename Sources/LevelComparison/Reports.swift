// Reports.swift — everything compare-levels writes to Reports/.
//
// Teaches: the evidence, in files: per-level histories (CSV), the summary (JSON and Markdown)
// and the charts (PNG). Every file is written to a temporary name and renamed, so a run that is
// interrupted or fails leaves the previous report whole.
// Leaves out: computing the numbers (Comparison, Agreement, BLASCeiling).

import Charts
import Foundation
import Shared
import TrainingCLI

extension ComparisonOutcome {
    /// Every file a comparison of `styles` may write into its report folder (checked before
    /// training: none may be a folder, a device or a pipe). ``writeReports(to:)`` writes a subset.
    public static func reportFileNames(styles: [String], task: Task) -> [String] {
        styles.map { "history-\($0).csv" }
            + ["loss.png", ReportCharts.metricFileName(task), "agreement.png", "throughput.png", "drift.png",
               "mistake.png", "saturation.png", "regression-4d.png", "summary.json", "summary.md"]
    }

    /// Writes the histories, charts and summaries into `directory`; returns the file names.
    @discardableResult
    public func writeReports(to directory: String) throws -> [String] {
        let task = experiment.options.task
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        var written: [String] = []
        try ReportDirectory.create(directory)

        // A style that completed no epoch (stopped, or diverged in its first) leaves its earlier
        // history as it was, as level4-manual does.
        for run in runs where !run.trained.result.epochs.isEmpty {
            let name = "history-\(run.style.id).csv"
            try AtomicFile.write(string: HistoryCSV.text(run.trained.result.epochs, task: task), to: path(name))
            written.append(name)
        }

        var charts: [ReportCharts.File] = [
            ("loss.png", { try ReportCharts.loss(self.runs.map(\.history), task: task).renderPNG(to: $0) }),
            (ReportCharts.metricFileName(task), { try ReportCharts.metric(self.runs.map(\.history), task: task).renderPNG(to: $0) }),
            ("agreement.png", { try self.agreementChart().renderPNG(to: $0) }),
            ("throughput.png", { try self.throughputChart().renderPNG(to: $0) }),
        ]
        if let references, references.contains(where: { !$0.drift.isEmpty }) {
            charts.append(("drift.png", { try ReferenceReplay.driftChart(references, referenceName: self.reference.label).renderPNG(to: $0) }))
        }
        if let mistake {
            charts.append(("mistake.png", { try mistake.chart.renderPNG(to: $0) }))
        }
        if let saturation, saturation.count > 1 {
            charts.append(("saturation.png", { try self.saturationChart(saturation).renderPNG(to: $0) }))
        }
        if task == .regression {
            let weights = runs.first { $0.style.id == reference.id }?.trained.parameters ?? experiment.initialParameters
            charts.append(("regression-4d.png", {
                try ReportCharts.regressionFigure(test: self.experiment.test, weights: weights, label: self.reference.label)
                    .renderPNG(to: $0)
            }))
        }
        written += try ReportCharts.write(charts, in: directory)

        try AtomicFile.write(try summaryJSON(), to: path("summary.json"))
        try AtomicFile.write(string: summaryMarkdown(charts: charts.map(\.name)), to: path("summary.md"))
        return written + ["summary.json", "summary.md"]
    }

    /// `agreement.png`: per step, `|ℓ − ℓ_ref|` of every level against the reference, on a log
    /// axis; zeros (bitwise identical) sit in a labelled band instead of at log(0).
    func agreementChart() -> LineChart {
        let series = agreements.map { agreement in
            LineSeries(name: "\(agreement.style) − \(reference.id)",
                       values: agreement.stepDifferences)
        }
        let note = bitwiseIdentical
            ? "every style bitwise identical to \(reference.id): all differences are exactly 0"
            : "relative tolerance \(settings.tolerance)"
        return LineChart(title: "Agreement: |batch loss − \(reference.id)'s| at every step",
                         xLabel: "training step", yLabel: "absolute loss difference", yScale: .logarithmic,
                         series: series,
                         annotations: [.zeroBand(label: "bitwise identical (difference 0)"), .note(note)])
    }

    /// `throughput.png`: training samples per second of every level beside the BLAS ceiling.
    /// With `--benchmark`, the bars are the benchmark's medians (min–max in the label) and the
    /// line is its ceiling, all measured in the same interleaved rounds.
    func throughputChart() -> BarChart {
        if let benchmark { return benchmarkThroughputChart(benchmark) }
        let ceilingRate = Double(experiment.train.count) / ceiling.secondsPerEpoch
        let bars = runs.map { run in
            Bar(label: run.style.label, value: run.samplesPerSecond,
                valueText: "\(formatValue(run.samplesPerSecond.rounded())) (\(format(100 * run.samplesPerSecond / ceilingRate, 0))%)")
        }
        return BarChart(title: "Training throughput (median epoch) — \(KernelThreads.count) threads",
                        yLabel: "samples per second", bars: bars,
                        referenceLine: ReferenceLine(value: ceilingRate,
                                                     label: "BLAS ceiling: the epoch's gemm calls alone, \(format(ceiling.gflops, 1)) GFLOP/s"))
    }

    func benchmarkThroughputChart(_ benchmark: BenchmarkReport) -> BarChart {
        let ceilingRate = Double(benchmark.trainSamples) / benchmark.ceilingSecondsPerEpoch.median
        let bars = benchmark.styles.map { level in
            let rate = level.samplesPerSecond
            return Bar(label: "Level \(level.level) · \(level.style) (\(formatValue(rate.min.rounded()))–\(formatValue(rate.max.rounded())))",
                       value: rate.median,
                       valueText: "\(formatValue(rate.median.rounded())) (\(format(level.percentOfCeiling.median, 0))%)")
        }
        return BarChart(title: "Throughput, median of \(benchmark.repeats) rounds (batch \(benchmark.batchSize), "
                            + "\(benchmark.threads) thread\(benchmark.threads == 1 ? "" : "s"), \(format(benchmark.peakRssMib, 0)) MiB peak)",
                        yLabel: "samples per second", bars: bars,
                        referenceLine: ReferenceLine(value: ceilingRate,
                                                     label: "BLAS ceiling: the epoch's gemm calls alone, \(format(benchmark.ceilingGflops, 1)) GFLOP/s"))
    }
}
