// Comparison.swift — compare-levels: one start, every level, verified agreement.
//
// Teaches: how to prove that four programs are one computation. Give them the same initial
// weights and the same batches, run each, and compare every step's loss and every final weight
// with the lowest level's; time each epoch, and time the matrix products alone as a ceiling.
// Leaves out: the levels themselves, and drawing (ReportCharts, Charts).

import Foundation
import Shared
import TrainingCLI

/// What compare-levels was asked to do, beyond the shared training options.
public struct ComparisonSettings: Sendable {
    /// Level numbers to run, in the order given.
    public var levels: [Int]
    /// Relative tolerance for losses and weights (default 1e-5).
    public var tolerance: Double
    /// Test hook: scale this level's learning rate by `1 + perturbation`, so it must disagree.
    public var perturbedLevel: Int?
    public var perturbation: Double

    public init(levels: [Int] = [1, 2, 3, 4], tolerance: Double = 1e-5, perturbedLevel: Int? = nil,
                perturbation: Double = 1e-2) {
        self.levels = levels
        self.tolerance = tolerance
        self.perturbedLevel = perturbedLevel
        self.perturbation = perturbation
    }
}

/// One level's run.
public struct LevelRun: Sendable {
    public var level: Level
    public var trained: TrainedLevel
    /// Median seconds per epoch.
    public var secondsPerEpoch: Double
    /// Training samples per second at that median.
    public var samplesPerSecond: Double
    /// SHA-256 of the final weights as a safetensors file.
    public var weightsSHA256: String

    public var history: LevelHistory { LevelHistory(level: level.id, name: level.name, epochs: trained.result.epochs) }
}

/// Everything one compare-levels run produced.
public struct ComparisonOutcome: Sendable {
    public var experiment: Experiment
    public var settings: ComparisonSettings
    public var runs: [LevelRun]
    /// The level the others are compared with: the lowest level run (the highest number).
    public var referenceLevel: Int
    public var agreements: [LevelAgreement]
    public var ceiling: BLASCeiling
    /// `--benchmark`'s measurements, when it ran (summary.json, the throughput chart).
    public var benchmark: BenchmarkReport? = nil
    /// `--references`: the replays in the Python frameworks (References.swift).
    public var references: [ReferenceResult]? = nil

    /// True when every level agrees with the reference within the tolerance.
    public var agreementPassed: Bool { agreements.allSatisfy(\.passed) }
    /// True when every level is bitwise identical to the reference.
    public var bitwiseIdentical: Bool { agreements.allSatisfy(\.bitwiseIdentical) }

    /// The first reason this run must exit non-zero: a level that stopped early, or the first
    /// disagreement (level, step and tensor named).
    public var failure: NeuralLevelsError? {
        if let stopped = runs.compactMap(\.trained.result.stopError).first { return stopped }
        guard let agreement = agreements.first(where: { !$0.passed }) else { return nil }
        let steps = BatchSchedule(sampleCount: experiment.train.count, batchSize: experiment.options.batchSize,
                                  shuffle: true, seed: 0).stepsPerEpoch
        if let step = agreement.firstFailingStep {
            let epoch = (step - 1) / steps + 1
            let losses = runs.first { $0.level.id == agreement.level }?.trained.result.stepLosses ?? []
            let reference = runs.first { $0.level.id == referenceLevel }?.trained.result.stepLosses ?? []
            let values = step <= min(losses.count, reference.count)
                ? ": loss \(losses[step - 1]) vs \(reference[step - 1])" : ": it stopped early"
            return .disagreement("level \(agreement.level) differs from level \(referenceLevel) first at step \(step) "
                + "(epoch \(epoch), step \((step - 1) % steps + 1))\(values), beyond relative tolerance \(settings.tolerance)"
                + (agreement.failingTensor.map { "; largest weight difference in \($0)" } ?? ""))
        }
        return .disagreement("level \(agreement.level) ends with weights different from level \(referenceLevel) "
            + "in \(agreement.failingTensor ?? "?"), beyond relative tolerance \(settings.tolerance)")
    }
}

public enum Comparison {
    /// Trains every chosen level from the experiment's initial weights and batch order, measures
    /// the BLAS ceiling, and compares every level with the reference.
    ///
    /// - Parameters:
    ///   - shouldStop: asked after every training step (Ctrl-C); when it answers true, the
    ///     current level stops after that step, the levels after it are not run, and the outcome
    ///     holds what completed (the stopped level's epochs, outside the agreement).
    ///   - log: receives the progress lines (the banner before each level).
    public static func run(_ experiment: Experiment, settings: ComparisonSettings,
                           shouldStop: @escaping () -> Bool = { false },
                           log: (String) -> Void = { print($0) }) throws -> ComparisonOutcome {
        let levels = try settings.levels.map { id in
            guard let level = Level.numbered(id) else {
                throw NeuralLevelsError.badOption(option: "--levels", reason: "level \(id) is not available")
            }
            return level
        }
        let recipe = experiment.options.recipe
        var runs: [LevelRun] = []
        var partialLevel: Int?          // the level Ctrl-C stopped part-way, if any
        // The ceiling is measured between the levels, one epoch's products after each, so that
        // it sees the machine as the levels did (shared machines speed up and slow down).
        var ceilings: [BLASCeiling] = []
        func measureCeiling() {
            ceilings.append(BLASCeiling.measure(shape: experiment.shape, sampleCount: experiment.train.count,
                                                batchSize: recipe.batchSize, repeats: 1))
        }
        for level in levels {
            log("\n\(level.label) (\(level.style))")
            var levelRecipe = recipe
            if level.id == settings.perturbedLevel { levelRecipe.learningRate *= 1 + settings.perturbation }
            let display = ProgressDisplay(epochs: recipe.epochs, task: experiment.options.task)
            let job = TrainingJob(level: "level \(level.id)", train: experiment.train, test: experiment.test,
                                  initialParameters: experiment.initialParameters, recipe: levelRecipe,
                                  shouldStop: shouldStop, onEvent: display.handle)
            let trained = try level.train(job)
            // A level that diverged (or was stopped) in its first epoch has no epoch time: NaN
            // seconds, and 0 samples/s rather than a NaN that no table or chart can show.
            let seconds = median(trained.result.epochs.map(\.seconds))
            let rate = seconds.isFinite && seconds > 0 ? Double(experiment.train.count) / seconds : 0
            runs.append(LevelRun(level: level, trained: trained, secondsPerEpoch: seconds, samplesPerSecond: rate,
                                 weightsSHA256: SHA256.hexDigest(trained.parameters.safetensorsBytes())))
            if shouldStop() {
                if let stop = trained.result.stopError {
                    if case .diverged = stop {} else { partialLevel = level.id }
                }
                break
            }
            measureCeiling()
        }

        // At least three measurements, or one when stopping (Ctrl-C); the level stopped
        // part-way is reported but not compared (its steps and weights end early by design).
        while ceilings.count < (shouldStop() ? 1 : 3) { measureCeiling() }
        let ceiling = BLASCeiling(secondsPerEpoch: median(ceilings.map(\.secondsPerEpoch)),
                                  flopsPerEpoch: ceilings[0].flopsPerEpoch)
        let compared = runs.filter { $0.level.id != partialLevel }
        let referenceLevel = compared.map(\.level.id).max() ?? runs.map(\.level.id).max() ?? 4
        let reference = compared.first { $0.level.id == referenceLevel }
        let agreements = compared.filter { $0.level.id != referenceLevel }.compactMap { run -> LevelAgreement? in
            guard let reference else { return nil }
            return compare(level: run.level.id, losses: run.trained.result.stepLosses, weights: run.trained.parameters,
                           referenceLosses: reference.trained.result.stepLosses,
                           referenceWeights: reference.trained.parameters, tolerance: settings.tolerance)
        }
        return ComparisonOutcome(experiment: experiment, settings: settings, runs: runs,
                                 referenceLevel: referenceLevel, agreements: agreements, ceiling: ceiling)
    }
}

