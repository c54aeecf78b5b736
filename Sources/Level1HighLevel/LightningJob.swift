// LightningJob.swift — Level 1: the Lightning-style network as a shared training job.
//
// Teaches: how a high-level loop that owns everything can still report what the shared loop
// reports. A callback listens to the `Trainer` and turns its events into Shared's: the loss of
// every step, one `EpochRecord` per epoch, progress events, Ctrl-C, and a stop at the first
// non-finite loss, as Shared's `train` does.
// Leaves out: nothing a learner needs to read; this is plumbing for `level1-high-level --style
// lightning`.

import Dispatch
import Level2Modules
import Shared

extension LightningNetwork {
    /// The current weights in the shared layout.
    public var currentParameters: NetworkParameters<Float> {
        NetworkParameters(shape: shape, fc1: fc1.currentParameters, fc2: fc2.currentParameters,
                          fc3: fc3.currentParameters)
    }

    /// The shared checkpoint's metadata: task, sizes, activations, format.
    public var checkpointMetadata: [String: String] {
        ["task": shape.task.rawValue, "sizes": shape.sizes.map(String.init).joined(separator: ","),
         "activations": shape.activations.joined(separator: ","), "format": "pt"]
    }

    /// Trains a new module from `initial` with a `Trainer` and the recipe, validating on `test`
    /// (in chunks of 1,000, as Shared's `evaluate` walks a test set).
    public static func fit(train: Dataset<Float>, test: Dataset<Float>, initial: NetworkParameters<Float>,
                           recipe: Recipe, callbacks: [any Callback] = [],
                           enableProgressBar: Bool = true) throws -> (module: LightningNetwork, history: History) {
        let module = LightningNetwork(initial, learningRate: Float(recipe.learningRate))
        let trainer = Trainer(maxEpochs: recipe.epochs, callbacks: callbacks, enableProgressBar: enableProgressBar)
        let history = try trainer.fit(
            module, trainData: try DataLoader(train, batchSize: recipe.batchSize, shuffle: recipe.shuffle, seed: recipe.seed),
            validationData: try DataLoader(test, batchSize: 1000))
        return (module, history)
    }

    /// Level 1's training job in the Lightning style (`level1-high-level --style lightning`): the
    /// Trainer runs the module; a callback reports steps and epochs as Shared's loop would.
    public static func train(_ job: TrainingJob) throws -> TrainedLevel {
        let recorder = JobRecorder(job)
        let (module, _) = try fit(train: job.train, test: job.test, initial: job.initialParameters,
                                  recipe: job.recipe, callbacks: [recorder], enableProgressBar: false)
        return TrainedLevel(result: recorder.result, parameters: module.currentParameters)
    }
}

/// Turns a Trainer's callbacks into a shared `TrainingResult` and `TrainingEvent`s.
final class JobRecorder: Callback {
    let job: TrainingJob
    private(set) var result = TrainingResult()
    private var epochStart: UInt64 = 0
    private var trainingSeconds = 0.0
    /// Regression: `Σ (y − ȳ)²` over the test targets and their count, to turn `val_mse` into R²
    /// (`R² = 1 − count·MSE / Σ (y − ȳ)²`, as `RSquaredAccumulator` computes it).
    private let targetSpread: (sumOfSquares: Double, count: Int)?

    init(_ job: TrainingJob) {
        self.job = job
        if job.test.task == .regression {
            let values = job.test.targets.storage.map(Double.init)
            let mean = values.reduce(0, +) / Double(max(1, values.count))
            let total = values.reduce(0) { $0 + $1 * $1 } - Double(values.count) * mean * mean
            targetSpread = (total, values.count)
        } else {
            targetSpread = nil
        }
    }

    func onTrainBegin(_ run: TrainingRun) throws {
        result.stepLosses.reserveCapacity(run.stepsPerEpoch * run.epochs)
    }

    func onEpochBegin(_ epoch: Int, run: TrainingRun) throws {
        job.onEvent(.epochStarted(epoch: epoch, steps: run.stepsPerEpoch))
        epochStart = DispatchTime.now().uptimeNanoseconds
    }

    func onBatchEnd(_ batch: Int, logs: Logs, run: TrainingRun) throws {
        guard result.stopError == nil, let loss = logs["batch_loss"], let running = logs["loss"] else { return }
        guard loss.isFinite else {
            result.stopError = .diverged(level: job.level, epoch: run.epoch, step: batch, loss: "\(loss)")
            run.stopTraining = true
            return
        }
        result.stepLosses.append(loss)
        if batch == run.stepsPerEpoch {
            trainingSeconds = Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9
        }
        job.onEvent(.stepEnded(epoch: run.epoch, step: batch, steps: run.stepsPerEpoch, loss: loss, runningLoss: running))
        if job.shouldStop() {
            result.stopError = .failure("interrupted at epoch \(run.epoch), step \(batch)")
            run.stopTraining = true
        }
    }

    func onEpochEnd(_ epoch: Int, logs: Logs, run: TrainingRun) throws {
        guard result.stopError == nil else { return }
        let r2 = targetSpread.flatMap { spread in
            logs["val_mse"].map { 1 - Double(spread.count) * $0 / spread.sumOfSquares }
        }
        let record = EpochRecord(epoch: epoch, trainLoss: logs["loss"] ?? .nan, testLoss: logs["val_loss"] ?? .nan,
                                 testAccuracy: logs["val_accuracy"], testR2: r2, seconds: trainingSeconds)
        result.epochs.append(record)
        job.onEvent(.epochEnded(record))
    }
}
