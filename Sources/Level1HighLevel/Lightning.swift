// Lightning.swift — Level 1: the PyTorch Lightning style, a `LightningModule` and a `Trainer`.
//
// Teaches: the other high-level style. The user keeps writing Level 2 modules, but splits the
// training code into hooks — what one step's loss is (`trainingStep`), what to measure on held-out
// data (`validationStep`), which optimizer to use (`configureOptimizers`) — and hands the module to
// a `Trainer`, which owns the loop: it calls `optimizer.zeroGrad()`, `loss.backward()` and
// `optimizer.step()` around your `trainingStep`, walks a `DataLoader` in the shared batch order,
// runs validation under no-grad in eval mode, and calls the same callbacks as `fit`.
// A module computes in its own scalar type (Double for gradcheck); the `Trainer` trains in Float.
// Leaves out: devices, mixed precision, gradient accumulation and clipping, the sanity-check validation
// run Lightning does before training, loggers, multiple optimizers and schedulers, `test`/`predict`
// loops, and `self.log`: validation numbers are batch means, or computed at the epoch's end.
//
// Shape legend: N samples · B batch

import Foundation
import Level2Modules
import Level3Autograd
import Shared

// MARK: - The module

/// A Level 2 module that knows how to train itself (Lightning's `LightningModule`).
///
/// A conforming class is a `Module` (its layers are its children, its forward pass is
/// `callAsFunction`) and adds the hooks the ``Trainer`` calls.
public protocol LightningModule: Module {
    /// The loss of one training batch, a `[1, 1]` tensor on the tape. The trainer calls
    /// `backward()` on it and steps the optimizer; do neither here.
    func trainingStep(batch: Batch<Scalar>) throws -> Tensor<Scalar>

    /// Numbers measured on one validation batch (`val_loss`, `val_accuracy`, …), each a mean over
    /// the batch; the trainer averages them over the validation set, weighting by batch size.
    /// Runs under no-grad, in eval mode. Default: nothing.
    func validationStep(batch: Batch<Scalar>) throws -> Logs

    /// Numbers computed over the whole training epoch after its last batch (Lightning's
    /// `on_train_epoch_end`, where a training metric is computed from what it accumulated in
    /// ``trainingStep(batch:)``); they join the epoch's logs. Default: nothing.
    func onTrainEpochEnd() throws -> Logs

    /// Numbers computed over the whole validation set after its last batch (Lightning's
    /// `on_validation_epoch_end`, where a torchmetrics metric is computed from what it
    /// accumulated); they replace batch averages of the same name. Default: nothing.
    func onValidationEpochEnd() throws -> Logs

    /// The optimizer over this module's parameters, made once per `fit` (Lightning's
    /// `configure_optimizers`, which may return several; here, one).
    func configureOptimizers() -> any Optimizer<Scalar>

    /// The `__metadata__` ``ModelCheckpoint`` writes with the weights. Default: none.
    var checkpointMetadata: [String: String] { get }
}

extension LightningModule {
    public func validationStep(batch: Batch<Scalar>) throws -> Logs { Logs() }
    public func onTrainEpochEnd() throws -> Logs { Logs() }
    public func onValidationEpochEnd() throws -> Logs { Logs() }
    public var checkpointMetadata: [String: String] { [:] }
}

// MARK: - Data

/// Batches of a data set in the shared order (PyTorch's `DataLoader`): with `shuffle`, a seeded
/// permutation per epoch (Shared's `BatchSchedule`, the order every level uses); the last,
/// partial batch is kept.
public struct DataLoader: Sendable {
    public let dataset: Dataset<Float>
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64

    /// - Throws: ``HighLevelError/invalidArgument(name:reason:)`` for a batch size below 1.
    public init(_ dataset: Dataset<Float>, batchSize: Int = 1, shuffle: Bool = false, seed: UInt64 = 42) throws {
        guard batchSize >= 1 else {
            throw HighLevelError.invalidArgument(name: "batchSize", reason: "must be at least 1, got \(batchSize)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
    }

    /// The batch order.
    public var schedule: BatchSchedule {
        BatchSchedule(sampleCount: dataset.count, batchSize: batchSize, shuffle: shuffle, seed: seed)
    }

    /// Batches per epoch, `⌈N / batchSize⌉` (`len(loader)`).
    public var count: Int { schedule.stepsPerEpoch }

    /// The batches of epoch `epoch` (from 1), in order, each gathered while the step before it
    /// computes (Shared's `BatchLoader`).
    public func batches(epoch: Int) -> EpochBatches<Float> {
        BatchLoader(dataset, schedule: schedule).batches(epoch: epoch)
    }
}

// MARK: - The trainer

/// Runs a ``LightningModule``'s training (Lightning's `Trainer`): the loop is here, the model's
/// specifics are in the module's hooks. It trains modules of `Float`, as its data loaders hold.
///
///     let trainer = Trainer(maxEpochs: 10, callbacks: [EarlyStopping(patience: 2)])
///     try trainer.fit(module, trainData: DataLoader(train, batchSize: 64, shuffle: true),
///                     validationData: DataLoader(test, batchSize: 1000))
public final class Trainer {
    public let maxEpochs: Int
    public let callbacks: [any Callback]
    public let enableProgressBar: Bool
    /// The epoch in progress or last run (from 1).
    public private(set) var currentEpoch = 0
    /// Optimizer steps taken so far.
    public private(set) var globalStep = 0
    /// The last epoch's logs (Lightning's `trainer.callback_metrics`).
    public private(set) var callbackMetrics = Logs()

    /// - Parameters:
    ///   - maxEpochs: epochs to run, unless a callback stops training earlier.
    ///   - callbacks: the same callbacks `fit` takes.
    ///   - enableProgressBar: true: a bar on a terminal, one line per epoch otherwise; false:
    ///     nothing printed (callbacks still run).
    public init(maxEpochs: Int, callbacks: [any Callback] = [], enableProgressBar: Bool = true) {
        self.maxEpochs = maxEpochs
        self.callbacks = callbacks
        self.enableProgressBar = enableProgressBar
    }

    /// Trains `module` on `trainData`, validating on `validationData` after every epoch.
    ///
    /// Returns the per-epoch logs (Lightning returns nothing; it logs): `loss`, the training loss
    /// (mean over the epoch's samples, before each update), and the `validationStep` numbers.
    ///
    /// - Throws: ``HighLevelError/invalidArgument(name:reason:)`` for `maxEpochs` below 0 or no
    ///   training samples; whatever a hook or callback throws.
    @discardableResult
    public func fit<Network: LightningModule>(_ module: Network, trainData: DataLoader,
                                            validationData: DataLoader? = nil) throws -> History
        where Network.Scalar == Float {
        guard maxEpochs >= 0 else {
            throw HighLevelError.invalidArgument(name: "maxEpochs", reason: "must be at least 0, got \(maxEpochs)")
        }
        guard trainData.dataset.count > 0 else {
            throw HighLevelError.invalidArgument(name: "trainData", reason: "has no samples")
        }
        let origin = KernelTrace.enter("trainer.fit"); defer { origin.leave() }   // for compare-levels --trace
        let optimizer = module.configureOptimizers()
        let run = TrainingRun(module: module, epochs: maxEpochs, stepsPerEpoch: trainData.count,
                              checkpointMetadata: module.checkpointMetadata)
        let progress = enableProgressBar ? [ProgressBar()] : []
        let callbacks = progress + self.callbacks
        var history = History()
        (currentEpoch, globalStep, callbackMetrics) = (0, 0, Logs())

        for callback in callbacks { try callback.onTrainBegin(run) }
        for epoch in stride(from: 1, through: maxEpochs, by: 1) {
            (currentEpoch, run.epoch) = (epoch, epoch)
            for callback in callbacks { try callback.onEpochBegin(epoch, run: run) }
            module.train()
            var (lossSum, seen) = (0.0, 0)
            for (index, batch) in trainData.batches(epoch: epoch).enumerated() {
                optimizer.zeroGrad()                               // the loop Level 2 writes by hand,
                let step = KernelTrace.enter("trainingStep")       // for compare-levels --trace
                let loss = try module.trainingStep(batch: batch)   // owned by the trainer
                step.leave()
                loss.backward()
                optimizer.step()
                globalStep += 1
                lossSum += Double(loss.scalar) * Double(batch.count)
                seen += batch.count
                let logs: Logs = ["loss": lossSum / Double(seen), "batch_loss": Double(loss.scalar)]
                for callback in callbacks { try callback.onBatchEnd(index + 1, logs: logs, run: run) }
                if run.stopTraining { break }
            }
            var logs: Logs = ["loss": lossSum / Double(max(1, seen))]
            for entry in try module.onTrainEpochEnd() { logs[entry.key] = entry.value }
            if let validationData {
                for entry in try validate(module, on: validationData) { logs[entry.key] = entry.value }
            }
            history.append(epoch: epoch, logs: logs)
            callbackMetrics = logs
            for callback in callbacks { try callback.onEpochEnd(epoch, logs: logs, run: run) }
            if run.stopTraining { break }
        }
        for callback in callbacks { try callback.onTrainEnd(logs: callbackMetrics, run: run) }
        return history
    }

    /// Every validation batch through `validationStep`, in eval mode and without a tape; each
    /// number averaged over the samples, `Σ_b v_b·B_b / N`.
    private func validate<Network: LightningModule>(_ module: Network, on data: DataLoader) throws -> Logs
        where Network.Scalar == Float {
        module.eval()
        defer { module.train() }
        var sums = Logs()
        var seen = 0
        try withNoGrad {
            for batch in data.batches(epoch: 1) {
                for entry in try module.validationStep(batch: batch) {
                    sums[entry.key] = (sums[entry.key] ?? 0) + entry.value * Double(batch.count)
                }
                seen += batch.count
            }
        }
        var means = Logs()
        for entry in sums { means[entry.key] = entry.value / Double(max(1, seen)) }
        for entry in try withNoGrad({ try module.onValidationEpochEnd() }) { means[entry.key] = entry.value }
        return means
    }
}
