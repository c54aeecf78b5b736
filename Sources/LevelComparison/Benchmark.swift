// Benchmark.swift — compare-levels --benchmark: how fast is each style, measured fairly.
//
// Teaches: how to time code on a shared, noisy machine. One epoch is one sample. Every style,
// and the BLAS ceiling, is measured once per round, round after round, and `manual` (the
// reference) just before and just after each of them: a ratio compares a measurement with the
// reference's two nearest in time, so a machine whose speed drifts from second to second moves
// it least. Medians (with min–max) summarise the rounds. Speed is shown four ways: seconds per
// epoch, samples per second, GFLOP/s of the epoch's matrix products, and the fraction of the
// in-run ceiling (the epoch's gemm calls alone). Process CPU time per epoch is reported beside
// wall time: it is what a loaded machine changes least. A second, small-network figure (the
// regression net at batch 32) measures per-step overhead, where arithmetic is negligible and
// every abstraction shows.
// Leaves out: the styles' correctness (compare-levels checks that in the same run).

import Foundation
import Shared
import TrainingCLI

#if canImport(Glibc)
import Glibc
#endif

/// What a benchmark run measures.
public struct BenchmarkSettings: Sendable {
    /// Rounds: every style trains one epoch per round (and the ceiling is measured once).
    public var repeats: Int
    /// Whether to measure the small-network regime too.
    public var smallNetwork: Bool
    /// The small-network recipe: the regression net, `samples` samples, batch `batchSize`,
    /// `epochs` epochs per round (the median epoch counts).
    public var smallSamples: Int
    public var smallBatchSize: Int
    public var smallEpochs: Int

    public init(repeats: Int = 5, smallNetwork: Bool = true, smallSamples: Int = 10_000,
                smallBatchSize: Int = 32, smallEpochs: Int = 5) {
        self.repeats = max(1, repeats)
        self.smallNetwork = smallNetwork
        self.smallSamples = smallSamples
        self.smallBatchSize = smallBatchSize
        self.smallEpochs = smallEpochs
    }
}

/// The median and range of a set of measurements.
public struct Spread: Codable, Sendable, Equatable {
    public var median: Double
    public var min: Double
    public var max: Double

    public init(_ values: [Double]) {
        median = LevelComparison.median(values)
        min = values.min() ?? .nan
        max = values.max() ?? .nan
    }

    /// `f` applied to each end; for a decreasing `f` (rates from times) the ends swap.
    func map(_ f: (Double) -> Double) -> Spread {
        var result = self
        result.median = f(median)
        let (a, b) = (f(min), f(max))
        result.min = Swift.min(a, b)
        result.max = Swift.max(a, b)
        return result
    }
}

/// Everything `--benchmark` measured (the `benchmark` object of `summary.json`).
public struct BenchmarkReport: Codable, Sendable {
    public struct StyleResult: Codable, Sendable {
        public var level: Int
        public var style: String
        /// Wall-clock seconds per epoch (training steps only) over the rounds (`manual`: over
        /// all of its epochs, before and after every other entry).
        public var secondsPerEpoch: Spread
        /// Process CPU seconds per epoch (every thread, OpenBLAS's included).
        public var cpuSecondsPerEpoch: Spread
        /// Training samples per second at the median epoch, and over the rounds.
        public var samplesPerSecond: Spread
        /// GFLOP/s of the epoch's matrix products at that speed.
        public var gflops: Spread
        /// Ceiling time / style time, in percent. With `manual` in the run: for `manual`, the
        /// ceiling over the mean of `manual`'s epochs just before and after it, per round; for
        /// another style, `manual`'s median over the style's ``ratioToManual`` (min and max: the
        /// same per round). Without it: over the same round's ceiling.
        public var percentOfCeiling: Spread
        /// Style time / the mean of `manual`'s epochs just before and after it (the median over
        /// the rounds); nil without `manual`.
        public var ratioToManual: Double?
        /// The process's peak resident memory after this style's rounds (MiB; it only grows).
        public var peakRssMib: Double
    }
    public struct SmallNetworkResult: Codable, Sendable {
        public var level: Int
        public var style: String
        /// Training steps per second at the median epoch of each round, over the rounds.
        public var stepsPerSecond: Spread
        /// Steps per second / the mean of `manual`'s runs just before and after (median over the
        /// rounds); nil without `manual`.
        public var ratioToManual: Double?
    }
    public struct SmallNetwork: Codable, Sendable {
        public var description: String
        public var samples: Int
        public var batchSize: Int
        public var stepsPerEpoch: Int
        public var epochsPerRound: Int
        public var styles: [SmallNetworkResult]
    }

    public var repeats: Int
    public var threads: Int
    public var batchSize: Int
    public var trainSamples: Int
    public var stepsPerEpoch: Int
    /// `Σ 2·m·n·k` over one epoch's gemm calls (27.26 GFLOP for 784-128-64-10 on 60,000).
    public var gflopPerEpoch: Double
    /// The in-run BLAS ceiling, seconds per epoch, one measurement per round.
    public var ceilingSecondsPerEpoch: Spread
    public var ceilingGflops: Double
    /// Seconds spent reading and decoding the data set (nil when not measured).
    public var dataLoadSeconds: Double?
    /// The process's peak resident memory (getrusage `ru_maxrss`), MiB.
    public var peakRssMib: Double
    public var styles: [StyleResult]
    public var smallNetwork: SmallNetwork?
    /// OpenBLAS's CPU kernels in this run (`BLASLibrary/kernels`), e.g. "Haswell".
    public var blasKernels: String? = nil
}

/// `ru_maxrss` of this process, in MiB (Linux reports KiB).
public func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// CPU time of the whole process (all threads), seconds.
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

public enum Benchmark {
    /// Measures every style: `repeats` rounds of one epoch each (and one ceiling per round),
    /// then, if asked, the small-network regime. Returns nil when `shouldStop` becomes true
    /// (Ctrl-C): a partial benchmark is not reported.
    public static func run(_ experiment: Experiment, styles: [Style], settings: BenchmarkSettings,
                           dataLoadSeconds: Double? = nil,
                           shouldStop: @escaping () -> Bool = { false },
                           log: (String) -> Void = { print($0) }) throws -> BenchmarkReport? {
        do {
            return try measure(experiment, styles: styles, settings: settings, dataLoadSeconds: dataLoadSeconds,
                               shouldStop: shouldStop, log: log)
        } catch where shouldStop() {
            return nil
        }
    }

    static func measure(_ experiment: Experiment, styles: [Style], settings: BenchmarkSettings,
                        dataLoadSeconds: Double?, shouldStop: @escaping () -> Bool,
                        log: (String) -> Void) throws -> BenchmarkReport {
        var recipe = experiment.options.recipe
        recipe.epochs = 1
        let schedule = BatchSchedule(sampleCount: experiment.train.count, batchSize: recipe.batchSize,
                                     shuffle: recipe.shuffle, seed: recipe.seed)
        let (reference, others) = manualAndOthers(styles)
        // Each round: `manual`, the ceiling, `manual`, every other style each followed by `manual`.
        let entries: [Entry] = reference == nil
            ? others.map { .style($0) } + [.ceiling]
            : [.ceiling] + others.map { .style($0) }
        var wall = [String: [Double]](), cpu = [String: [Double]](), peak = [String: Double]()
        var ratios = [String: [Double]](), percents = [String: [Double]]()
        var ceilings: [Double] = []
        var flops = 0.0
        log("\nBenchmark: \(settings.repeats) rounds of one epoch per style, \(KernelThreads.count) thread(s), "
            + "\(BLASLibrary.kernels) kernels" + (reference == nil ? "" : "; manual before and after each"))
        for round in 1...settings.repeats {
            var line = "  round \(round):"
            let measured = try measureBracketed(entries, reference: reference.map { .style($0) }) { entry in
                switch entry {
                case .ceiling:
                    let ceiling = BLASCeiling.measure(shape: experiment.shape, sampleCount: experiment.train.count,
                                                      batchSize: recipe.batchSize, repeats: 1)
                    flops = ceiling.flopsPerEpoch
                    line += " ceiling \(format(ceiling.secondsPerEpoch, 3))s"
                    return (ceiling.secondsPerEpoch, Double.nan)
                case .style(let style):
                    let time = try timeOneEpoch(style, experiment: experiment, recipe: recipe, shouldStop: shouldStop)
                    peak[style.id] = peakResidentMiB()
                    line += " \(style.id) \(format(time.0, 3))s"
                    if shouldStop() { throw NeuralLevelsError.failure("benchmark interrupted in round \(round)") }
                    return time
                }
            }
            log(line)
            for (entry, time) in zip(entries, measured.items) {
                guard case .style(let style) = entry else { ceilings.append(time.0); continue }
                wall[style.id, default: []].append(time.0)
                cpu[style.id, default: []].append(time.1)
            }
            guard let reference else { continue }
            wall[reference.id, default: []] += measured.referenceRuns.map(\.0)
            cpu[reference.id, default: []] += measured.referenceRuns.map(\.1)
            // Every ratio compares an entry with the mean of `manual`'s epochs just before and after it.
            let roundRatios = measured.ratiosToReference { $0.0 }
            let manualPercent = 100 * roundRatios[0]                          // entries[0] is the ceiling
            percents[reference.id, default: []].append(manualPercent)
            ratios[reference.id, default: []].append(1)
            for (entry, ratio) in zip(entries, roundRatios) {
                guard case .style(let style) = entry else { continue }
                ratios[style.id, default: []].append(ratio)
                percents[style.id, default: []].append(manualPercent / ratio)
            }
        }

        let samples = Double(experiment.train.count)
        let results = styles.map { style -> BenchmarkReport.StyleResult in
            let seconds = Spread(wall[style.id] ?? [])
            var percent = Spread(reference == nil
                ? zip(ceilings, wall[style.id] ?? []).map { 100 * $0 / $1 }     // the same round's ceiling
                : percents[style.id] ?? [])
            if let reference, style.id != reference.id {     // Level 4's median % over the style's median ratio
                percent.median = median(percents[reference.id] ?? []) / median(ratios[style.id] ?? [])
                (percent.min, percent.max) = (Swift.min(percent.min, percent.median), Swift.max(percent.max, percent.median))
            }
            return BenchmarkReport.StyleResult(
                level: style.level, style: style.id, secondsPerEpoch: seconds,
                cpuSecondsPerEpoch: Spread(cpu[style.id] ?? []),
                samplesPerSecond: seconds.map { samples / $0 },
                gflops: seconds.map { flops / $0 / 1e9 },
                percentOfCeiling: percent,
                ratioToManual: reference == nil ? nil : median(ratios[style.id] ?? []),
                peakRssMib: peak[style.id] ?? peakResidentMiB())
        }
        let ceiling = Spread(ceilings)
        var report = BenchmarkReport(
            repeats: settings.repeats, threads: KernelThreads.count, batchSize: recipe.batchSize,
            trainSamples: experiment.train.count, stepsPerEpoch: schedule.stepsPerEpoch,
            gflopPerEpoch: flops / 1e9, ceilingSecondsPerEpoch: ceiling,
            ceilingGflops: flops / ceiling.median / 1e9, dataLoadSeconds: dataLoadSeconds,
            peakRssMib: peakResidentMiB(), styles: results, smallNetwork: nil, blasKernels: BLASLibrary.kernels)
        if settings.smallNetwork {
            report.smallNetwork = try smallNetwork(styles: styles, settings: settings, seed: recipe.seed,
                                                   shouldStop: shouldStop, log: log)
        }
        report.peakRssMib = peakResidentMiB()
        return report
    }

    /// `manual`, the reference of every ratio, if it runs; and the other styles, in order.
    static func manualAndOthers(_ styles: [Style]) -> (manual: Style?, others: [Style]) {
        (styles.first { $0.id == "manual" }, styles.filter { $0.id != "manual" })
    }

    /// What a round measures: one epoch of a style, or the ceiling's products for one epoch.
    enum Entry {
        case ceiling
        case style(Style)
    }

    /// One style, one epoch from the initial weights: (wall seconds of the training steps,
    /// process CPU seconds of the same span).
    static func timeOneEpoch(_ style: Style, experiment: Experiment, recipe: Recipe,
                             shouldStop: @escaping () -> Bool) throws -> (Double, Double) {
        let clock = CPUClock()
        let job = TrainingJob(style: style.id, train: experiment.train, test: experiment.test,
                              initialParameters: experiment.initialParameters, recipe: recipe,
                              shouldStop: shouldStop, onEvent: clock.handle)
        let trained = try style.run(job)
        if let error = trained.result.stopError { throw error }
        guard let record = trained.result.epochs.first else {
            throw NeuralLevelsError.failure("benchmark: \(style.id) finished no epoch")
        }
        return (record.seconds, clock.seconds.first ?? .nan)
    }

    /// The regression net (3 → 64 → 32 → 1) at batch 32 on `smallSamples` synthetic samples:
    /// steps per second per style, each style beside `manual` as above.
    static func smallNetwork(styles: [Style], settings: BenchmarkSettings, seed: UInt64,
                             shouldStop: @escaping () -> Bool,
                             log: (String) -> Void) throws -> BenchmarkReport.SmallNetwork {
        let data = SyntheticRegression.make(seed: seed, trainCount: settings.smallSamples, testCount: 1_000,
                                            as: Float.self)
        let shape = NetworkShape.standard(for: .regression)
        let initial = NetworkParameters<Float>.glorotNormal(shape: shape, seed: seed)
        let recipe = Recipe(epochs: settings.smallEpochs, batchSize: settings.smallBatchSize, learningRate: 0.1,
                            seed: seed, shuffle: true)
        let steps = BatchSchedule(sampleCount: data.train.count, batchSize: recipe.batchSize, shuffle: true,
                                  seed: seed).stepsPerEpoch
        log("\nSmall network: regression \(shape.sizes.map(String.init).joined(separator: "-")), batch "
            + "\(recipe.batchSize), \(data.train.count) samples, \(recipe.epochs) epochs per round")
        let (reference, others) = manualAndOthers(styles)
        var rates = [String: [Double]](), ratios = [String: [Double]]()
        for round in 1...settings.repeats {
            var line = "  round \(round):"
            let measured = try measureBracketed(others, reference: reference) { style in
                let job = TrainingJob(style: style.id, train: data.train, test: data.test,
                                      initialParameters: initial, recipe: recipe, shouldStop: shouldStop)
                let trained = try style.run(job)
                if let error = trained.result.stopError { throw error }
                let rate = Double(steps) / median(trained.result.epochs.map(\.seconds))
                line += " \(style.id) \(Int(rate.rounded())) steps/s"
                return rate
            }
            log(line)
            for (style, rate) in zip(others, measured.items) { rates[style.id, default: []].append(rate) }
            guard let reference else { continue }
            rates[reference.id, default: []] += measured.referenceRuns
            ratios[reference.id, default: []].append(1)
            for (style, ratio) in zip(others, measured.ratiosToReference { $0 }) {   // against manual's runs beside it
                ratios[style.id, default: []].append(ratio)
            }
        }
        return BenchmarkReport.SmallNetwork(
            description: "regression \(shape.sizes.map(String.init).joined(separator: "-")), batch \(recipe.batchSize), "
                + "lr 0.1, \(data.train.count) samples; median epoch of \(recipe.epochs) per round",
            samples: data.train.count, batchSize: recipe.batchSize, stepsPerEpoch: steps,
            epochsPerRound: recipe.epochs,
            styles: styles.map { style in
                .init(level: style.level, style: style.id, stepsPerSecond: Spread(rates[style.id] ?? []),
                      ratioToManual: reference == nil ? nil : median(ratios[style.id] ?? []))
            })
    }
}

// MARK: - Measuring beside a reference

/// One round's measurements, taken as `R a R b … R`: the reference `R` before and after every
/// item, so that each item can be compared with the reference measured nearest to it in time.
/// On a shared machine the speed drifts within seconds; a ratio of two neighbours hardly moves
/// with it, a ratio of two measurements a round apart does.
struct BracketedMeasurements<Value> {
    /// One value per item, in the items' order.
    var items: [Value]
    /// The reference's values in the order measured: `items.count + 1` of them (none without a
    /// reference). `referenceRuns[i]` came just before item `i`, `referenceRuns[i + 1]` just after.
    var referenceRuns: [Value]

    /// The mean of `key` over the reference's runs on either side of item `i` (NaN without a
    /// reference).
    func around(_ i: Int, _ key: (Value) -> Double) -> Double {
        guard i + 1 < referenceRuns.count else { return .nan }
        return (key(referenceRuns[i]) + key(referenceRuns[i + 1])) / 2
    }

    /// Each item's `key` over ``around(_:_:)``, in the items' order (NaNs without a reference).
    func ratiosToReference(_ key: (Value) -> Double) -> [Double] {
        items.indices.map { key(items[$0]) / around($0, key) }
    }
}

/// Measures every item once, in order, and the reference (when given) before the first item and
/// after each: `R a R b … R`.
func measureBracketed<Item, Value>(_ items: [Item], reference: Item?,
                                   _ measure: (Item) throws -> Value) rethrows -> BracketedMeasurements<Value> {
    var result = BracketedMeasurements<Value>(items: [], referenceRuns: [])
    if let reference { result.referenceRuns.append(try measure(reference)) }
    for item in items {
        result.items.append(try measure(item))
        if let reference { result.referenceRuns.append(try measure(reference)) }
    }
    return result
}

/// Process CPU time from an epoch's start to its last step (evaluation excluded), via the
/// training loop's events.
final class CPUClock {
    var start = 0.0
    var seconds: [Double] = []

    func handle(_ event: TrainingEvent) {
        switch event {
        case .epochStarted: start = processCPUSeconds()
        case let .stepEnded(_, step, steps, _, _) where step == steps: seconds.append(processCPUSeconds() - start)
        default: break
        }
    }
}

extension BenchmarkReport {
    /// The table `--benchmark` prints (and summary.md shows).
    public var table: [[String]] {
        var rows = [["style", "s/epoch median (min–max)", "CPU s/epoch", "samples/s", "GFLOP/s", "% ceiling",
                     "time × manual", "peak RSS MiB"]]
        for style in styles {
            let s = style.secondsPerEpoch
            rows.append(["Level \(style.level) · \(style.style)",
                         "\(format(s.median, 3)) (\(format(s.min, 3))–\(format(s.max, 3)))",
                         format(style.cpuSecondsPerEpoch.median, 3),
                         String(Int(style.samplesPerSecond.median.rounded())),
                         format(style.gflops.median, 1), format(style.percentOfCeiling.median, 0) + "%",
                         style.ratioToManual.map { format($0, 3) } ?? "—", format(style.peakRssMib, 0)])
        }
        let c = ceilingSecondsPerEpoch
        rows.append(["BLAS ceiling (gemm only)", "\(format(c.median, 3)) (\(format(c.min, 3))–\(format(c.max, 3)))",
                     "", String(Int((Double(trainSamples) / c.median).rounded())), format(ceilingGflops, 1), "100%",
                     "", ""])
        return rows
    }

    /// The small-network table: steps per second per style, and as a fraction of `manual`'s
    /// (measured in the same rounds).
    public var smallNetworkTable: [[String]] {
        guard let small = smallNetwork else { return [] }
        var rows = [["style", "steps/s median (min–max)", "steps/s × manual"]]
        for style in small.styles {
            let s = style.stepsPerSecond
            rows.append(["Level \(style.level) · \(style.style)",
                         "\(Int(s.median.rounded())) (\(Int(s.min.rounded()))–\(Int(s.max.rounded())))",
                         style.ratioToManual.map { format($0, 2) } ?? "—"])
        }
        return rows
    }

    /// Whether the machine was equally fast in every round: the ceiling, the same arithmetic each
    /// round, varied by at most 6%. On a shared machine some rounds can run much slower (another
    /// program's load); the per-round ratios stay comparable, the absolute times do not.
    public var isSteady: Bool { ceilingSecondsPerEpoch.max <= ceilingSecondsPerEpoch.min * 1.06 }

    /// The warning printed under the tables when ``isSteady`` is false.
    public var unsteadyWarning: String? {
        guard !isSteady else { return nil }
        let c = ceilingSecondsPerEpoch
        return "Note: the BLAS ceiling took \(format(c.min, 3))–\(format(c.max, 3)) s per epoch across rounds "
            + "(the same work each time): the machine was busy during some rounds. The % of ceiling and × manual "
            + "columns compare within each round; for absolute times, run again when the machine is idle."
    }

    /// Both tables and the headline numbers, as text for the terminal.
    public var text: String {
        var lines = ["Benchmark: median of \(repeats) rounds, batch \(batchSize), \(threads) thread(s)"
                     + (blasKernels.map { " (\($0) kernels)" } ?? "") + ", \(format(gflopPerEpoch, 2)) GFLOP per epoch",
                     "", alignedText(table)]
        if smallNetwork != nil {
            lines += ["", "Small network (\(smallNetwork!.description)):", "", alignedText(smallNetworkTable)]
        }
        lines += ["", "Peak resident memory \(format(peakRssMib, 1)) MiB"
                  + (dataLoadSeconds.map { "; data loaded in \(format($0, 3)) s" } ?? "")]
        if let unsteadyWarning { lines += ["", unsteadyWarning] }
        return lines.joined(separator: "\n")
    }
}

/// Rows as aligned columns: the first column left-aligned, the others right-aligned.
func alignedText(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    let widths = (0..<first.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { column, cell in
            column == 0
                ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[column] - cell.count) + cell
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
