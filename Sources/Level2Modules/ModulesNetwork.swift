// ModulesNetwork.swift — Level 2: the network as a PyTorch user writes it, and the loop.
//
// Teaches: the model is a class with three `Linear` attributes and a `forward`; the training loop
// is the four lines every PyTorch tutorial has:
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

/// The network of DESIGN.md as a `Module`: `fc1 → tanh → fc2 → sigmoid → fc3`. The head's
/// softmax lives in `CrossEntropyLoss`, as in PyTorch.
public final class MLP<Scalar: NeuralScalar>: Module {
    public let fc1, fc2, fc3: Linear<Scalar>
    public var isTraining = true

    public init(_ initial: NetworkParameters<Scalar>) {
        fc1 = Linear(initial.fc1)                               // [I → H1]
        fc2 = Linear(initial.fc2)                               // [H1 → H2]
        fc3 = Linear(initial.fc3)                               // [H2 → O]
    }

    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let h1 = fc1(x).tanh()                                  // [B, H1]
        let h2 = fc2(h1).sigmoid()                              // [B, H2]
        return fc3(h2)                                          // [B, O]  logits or ŷ
    }

    public var namedChildren: [(name: String, module: any Module<Scalar>)] {
        [("fc1", fc1), ("fc2", fc2), ("fc3", fc3)]
    }
}

/// Model, criterion and optimizer together, trained with the hand-written loop.
public final class ModulesTrainer<Scalar: NeuralScalar> {
    public let task: Task
    public let shape: NetworkShape
    public let model: MLP<Scalar>
    public let criterion: any Loss<Scalar>
    public let optimizer: any Optimizer<Scalar>

    /// The recipe of the shared contract: plain SGD, mean losses.
    public init(initial: NetworkParameters<Scalar>, learningRate: Scalar) {
        task = initial.shape.task
        shape = initial.shape
        model = MLP(initial)
        criterion = task == .classification ? CrossEntropyLoss<Scalar>() : MSELoss<Scalar>()
        optimizer = SGD(parameters: model.parameters, learningRate: learningRate)
    }

    /// Any model, criterion and optimizer (for experiments and tests).
    public init(task: Task, model: MLP<Scalar>, criterion: any Loss<Scalar>, optimizer: any Optimizer<Scalar>) {
        self.task = task
        self.shape = NetworkShape(task: task, inputSize: model.fc1.inputSize,
                                  hidden: [model.fc1.outputSize, model.fc2.outputSize],
                                  outputSize: model.fc3.outputSize)
        self.model = model
        self.criterion = criterion
        self.optimizer = optimizer
    }

    /// One step of the loop; returns the batch loss before the update.
    public func trainStep(on batch: Batch<Scalar>) -> Scalar {
        let (x, y) = (Tensor(batch.inputs), LossTarget(batch, task: task))   // x: [B, I]
        optimizer.zeroGrad()
        let loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.scalar
    }
}

// MARK: - Driven by the shared epoch loop

extension ModulesTrainer: TrainableModel {
    public func evaluate(_ batch: Batch<Scalar>) -> (loss: Scalar, outputs: Matrix<Scalar>) {
        model.eval()
        defer { model.train() }
        return withNoGrad {
            let output = model(Tensor(batch.inputs))
            switch task {
            case .classification:                       // report probabilities, as the other levels do
                let (loss, probabilities) = output.softmaxCrossEntropy(labels: batch.labels)
                return (loss.scalar, probabilities)
            case .regression:
                return (criterion(output, LossTarget(batch, task: task)).scalar, output.value)
            }
        }
    }

    public var currentParameters: NetworkParameters<Scalar> {
        NetworkParameters(shape: shape, fc1: model.fc1.currentParameters,
                          fc2: model.fc2.currentParameters, fc3: model.fc3.currentParameters)
    }
}

extension ModulesTrainer where Scalar == Float {
    /// Level 2's training job: the module network with plain SGD, started from the shared initial
    /// weights and driven by the shared epoch loop (specialised for Float here, in this module).
    public static func train(_ job: TrainingJob) throws -> TrainedLevel {
        var trainer = ModulesTrainer(initial: job.initialParameters, learningRate: Float(job.recipe.learningRate))
        return try job.run(&trainer)
    }
}
