// LightningNetwork.swift — Level 1: the network as a PyTorch Lightning user writes it.
//
// Teaches: the Lightning style keeps Level 2's modules (three `Linear` layers and a forward pass,
// exactly Level 2's `MLP`) and adds hooks: the loss of a training batch, the numbers of a
// validation batch, the optimizer. No loop: the `Trainer` owns `zeroGrad`, `backward` and `step`.
// Leaves out: everything but this network (see Lightning.swift for the Trainer).
//
// Shape legend: B batch · I inputs · O outputs

import Level2Modules
import Level3Autograd
import Shared

/// The network of DESIGN.md, Lightning style: a `TrainingModule` run by a `Trainer`.
public final class LightningNetwork: TrainingModule {
    public let fc1, fc2, fc3: Linear<Float>
    public let shape: NetworkShape
    public let learningRate: Float
    public var isTraining = true

    public init(_ initial: NetworkParameters<Float>, learningRate: Float) {
        (fc1, fc2, fc3) = (Linear(initial.fc1), Linear(initial.fc2), Linear(initial.fc3))
        (shape, self.learningRate) = (initial.shape, learningRate)
    }

    public var namedChildren: [(name: String, module: any Module<Float>)] {
        [("fc1", fc1), ("fc2", fc2), ("fc3", fc3)]
    }

    /// `fc1 → tanh → fc2 → sigmoid → fc3`: logits (classification) or ŷ (regression), `[B, O]`.
    public func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        fc3(fc2(fc1(x).tanh()).sigmoid())
    }

    public func trainingStep(batch: Batch<Float>) -> Tensor<Float> {
        let output = self(Tensor(batch.inputs))
        switch shape.task {
        case .classification: return CrossEntropyLoss()(output, .classes(batch.labels))   // softmax inside
        case .regression: return MSELoss()(output, .values(Tensor(batch.targets)))
        }
    }

    public func validationStep(batch: Batch<Float>) -> Logs {
        let output = self(Tensor(batch.inputs))
        switch shape.task {
        case .classification:
            let (loss, probabilities) = output.softmaxCrossEntropy(labels: batch.labels)
            let correct = correctPredictions(probabilities, labels: batch.labels)
            return ["val_loss": Double(loss.scalar), "val_accuracy": Double(correct) / Double(batch.count)]
        case .regression:
            var residuals = RSquaredAccumulator()
            residuals.add(predictions: output.value, targets: batch.targets)
            let loss = MSELoss()(output, .values(Tensor(batch.targets)))
            return ["val_loss": Double(loss.scalar), "val_mse": residuals.meanSquaredError]
        }
    }

    public func configureOptimizer() -> any Optimizer<Float> {
        SGD(parameters: parameters, learningRate: learningRate)
    }
}
