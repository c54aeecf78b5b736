// LightningNetwork.swift — Level 1: the network as a PyTorch Lightning user writes it.
//
// Teaches: the Lightning style keeps Level 2's modules (three `Linear` layers and a forward pass,
// exactly Level 2's `MLP`) and adds hooks: the loss of a training batch, what to measure on a
// validation batch, the optimizer. No loop: the `Trainer` owns `zeroGrad`, `backward` and `step`.
// Validation accumulates its numbers over the whole test set, as a torchmetrics metric does
// (`update` per batch, `compute` at the epoch's end), so they are exactly every other style's.
// Generic over the scalar type as Level 2's `MLP` is; `run` trains it in Float.
// Leaves out: everything but this network (see Lightning.swift for the Trainer).
//
// Shape legend: B batch · I inputs · H1, H2 hidden widths · O outputs

import Level2Modules
import Level3Autograd
import Shared

/// The network, Lightning style: a `LightningModule` run by a `Trainer` (the `lightning` style).
public final class LightningNetwork<Scalar: NeuralScalar>: LightningModule {
    public let fc1, fc2, fc3: Linear<Scalar>
    public let shape: NetworkShape
    public let learningRate: Scalar
    public var isTraining = true
    /// The epoch's training accuracy or R² sums so far, and the validation set's loss, accuracy
    /// and R² sums (torchmetrics metrics' state).
    private var training = EvaluationTotals(), validation = EvaluationTotals()

    public init(_ initial: NetworkParameters<Scalar>, learningRate: Scalar) {
        (fc1, fc2, fc3) = (Linear(initial.fc1), Linear(initial.fc2), Linear(initial.fc3))
        (shape, self.learningRate) = (initial.shape, learningRate)
    }

    public var namedChildren: [(name: String, module: any Module<Scalar>)] {
        [("fc1", fc1), ("fc2", fc2), ("fc3", fc3)]
    }

    /// `fc1 → tanh → fc2 → sigmoid → fc3`: logits (classification) or ŷ (regression), `[B, O]`.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let h1 = fc1(x).tanh()                                  // [B, H1]
        let h2 = fc2(h1).sigmoid()                              // [B, H2]
        return fc3(h2)                                          // [B, O]  logits or ŷ
    }

    public func trainingStep(batch: Batch<Scalar>) -> Tensor<Scalar> {
        let output = self(Tensor(batch.inputs))                          // [B, O]
        let loss: Tensor<Scalar>
        switch shape.task {
        case .classification: loss = CrossEntropyLoss()(output, .classes(batch.labels))   // softmax inside
        case .regression: loss = MSELoss()(output, .values(Tensor(batch.targets)))
        }
        training.add(loss: loss.scalar, outputs: output.value, batch: batch)   // train_acc.update(logits, y)
        return loss
    }

    /// `accuracy` or `r2` over the epoch's batches, each before its update (`compute`, `reset`).
    public func onTrainEpochEnd() -> Logs {
        defer { training = EvaluationTotals() }
        return shape.task == .classification ? ["accuracy": training.accuracy] : ["r2": training.rSquared.value]
    }

    /// Updates the validation metrics with one batch (`metric.update(preds, target)`). A
    /// classifier takes the loss from the fused op `CrossEntropyLoss` calls, which also returns
    /// the softmax probabilities every style counts its test accuracy from.
    public func validationStep(batch: Batch<Scalar>) -> Logs {
        let output = self(Tensor(batch.inputs))                          // [B, O]
        switch shape.task {
        case .classification:
            let (loss, probabilities) = output.softmaxCrossEntropy(labels: batch.labels)
            validation.add(loss: loss.scalar, outputs: probabilities, batch: batch)
        case .regression:
            let loss = MSELoss()(output, .values(Tensor(batch.targets)))
            validation.add(loss: loss.scalar, outputs: output.value, batch: batch)
        }
        return Logs()
    }

    /// `val_loss` and `val_accuracy` or `val_r2` over the whole validation set
    /// (`metric.compute()`, then `metric.reset()`).
    public func onValidationEpochEnd() -> Logs {
        defer { validation = EvaluationTotals() }
        switch shape.task {
        case .classification: return ["val_loss": validation.meanLoss, "val_accuracy": validation.accuracy]
        case .regression: return ["val_loss": validation.meanLoss, "val_r2": validation.rSquared.value]
        }
    }

    public func configureOptimizers() -> any Optimizer<Scalar> {
        SGD(parameters: parameters, learningRate: learningRate)
    }
}

// MARK: - Its weights, for checkpoints

extension LightningNetwork {
    /// The current weights in the shared layout.
    public var currentParameters: NetworkParameters<Scalar> {
        NetworkParameters(shape: shape, fc1: fc1.currentParameters, fc2: fc2.currentParameters,
                          fc3: fc3.currentParameters)
    }

    /// The shared checkpoint's metadata: task, sizes, activations, format.
    public var checkpointMetadata: [String: String] {
        ["task": shape.task.rawValue, "sizes": shape.sizes.map(String.init).joined(separator: ","),
         "activations": shape.activations.joined(separator: ","), "format": "pt"]
    }
}

// MARK: - The run

extension LightningNetwork where Scalar == Float {
    /// Trains the `lightning` style on `job`: the module, two data loaders, and `Trainer.fit`.
    /// A callback writes every step and epoch to the job's `TrainingLog`; `callbacks` run after it.
    public static func run(_ job: TrainingJob, callbacks: [any Callback] = []) throws -> TrainedLevel {
        let module = LightningNetwork(job.initialParameters, learningRate: Float(job.recipe.learningRate))
        let trainLoader = try DataLoader(job.train, batchSize: job.recipe.batchSize, shuffle: job.recipe.shuffle,
                                         seed: job.recipe.seed)
        let testLoader = try DataLoader(job.test, batchSize: 1000)
        let log = TrainingLog(job)
        let trainer = Trainer(maxEpochs: job.recipe.epochs, callbacks: [TrainingLogCallback(log, job)] + callbacks,
                              enableProgressBar: false)
        try log.run {
            try trainer.fit(module, trainData: trainLoader, validationData: testLoader)
        }
        return TrainedLevel(result: log.result, parameters: module.currentParameters)
    }
}
