// Training.swift — the epoch loop around every level's training step.
//
// Teaches: what "an epoch" means in numbers. Each level supplies one thing, its training step
// (Level 4: the chain rule by hand; Level 3: `loss.backward()`; Level 2: `optimizer.step()`;
// Level 1: `fit`'s step); this loop feeds every level the same batches in the same order,
// averages the loss over the epoch, and evaluates on the test set.
// Leaves out: what a step does inside (that is each level's lesson).

import Foundation

/// A network at some level, as the shared epoch loop drives it.
public protocol TrainableModel {
    associatedtype Scalar: NeuralScalar

    /// One optimisation step on `batch`; returns the batch's mean loss before the update.
    mutating func trainStep(on batch: Batch<Scalar>) throws -> Scalar

    /// The network's outputs for `batch` (softmax probabilities or predictions, `[B, outputs]`)
    /// and the batch's mean loss, without changing any parameter.
    mutating func evaluate(_ batch: Batch<Scalar>) throws -> (loss: Scalar, outputs: Matrix<Scalar>)

    /// The current parameters, in the shared layout. (Throws for a model that is not the shared
    /// network, such as a Level 1 model of other layers.)
    var currentParameters: NetworkParameters<Scalar> { get throws }
}

/// The training recipe (DESIGN.md: `--epochs`, `--batch-size`, `--learning-rate`, `--seed`,
/// `--no-shuffle`).
public struct Recipe: Sendable, Equatable, Codable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var seed: UInt64
    public var shuffle: Bool

    public init(epochs: Int = 10, batchSize: Int = 64, learningRate: Double = 0.1, seed: UInt64 = 42,
                shuffle: Bool = true) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        self.shuffle = shuffle
    }
}

/// What one epoch achieved.
public struct EpochRecord: Sendable, Equatable, Codable {
    public var epoch: Int
    /// Mean loss over all training samples of the epoch, `Σ_b L_b·B_b / N`.
    public var trainLoss: Double
    public var testLoss: Double
    /// Classification: fraction of test samples classified correctly.
    public var testAccuracy: Double?
    /// Regression: coefficient of determination on the test set.
    public var testR2: Double?
    /// Seconds spent in training steps (evaluation excluded).
    public var seconds: Double

    public init(epoch: Int, trainLoss: Double, testLoss: Double, testAccuracy: Double?, testR2: Double?,
                seconds: Double) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
        self.testR2 = testR2
        self.seconds = seconds
    }
}

/// Everything a run produced, even when it stopped early.
public struct TrainingResult: Sendable {
    public var epochs: [EpochRecord] = []
    /// The loss of every step, in order (compare-levels checks these against each other).
    public var stepLosses: [Double] = []
    /// Why training stopped before the last epoch, if it did.
    public var stopError: NeuralLevelsError?

    public init() {}
}

/// Something the loop reports while it runs (the progress display listens).
public enum TrainingEvent: Sendable {
    case epochStarted(epoch: Int, steps: Int)
    case stepEnded(epoch: Int, step: Int, steps: Int, loss: Double, runningLoss: Double)
    case epochEnded(EpochRecord)
}

/// One level's training job in a run: the shared data, initial weights and recipe, and the
/// hooks of whoever runs it (the progress display, Ctrl-C).
///
/// Each level turns this into its own network and calls ``train(_:level:train:test:recipe:shouldStop:onEvent:)``
/// from inside its own module, where the compiler specialises the level's generic code for Float.
public struct TrainingJob {
    public var level: String
    public var train: Dataset<Float>
    public var test: Dataset<Float>
    public var initialParameters: NetworkParameters<Float>
    public var recipe: Recipe
    public var shouldStop: () -> Bool
    public var onEvent: (TrainingEvent) -> Void

    public init(level: String, train: Dataset<Float>, test: Dataset<Float>,
                initialParameters: NetworkParameters<Float>, recipe: Recipe,
                shouldStop: @escaping () -> Bool = { false },
                onEvent: @escaping (TrainingEvent) -> Void = { _ in }) {
        self.level = level
        self.train = train
        self.test = test
        self.initialParameters = initialParameters
        self.recipe = recipe
        self.shouldStop = shouldStop
        self.onEvent = onEvent
    }

    /// Runs the shared loop on `model` (called by each level on its own network).
    @inlinable
    public func run<Model: TrainableModel>(_ model: inout Model) throws -> TrainedLevel
    where Model.Scalar == Float {
        let result = try Shared.train(&model, level: level, train: train, test: test, recipe: recipe,
                                      shouldStop: shouldStop, onEvent: onEvent)
        return TrainedLevel(result: result, parameters: try model.currentParameters)
    }
}

/// What a level's training job returns: the history and the final weights.
public struct TrainedLevel: Sendable {
    public var result: TrainingResult
    public var parameters: NetworkParameters<Float>

    public init(result: TrainingResult, parameters: NetworkParameters<Float>) {
        self.result = result
        self.parameters = parameters
    }
}

/// Trains `model` for `recipe.epochs` epochs on `train`, evaluating on `test` after each.
///
/// Every level is driven by this loop, so every level sees the same batches (see
/// ``BatchSchedule``). A non-finite loss stops training at that step (and a non-finite test loss
/// at the end of an epoch stops it after that epoch's last step); the result then holds the
/// epochs completed and ``NeuralLevelsError/diverged(level:epoch:step:loss:)``. `shouldStop` is
/// asked after every step; when it answers true (Ctrl-C) training stops there and the result
/// holds the epochs completed and `.failure("interrupted at epoch E, step S")`.
@inlinable
public func train<Model: TrainableModel>(
    _ model: inout Model, level: String, train: Dataset<Model.Scalar>, test: Dataset<Model.Scalar>,
    recipe: Recipe, shouldStop: () -> Bool = { false },
    onEvent: (TrainingEvent) -> Void = { _ in }
) throws -> TrainingResult {
    // A batch larger than the training set is the whole set: the same batches, without
    // allocating room for samples that do not exist (or overflowing ⌈N / B⌉ for a huge B).
    let schedule = BatchSchedule(sampleCount: train.count, batchSize: max(1, min(recipe.batchSize, train.count)),
                                 shuffle: recipe.shuffle, seed: recipe.seed)
    let loader = BatchLoader(train, schedule: schedule)
    var batch = train.makeBatch(capacity: schedule.batchSize)
    var result = TrainingResult()
    let (allSteps, overflow) = schedule.stepsPerEpoch.multipliedReportingOverflow(by: max(0, recipe.epochs))
    result.stepLosses.reserveCapacity(overflow ? 1 << 20 : min(allSteps, 1 << 20))

    for epoch in 1...max(1, recipe.epochs) where recipe.epochs > 0 {
        onEvent(.epochStarted(epoch: epoch, steps: schedule.stepsPerEpoch))
        var lossSum = 0.0
        var seen = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for step in 0..<schedule.stepsPerEpoch {
            loader.load(step: step, epoch: epoch, into: &batch)     // and start on the next batch
            let loss = Double(try model.trainStep(on: batch))
            guard loss.isFinite else {
                result.stopError = .diverged(level: level, epoch: epoch, step: step + 1, loss: "\(loss)")
                return result
            }
            result.stepLosses.append(loss)
            lossSum += loss * Double(batch.count)
            seen += batch.count
            onEvent(.stepEnded(epoch: epoch, step: step + 1, steps: schedule.stepsPerEpoch,
                               loss: loss, runningLoss: lossSum / Double(seen)))
            if shouldStop() {
                result.stopError = .failure("interrupted at epoch \(epoch), step \(step + 1)")
                return result
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var record = try evaluate(&model, on: test)
        record.epoch = epoch
        record.trainLoss = lossSum / Double(max(1, seen))
        record.seconds = seconds
        result.epochs.append(record)
        onEvent(.epochEnded(record))
        // The last step's update can itself overflow the weights: its loss was computed before
        // the update, so only the evaluation shows it. Stop here rather than train on NaN.
        guard record.testLoss.isFinite || test.count == 0 else {
            result.stopError = .diverged(level: level, epoch: epoch, step: schedule.stepsPerEpoch,
                                         loss: "\(record.testLoss) on the test set after the update")
            return result
        }
    }
    return result
}

/// Test loss and accuracy (classification) or R² (regression) of `model` on `data`, walked in
/// chunks of 1,000 samples; the loss is the mean over all samples.
@inlinable
public func evaluate<Model: TrainableModel>(
    _ model: inout Model, on data: Dataset<Model.Scalar>, chunkSize: Int = 1000
) throws -> EpochRecord {
    let totals = try evaluationTotals(&model, on: data, chunkSize: chunkSize)
    return EpochRecord(
        epoch: 0, trainLoss: .nan, testLoss: totals.meanLoss,
        testAccuracy: data.task == .classification ? totals.accuracy : nil,
        testR2: data.task == .regression ? totals.rSquared.value : nil, seconds: 0)
}

/// What an evaluation adds up over a data set: the loss weighted by chunk size, the correct
/// predictions (classification) and the R² sums (regression). ``evaluate(_:on:chunkSize:)`` and
/// Level 1's `evaluate` both read their numbers from these.
public struct EvaluationTotals: Sendable {
    public var sampleCount = 0
    /// `Σ_chunks L·B`.
    public var lossSum = 0.0
    public var correct = 0
    public var rSquared = RSquaredAccumulator()

    public init() {}

    /// The mean loss over all samples, `Σ L·B / N`.
    public var meanLoss: Double { lossSum / Double(max(1, sampleCount)) }
    /// The fraction of samples classified correctly.
    public var accuracy: Double { Double(correct) / Double(max(1, sampleCount)) }
}

/// Walks `data` in chunks of `chunkSize` samples through `model.evaluate` and adds up the loss
/// and the task's metric sums.
@inlinable
public func evaluationTotals<Model: TrainableModel>(
    _ model: inout Model, on data: Dataset<Model.Scalar>, chunkSize: Int = 1000
) throws -> EvaluationTotals {
    var totals = EvaluationTotals()
    totals.sampleCount = data.count
    var start = 0
    while start < data.count {
        let chunk = data.batch(rows: start..<min(start + chunkSize, data.count))
        let (loss, outputs) = try model.evaluate(chunk)
        totals.lossSum += Double(loss) * Double(chunk.count)
        switch data.task {
        case .classification: totals.correct += correctPredictions(outputs, labels: chunk.labels)
        case .regression: totals.rSquared.add(predictions: outputs, targets: chunk.targets)
        }
        start += chunkSize
    }
    return totals
}
