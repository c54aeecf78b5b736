// ModulesNetwork.swift — Level 2: the network as a PyTorch user writes it, and the loop.
//
// Teaches: the model is a class with three `Linear` attributes and a `callAsFunction` (PyTorch's
// `forward`); the training loop is written out, as every PyTorch tutorial writes it, around the
// four lines that matter:
//
//     optimizer.zeroGrad()
//     let loss = criterion(model(x), y)
//     loss.backward()
//     optimizer.step()
//
// Underneath, `model(x)` is Level 3's tensor expressions, `backward()` is Level 3's tape, and
// `step()` is Shared's `sgdUpdate`, the same kernel Level 4 calls by hand.
// Leaves out: `fit`, callbacks and metrics bookkeeping (Level 1).
//
// Shape legend: B batch · I inputs (784 or 3) · H1, H2 hidden (128, 64) · O outputs (10 or 1)

import Level3Autograd
import Shared

/// The network as a `Module`: `fc1 → tanh → fc2 → sigmoid → fc3`. The head's softmax lives in
/// `CrossEntropyLoss`, as in PyTorch.
public final class MLP<Scalar: NeuralScalar>: Module {
    public let fc1, fc2, fc3: Linear<Scalar>
    public let shape: NetworkShape
    public var isTraining = true

    public init(_ initial: NetworkParameters<Scalar>) {
        shape = initial.shape
        fc1 = Linear(initial.fc1)                               // [I → H1]
        fc2 = Linear(initial.fc2)                               // [H1 → H2]
        fc3 = Linear(initial.fc3)                               // [H2 → O]
    }

    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let origin = KernelTrace.enter("model(x)"); defer { origin.leave() }   // for compare-levels --trace
        let h1 = fc1(x).tanh()                                  // [B, H1]
        let h2 = fc2(h1).sigmoid()                              // [B, H2]
        return fc3(h2)                                          // [B, O]  logits or ŷ
    }

    public var namedChildren: [(name: String, module: any Module<Scalar>)] {
        [("fc1", fc1), ("fc2", fc2), ("fc3", fc3)]
    }

    /// The current weights, in the shared layout.
    public var currentParameters: NetworkParameters<Scalar> {
        NetworkParameters(shape: shape, fc1: fc1.currentParameters, fc2: fc2.currentParameters, fc3: fc3.currentParameters)
    }
}

// MARK: - The training loop

/// The `modules` style: what a PyTorch training script does, as two functions.
public enum ModulesNetwork {
    /// Trains the network of `job`: the model, the criterion and the optimizer, then the loop.
    /// `criterion` and `optimizer` replace the recipe's (mean cross-entropy or squared error;
    /// plain SGD at the recipe's learning rate) for experiments such as compare-levels' mistakes.
    public static func run(_ job: TrainingJob, criterion: (any Loss<Float>)? = nil,
                           optimizer makeOptimizer: ((_ parameters: [Tensor<Float>]) -> any Optimizer<Float>)? = nil)
        throws -> TrainedLevel {
        let model = MLP(job.initialParameters)
        let criterion: any Loss<Float> = criterion ?? (job.train.task == .classification ? CrossEntropyLoss() : MSELoss())
        let optimizer = makeOptimizer?(model.parameters)
            ?? SGD(parameters: model.parameters, learningRate: Float(job.recipe.learningRate))
        let trainLoader = job.makeTrainLoader()                     // the batches every style sees
        let log = TrainingLog(job)                                  // step losses, history, NaN, Ctrl-C

        try log.run {
            for epoch in job.epochs {
                model.train()
                for batch in trainLoader.batches(epoch: epoch) {
                    let (x, y) = (Tensor(batch.inputs), LossTarget(batch, task: job.train.task))   // x: [B, I]
                    optimizer.zeroGrad()
                    let output = model(x)                                // [B, O]  logits or ŷ
                    let loss = criterion(output, y)
                    loss.backward()
                    optimizer.step()
                    try log.step(loss.scalar, outputs: output.value, batch: batch)
                }
                model.eval()
                try log.epochEnded(evaluate(model, on: job.test))
            }
        }
        return TrainedLevel(result: log.result, parameters: model.currentParameters)
    }

    /// The test loss and accuracy (or R²) under `withNoGrad` (PyTorch's `torch.no_grad()`), in
    /// chunks of 1,000.
    ///
    /// A classifier calls the fused op `CrossEntropyLoss` calls, `softmaxCrossEntropy(labels:)`,
    /// rather than the criterion: the loss is the same bits, and the op also hands back the
    /// softmax probabilities the criterion discards, from which every style counts its test
    /// accuracy (an argmax of the logits can differ where rounding makes two probabilities
    /// equal). A `criterion` given to ``run(_:criterion:optimizer:)`` is for training only, so a
    /// mistake's test loss stays the mean loss, comparable with the clean run's.
    public static func evaluate<Scalar: NeuralScalar>(_ model: MLP<Scalar>, on data: Dataset<Scalar>) -> EvaluationTotals {
        withNoGrad {
            var totals = EvaluationTotals()
            for batch in data.chunks(of: 1000) {
                let output = model(Tensor(batch.inputs))                                    // [B, O]
                if data.task == .classification {
                    let (loss, probabilities) = output.softmaxCrossEntropy(labels: batch.labels)
                    totals.add(loss: loss.scalar, outputs: probabilities, batch: batch)
                } else {
                    totals.add(loss: MSELoss()(output, .values(Tensor(batch.targets))).scalar, outputs: output.value, batch: batch)
                }
            }
            return totals
        }
    }
}
