// Comparison.swift — compare-levels: one start, every style, verified agreement.
//
// Teaches: how to prove that eight programs are one computation. Give them the same initial
// weights and the same batches, run each with its own loop, and compare every step's loss, every
// epoch's test numbers and every final weight with `manual`'s; time each epoch, and time the
// matrix products alone as a ceiling.
// Leaves out: the styles themselves, and drawing (ReportCharts, Charts).

import Foundation
import Level4Manual
import Shared
import TrainingCLI

/// What compare-levels was asked to do, beyond the shared training options.
public struct ComparisonSettings: Sendable {
    /// The styles to run, in the order given.
    public var styles: [Style]
    /// Relative tolerance for losses and weights (default 1e-5).
    public var tolerance: Double
    /// Test hook: scale this style's learning rate by `1 + perturbation`, so it must disagree.
    public var perturbedStyle: String?
    public var perturbation: Double

    public init(styles: [Style] = Style.all, tolerance: Double = 1e-5, perturbedStyle: String? = nil,
                perturbation: Double = 1e-2) {
        self.styles = styles
        self.tolerance = tolerance
        self.perturbedStyle = perturbedStyle
        self.perturbation = perturbation
    }
}

/// One style's run.
public struct StyleRun: Sendable {
    public var style: Style
    public var trained: TrainedLevel
    /// Median seconds per epoch.
    public var secondsPerEpoch: Double
    /// Training samples per second at that median.
    public var samplesPerSecond: Double
    /// SHA-256 of the final weights as a safetensors file.
    public var weightsSHA256: String

    public var history: StyleHistory { StyleHistory(level: style.level, style: style.id, epochs: trained.result.epochs) }
}

/// Everything one compare-levels run produced.
public struct ComparisonOutcome: Sendable {
    public var experiment: Experiment
    public var settings: ComparisonSettings
    public var runs: [StyleRun]
    /// The style the others are compared with: `manual` when it ran to the end (see
    /// ``Style/reference(among:)``).
    public var reference: Style
    public var agreements: [StyleAgreement]
    public var ceiling: BLASCeiling
    /// The saturated shares of the hidden layers per epoch, from the `manual` run (nil without it).
    public var saturation: [SaturationRecord]?
    /// `--mistake`: the mistaken run against the clean one.
    public var mistake: MistakeReport? = nil
    /// `--benchmark`'s measurements, when it ran (summary.json, the throughput chart).
    public var benchmark: BenchmarkReport? = nil
    /// `--references`: the replays in the Python frameworks (References.swift).
    public var references: [ReferenceResult]? = nil

    /// True when every style agrees with the reference within the tolerance.
    public var agreementPassed: Bool { agreements.allSatisfy(\.passed) }
    /// True when every style is bitwise identical to the reference.
    public var bitwiseIdentical: Bool { agreements.allSatisfy(\.bitwiseIdentical) }

    /// The first reason this run must exit non-zero: a style that stopped early, or the first
    /// disagreement (style, step and tensor named).
    public var failure: NeuralLevelsError? {
        if let stopped = runs.compactMap(\.trained.result.stopError).first { return stopped }
        guard let agreement = agreements.first(where: { !$0.passed }) else { return nil }
        let steps = BatchSchedule(sampleCount: experiment.train.count, batchSize: experiment.options.batchSize,
                                  shuffle: true, seed: 0).stepsPerEpoch
        if let step = agreement.firstFailingStep {
            let epoch = (step - 1) / steps + 1
            let losses = runs.first { $0.style.id == agreement.style }?.trained.result.stepLosses ?? []
            let referenceLosses = runs.first { $0.style.id == reference.id }?.trained.result.stepLosses ?? []
            let values = step <= min(losses.count, referenceLosses.count)
                ? ": loss \(losses[step - 1]) vs \(referenceLosses[step - 1])" : ": it stopped early"
            return .disagreement("\(agreement.style) differs from \(reference.id) first at step \(step) "
                + "(epoch \(epoch), step \((step - 1) % steps + 1))\(values), beyond relative tolerance \(settings.tolerance)"
                + (agreement.failingTensor.map { "; largest weight difference in \($0)" } ?? ""))
        }
        if let epoch = agreement.firstFailingEpoch {
            return .disagreement("\(agreement.style) differs from \(reference.id) in the test numbers of epoch \(epoch), "
                + "beyond relative tolerance \(settings.tolerance)")
        }
        return .disagreement("\(agreement.style) ends with weights different from \(reference.id) "
            + "in \(agreement.failingTensor ?? "?"), beyond relative tolerance \(settings.tolerance)")
    }
}

public enum Comparison {
    /// Trains every chosen style from the experiment's initial weights and batch order, measures
    /// the BLAS ceiling, and compares every style with the reference.
    ///
    /// - Parameters:
    ///   - experiment: the data, initial weights and options every style starts from.
    ///   - settings: the styles to run, the tolerance, and the test hook.
    ///   - shouldStop: asked after every training step (Ctrl-C); when it answers true, the
    ///     current style stops after that step, the styles after it are not run, and the outcome
    ///     holds what completed (the stopped style's epochs, outside the agreement).
    ///   - log: receives the progress lines (the banner before each style; by default printed
    ///     and flushed, so that a pipe such as `| tee` shows it when the style starts).
    public static func run(_ experiment: Experiment, settings: ComparisonSettings,
                           shouldStop: @escaping () -> Bool = { false },
                           log: (String) -> Void = { print($0); fflush(nil) }) throws -> ComparisonOutcome {
        let recipe = experiment.options.recipe
        var runs: [StyleRun] = []
        var saturation: [SaturationRecord]?
        var partialStyle: String?       // the style Ctrl-C stopped part-way, if any
        // The ceiling is measured between the styles, one epoch's products after each, so that
        // it sees the machine as the styles did (shared machines speed up and slow down).
        var ceilings: [BLASCeiling] = []
        func measureCeiling() {
            ceilings.append(BLASCeiling.measure(shape: experiment.shape, sampleCount: experiment.train.count,
                                                batchSize: recipe.batchSize, repeats: 1))
        }
        for style in settings.styles {
            log("\n\(style.label) (\(style.idiom))")
            var styleRecipe = recipe
            if style.id == settings.perturbedStyle { styleRecipe.learningRate *= 1 + settings.perturbation }
            let display = ProgressDisplay(epochs: recipe.epochs, task: experiment.options.task)
            let job = TrainingJob(style: style.id, train: experiment.train, test: experiment.test,
                                  initialParameters: experiment.initialParameters, recipe: styleRecipe,
                                  shouldStop: shouldStop, onEvent: display.handle)
            let trained: TrainedLevel
            if style.id == "manual" {                 // the reference run also measures saturation
                let recorder = SaturationRecorder(test: experiment.test, initial: experiment.initialParameters)
                trained = try ManualNetwork.run(job) { epoch, network in recorder.record(epoch: epoch, network: &network) }
                saturation = recorder.records
            } else {
                trained = try style.run(job)
            }
            // A style that diverged (or was stopped) in its first epoch has no epoch time: NaN
            // seconds, and 0 samples/s rather than a NaN that no table or chart can show.
            let seconds = median(trained.result.epochs.map(\.seconds))
            let rate = seconds.isFinite && seconds > 0 ? Double(experiment.train.count) / seconds : 0
            runs.append(StyleRun(style: style, trained: trained, secondsPerEpoch: seconds, samplesPerSecond: rate,
                                 weightsSHA256: SHA256.hexDigest(trained.parameters.safetensorsBytes())))
            if shouldStop() {
                if let stop = trained.result.stopError {
                    if case .diverged = stop {} else { partialStyle = style.id }
                }
                break
            }
            measureCeiling()
        }

        // At least three measurements, or one when stopping (Ctrl-C); the style stopped
        // part-way is reported but not compared (its steps and weights end early by design).
        while ceilings.count < (shouldStop() ? 1 : 3) { measureCeiling() }
        let ceiling = BLASCeiling(secondsPerEpoch: median(ceilings.map(\.secondsPerEpoch)),
                                  flopsPerEpoch: ceilings[0].flopsPerEpoch)
        let compared = runs.filter { $0.style.id != partialStyle }
        let reference = Style.reference(among: compared.map(\.style)) ?? Style.reference(among: runs.map(\.style))
            ?? settings.styles[0]
        let referenceRun = compared.first { $0.style.id == reference.id }
        let agreements = compared.filter { $0.style.id != reference.id }.compactMap { run -> StyleAgreement? in
            guard let referenceRun else { return nil }
            return compare(run.style.id, run.trained, with: referenceRun.trained, tolerance: settings.tolerance)
        }
        return ComparisonOutcome(experiment: experiment, settings: settings, runs: runs,
                                 reference: reference, agreements: agreements, ceiling: ceiling, saturation: saturation)
    }
}
