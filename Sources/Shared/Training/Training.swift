// Training.swift — what every style's training loop is given, and what it hands back.
//
// Teaches: what a framework's utility layer gives a training loop, and nothing more. A style is
// handed a `TrainingJob` (the data, the shared initial weights, the recipe); it writes its own
// epoch loop, batch loop and evaluation in its own idiom (ManualNetwork.swift, AutogradNetwork.swift,
// ModulesNetwork.swift, `fit`, `Trainer.fit`, …), takes its batches from the job's loader (the
// same batches in the same order for every style) and tells a `TrainingLog` (TrainingLog.swift)
// each step's loss and each epoch's evaluation. It returns the history and its final weights.
// Leaves out: the loop itself (each style's lesson), and how a step computes its gradients.
//
// Shape legend: N samples · B batch · I inputs · O outputs

import Foundation

/// The training recipe: `--epochs`, `--batch-size`, `--learning-rate`, `--seed`, `--no-shuffle`.
public struct Recipe: Sendable, Equatable, Codable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var seed: UInt64
    public var shuffle: Bool
    /// Skip each epoch's last, partial batch (never in the shared recipe; see `BatchSchedule`).
    public var dropLast: Bool

    public init(epochs: Int = 10, batchSize: Int = 64, learningRate: Double = 0.1, seed: UInt64 = 42,
                shuffle: Bool = true, dropLast: Bool = false) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
    }
}

/// What one epoch achieved.
public struct EpochRecord: Sendable, Equatable, Codable {
    public var epoch: Int
    /// Mean loss over all training samples of the epoch, `Σ_b L_b·B_b / N`.
    public var trainLoss: Double
    /// Classification: the fraction of training samples the network classified correctly as the
    /// batches went, each batch with the weights before its update (as Keras reports
    /// `accuracy`): the argmax of the logits against the label.
    public var trainAccuracy: Double?
    /// Regression: R² of the predictions as the batches went, each before its update.
    public var trainR2: Double?
    public var testLoss: Double
    /// Classification: fraction of test samples classified correctly.
    public var testAccuracy: Double?
    /// Regression: coefficient of determination on the test set.
    public var testR2: Double?
    /// Seconds spent in training steps (evaluation excluded).
    public var seconds: Double

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double? = nil, trainR2: Double? = nil,
                testLoss: Double, testAccuracy: Double?, testR2: Double?, seconds: Double) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.trainR2 = trainR2
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

/// Something a training loop reports while it runs (the progress display listens).
public enum TrainingEvent: Sendable {
    case epochStarted(epoch: Int, steps: Int)
    case stepEnded(epoch: Int, step: Int, steps: Int, loss: Double, runningLoss: Double)
    case epochEnded(EpochRecord)
}

/// One style's training job in a run: the shared data, initial weights and recipe, and the
/// hooks of whoever runs it (the progress display, Ctrl-C).
///
/// Each style turns this into its own network and trains it with its own loop, inside its own
/// module (where the compiler specialises the style's generic code for Float). Level 4's
/// `ManualNetwork.run`, for instance (less its `afterEpoch` hook):
///
///     public static func run(_ job: TrainingJob) throws -> TrainedLevel {
///         var network = ManualNetwork(parameters: job.initialParameters, learningRate: Float(job.recipe.learningRate))
///         let trainLoader = job.makeTrainLoader()                 // the batches every style sees
///         let log = TrainingLog(job)                              // step losses, history, NaN, Ctrl-C
///         try log.run {
///             for epoch in job.epochs {
///                 for batch in trainLoader.batches(epoch: epoch) {   // x: [B, I], labels or y: [B, O]
///                     let loss = network.forward(batch)           // ℓ, with every activation kept
///                     network.backward(batch)                     // every ∂ℓ/∂w, by the chain rule
///                     network.update()                            // w ← w − lr·∂ℓ/∂w
///                     try log.step(loss, outputs: network.z3, batch: batch)   // z3 from before the update
///                 }
///                 try log.epochEnded(network.evaluate(on: job.test))
///             }
///         }
///         return TrainedLevel(result: log.result, parameters: network.parameters)
///     }
///
/// Level 1's styles own no loop: `fit` and `Trainer.fit` report to the log through a callback
/// (`TrainingLogCallback`).
public struct TrainingJob {
    /// Names the style in messages: "manual", "keras", ….
    public var style: String
    public var train: Dataset<Float>
    public var test: Dataset<Float>
    public var initialParameters: NetworkParameters<Float>
    public var recipe: Recipe
    public var shouldStop: () -> Bool
    public var onEvent: (TrainingEvent) -> Void

    public init(style: String, train: Dataset<Float>, test: Dataset<Float>,
                initialParameters: NetworkParameters<Float>, recipe: Recipe,
                shouldStop: @escaping () -> Bool = { false },
                onEvent: @escaping (TrainingEvent) -> Void = { _ in }) {
        self.style = style
        self.train = train
        self.test = test
        self.initialParameters = initialParameters
        self.recipe = recipe
        self.shouldStop = shouldStop
        self.onEvent = onEvent
    }

    /// The epochs to run, `1...epochs` (empty for 0).
    public var epochs: Range<Int> { 1..<(max(0, recipe.epochs) + 1) }

    /// The batch order every style follows: a seeded permutation per epoch (or file order),
    /// batches of `recipe.batchSize` taken in order, the last partial batch kept. A batch larger
    /// than the training set is the whole set.
    public var schedule: BatchSchedule {
        BatchSchedule(sampleCount: train.count, batchSize: max(1, min(recipe.batchSize, train.count)),
                      shuffle: recipe.shuffle, seed: recipe.seed, dropLast: recipe.dropLast)
    }

    /// The training batches, epoch by epoch, in the shared order (PyTorch's
    /// `DataLoader(train, batch_size=B, shuffle=True)`).
    public func makeTrainLoader() -> BatchLoader<Float> {
        BatchLoader(train, schedule: schedule)
    }
}

/// What a style's training job returns: the history and the final weights.
public struct TrainedLevel: Sendable {
    public var result: TrainingResult
    public var parameters: NetworkParameters<Float>

    public init(result: TrainingResult, parameters: NetworkParameters<Float>) {
        self.result = result
        self.parameters = parameters
    }
}

// MARK: - Evaluation

/// What an evaluation adds up over a data set, chunk by chunk (torchmetrics' `MeanMetric`,
/// `Accuracy` and `R2Score` in one): the loss weighted by chunk size, the correct predictions
/// (classification) and the R² sums (regression). Every style's evaluation feeds one of these.
public struct EvaluationTotals: Sendable {
    public var sampleCount = 0
    /// `Σ_chunks L·B`.
    public var lossSum = 0.0
    public var correct = 0
    public var rSquared = RSquaredAccumulator()

    public init() {}

    /// Adds one chunk: its mean loss `L` and outputs `[B, O]` (for classification, probabilities
    /// or logits, whose argmax is the same except where rounding makes the top two probabilities
    /// equal; every style's test set is counted from probabilities, its training batches from
    /// logits; for regression, predictions).
    public mutating func add<T: NeuralScalar>(loss: T, outputs: Matrix<T>, batch: Batch<T>) {
        sampleCount += batch.count
        lossSum += Double(loss) * Double(batch.count)
        if batch.labels.isEmpty {
            rSquared.add(predictions: outputs, targets: batch.targets)
        } else {
            correct += correctPredictions(outputs, labels: batch.labels)
        }
    }

    /// The mean loss over all samples, `Σ L·B / N`.
    public var meanLoss: Double { lossSum / Double(max(1, sampleCount)) }
    /// The fraction of samples classified correctly.
    public var accuracy: Double { Double(correct) / Double(max(1, sampleCount)) }
}

extension Dataset {
    /// The samples in file order, as batches of `size` rows (the last may be shorter): how every
    /// style walks a test set (`DataLoader(test, batch_size=1000)`).
    public func chunks(of size: Int = 1000) -> some Sequence<Batch<Scalar>> {
        let size = max(1, size)
        return stride(from: 0, to: count, by: size).lazy.map { start in
            self.batch(rows: start..<Swift.min(start + size, self.count))
        }
    }
}
