// Losses.swift — Level 2: loss functions as objects (`nn.CrossEntropyLoss`, `nn.MSELoss`).
//
// Teaches: a criterion is a function `(output, target) → scalar tensor`; calling `backward()` on
// what it returns fills every parameter's gradient. Both reduce by the mean, as PyTorch's do by
// default. `CrossEntropyLoss` takes *logits*: the softmax is inside it (fused, for stability),
// which is why the model ends in a plain Linear layer.
// Leaves out: other reductions, class weights, label smoothing.

import Level3Autograd
import Shared

/// What a batch's outputs are compared with: class indices or target values.
public enum LossTarget<Scalar: NeuralScalar> {
    /// Classification: one class index per row.
    case classes([Int32])
    /// Regression: `[B, outputs]` target values.
    case values(Tensor<Scalar>)

    /// The target of a batch of the shared data: its labels or its target values.
    public init(_ batch: Batch<Scalar>, task: Task) {
        switch task {
        case .classification: self = .classes(batch.labels)
        case .regression: self = .values(Tensor(batch.targets))
        }
    }
}

/// A loss function object.
public protocol Loss<Scalar> {
    associatedtype Scalar: NeuralScalar
    /// The batch-mean loss, `[1, 1]`, differentiable with respect to `output`.
    func callAsFunction(_ output: Tensor<Scalar>, _ target: LossTarget<Scalar>) -> Tensor<Scalar>
}

/// Softmax + mean cross-entropy on logits `[B, C]` and class indices (`nn.CrossEntropyLoss`):
/// `ℓ = (1/B) Σᵢ −log softmax(zᵢ)[yᵢ]`.
public struct CrossEntropyLoss<Scalar: NeuralScalar>: Loss {
    public init() {}
    public func callAsFunction(_ logits: Tensor<Scalar>, _ target: LossTarget<Scalar>) -> Tensor<Scalar> {
        let origin = KernelTrace.enter("criterion(output, y)"); defer { origin.leave() }   // for compare-levels --trace
        guard case let .classes(labels) = target else {
            preconditionFailure("CrossEntropyLoss needs class indices")
        }
        return logits.softmaxCrossEntropy(labels: labels).loss
    }
}

/// Mean squared error over every element (`nn.MSELoss`): `ℓ = (1/(B·n)) Σ (ŷ − y)²`.
public struct MSELoss<Scalar: NeuralScalar>: Loss {
    public init() {}
    public func callAsFunction(_ prediction: Tensor<Scalar>, _ target: LossTarget<Scalar>) -> Tensor<Scalar> {
        let origin = KernelTrace.enter("criterion(output, y)"); defer { origin.leave() }   // for compare-levels --trace
        guard case let .values(y) = target else {
            preconditionFailure("MSELoss needs target values")
        }
        return prediction.meanSquaredError(target: y)
    }
}
