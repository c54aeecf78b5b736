// Compile.swift — Level 1: `compile(optimizer:loss:metrics:)`, choosing Level 2's objects by name.
//
// Teaches: `compile` does no computation. It turns three names into the three objects of a
// Level 2 training loop: an optimizer over the model's parameters (`SGD`, `Adam`), a criterion
// (`CrossEntropyLoss`, `MSELoss`), and the metrics to report. It also catches mismatches before
// any data arrives: cross-entropy without a softmax output, accuracy on a regression.
//
// The one piece of cleverness is Keras's own: when the output layer is a softmax and the loss is
// a categorical cross-entropy, the softmax is *not* applied in training. The loss takes the
// logits and computes softmax and cross-entropy together (Keras does this when it sees the pair:
// it reaches back to the logits, `from_logits=True` in effect), with the log-sum-exp trick and the
// simple gradient `(p − y)/B`. Here that is Level 2's `CrossEntropyLoss` on the last `Linear`'s
// output, the very op Level 2 trains with, which is why Level 1 agrees with Level 2 bit for bit.
// Leaves out: learning-rate schedules, loss weights, weighted metrics, custom losses.

import Level2Modules
import Level3Autograd
import Shared

// MARK: - Optimizers

/// An optimizer by name and hyperparameters (Keras's `optimizer=keras.optimizers.SGD(…)`),
/// made into a Level 2 optimizer by ``Model/compile(optimizer:loss:metrics:)``.
public enum OptimizerConfiguration: Sendable, Equatable {
    /// Stochastic gradient descent (Keras's defaults: η = 0.01, no momentum). Without momentum,
    /// Level 2's `SGD` applies `w ← w − η·g` with Shared's `sgdUpdate`, the kernel every level
    /// uses. With momentum μ, Level 2 follows PyTorch, `v ← μ·v + g`, `w ← w − η·v` (Nesterov:
    /// `w ← w − η·(g + μ·v)`); Keras keeps `v ← μ·v − η·g`, `w ← w + v`. With a constant η the
    /// two are the same trajectory.
    case sgd(learningRate: Double = 0.01, momentum: Double = 0, nesterov: Bool = false)
    /// Adam with Keras's defaults (η = 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-7), through Level 2's
    /// `Adam`: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `w ← w − η·m̂/(√v̂ + ε)`. Level 2 places
    /// ε as PyTorch does; Keras adds `ε·√(1−β₂ᵗ)` instead, a difference only while `v̂ ≈ ε²`.
    case adam(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7)

    /// The Level 2 optimizer over `parameters`.
    ///
    /// - Throws: ``HighLevelError/invalidArgument(name:reason:)`` for a learning rate that is not
    ///   a finite positive number, a momentum or β outside [0, 1), Nesterov without momentum, or
    ///   a non-positive ε.
    func makeOptimizer<Scalar: NeuralScalar>(parameters: [Tensor<Scalar>]) throws -> any Optimizer<Scalar> {
        func check(_ ok: Bool, _ name: String, _ reason: String) throws {
            if !ok { throw HighLevelError.invalidArgument(name: name, reason: reason) }
        }
        switch self {
        case let .sgd(learningRate, momentum, nesterov):
            try check(learningRate.isFinite && learningRate > 0, "learningRate",
                      "must be a finite number above 0, got \(learningRate)")
            try check(momentum >= 0 && momentum < 1, "momentum", "must be in [0, 1), got \(momentum)")
            try check(!nesterov || momentum > 0, "nesterov", "needs a momentum above 0")
            return SGD(parameters: parameters, learningRate: Scalar(learningRate), momentum: Scalar(momentum),
                       nesterov: nesterov)
        case let .adam(learningRate, beta1, beta2, epsilon):
            try check(learningRate.isFinite && learningRate > 0, "learningRate",
                      "must be a finite number above 0, got \(learningRate)")
            try check(beta1 >= 0 && beta1 < 1, "beta1", "must be in [0, 1), got \(beta1)")
            try check(beta2 >= 0 && beta2 < 1, "beta2", "must be in [0, 1), got \(beta2)")
            try check(epsilon.isFinite && epsilon > 0, "epsilon", "must be a finite number above 0, got \(epsilon)")
            return Adam(parameters: parameters, learningRate: Scalar(learningRate), beta1: Scalar(beta1),
                        beta2: Scalar(beta2), epsilon: Scalar(epsilon))
        }
    }
}

// MARK: - Losses

/// A loss by name (Keras's `loss="sparse_categorical_crossentropy"`), all means over the batch.
public enum LossFunction: String, Sendable, CaseIterable {
    /// Cross-entropy against **one-hot** targets `y: [B, C]`:
    /// `ℓ = −(1/B) Σᵢ Σⱼ yᵢⱼ log pᵢⱼ`. Give y as a `Matrix` of rows with a single 1.
    case categoricalCrossentropy
    /// Cross-entropy against **integer class labels** `y: [B]` (`[Int32]`, or a classification
    /// `Dataset`): `ℓ = −(1/B) Σᵢ log pᵢ,yᵢ`. The right choice for labels 0–9, as in Keras; the
    /// same number as the categorical loss on the one-hot rows.
    case sparseCategoricalCrossentropy
    /// Mean squared error over every element, `ℓ = (1/(B·O)) Σ (ŷ − y)²`, against target values
    /// `y: [B, O]` (Keras's `"mse"`).
    case meanSquaredError

    /// Whether this is one of the two cross-entropies.
    var isCrossEntropy: Bool { self != .meanSquaredError }
}

// MARK: - Metrics

/// A metric reported beside the loss, by the key it has in the logs and ``History``.
public enum Metric: String, Sendable, CaseIterable {
    /// Fraction of samples whose largest output is the label (needs a cross-entropy loss).
    case accuracy
    /// Mean squared error, accumulated in Double over the epoch (needs mean squared error loss).
    case meanSquaredError = "mse"
    /// Coefficient of determination, `R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²` (needs mean squared error).
    case r2

    /// The key in the logs: `accuracy`, `mse`, `r2` (`val_accuracy`, … for validation).
    public var key: String { rawValue }
}

// MARK: - What compile sets up

/// The compiled state: names, and the Level 2 objects made from them, in the model's scalar type.
struct Compilation<Scalar: NeuralScalar> {
    let optimizerConfiguration: OptimizerConfiguration
    let loss: LossFunction
    let metrics: [Metric]
    /// Level 2's optimizer over the model's parameters.
    let optimizer: any Optimizer<Scalar>
    /// Level 2's criterion: `CrossEntropyLoss` (on logits) or `MSELoss`.
    let criterion: any Loss<Scalar>
    /// True when the head is a softmax that the cross-entropy computes itself.
    let fusesSoftmax: Bool

    /// Classification for the cross-entropies, regression for mean squared error.
    var task: Task { loss.isCrossEntropy ? .classification : .regression }
}

extension Model {
    /// Chooses the optimizer, the loss and the metrics (Keras's `model.compile`).
    ///
    ///     try model.compile(optimizer: .sgd(learningRate: 0.1),
    ///                       loss: .sparseCategoricalCrossentropy, metrics: [.accuracy])
    ///
    /// Compiling again starts a new optimizer (its momentum or moments are forgotten), as in Keras.
    ///
    /// - Throws: ``HighLevelError/incompatible(_:)`` for a cross-entropy without a softmax output
    ///   layer, or a metric that does not fit the loss; ``HighLevelError/invalidArgument(name:reason:)``
    ///   for an optimizer setting out of range.
    public func compile(optimizer: OptimizerConfiguration = .sgd(), loss: LossFunction, metrics: [Metric] = []) throws {
        let head = layers[layers.count - 1]
        if loss.isCrossEntropy && head.activation != .softmax {
            throw HighLevelError.incompatible(
                "\(loss.rawValue) needs a softmax output layer; the last layer, \(head.name ?? ""), has activation "
                + "\(head.activation.rawValue) (use Dense(\(head.units), activation: .softmax))")
        }
        for metric in metrics {
            if metric == .accuracy && !loss.isCrossEntropy {
                throw HighLevelError.incompatible("metric accuracy needs class labels, so a cross-entropy loss, not \(loss.rawValue)")
            }
            if metric != .accuracy && loss.isCrossEntropy {
                throw HighLevelError.incompatible("metric \(metric.key) needs target values, so meanSquaredError, not \(loss.rawValue)")
            }
        }
        var unique: [Metric] = []
        for metric in metrics where !unique.contains(metric) { unique.append(metric) }

        compilation = Compilation(
            optimizerConfiguration: optimizer, loss: loss, metrics: unique,
            optimizer: try optimizer.makeOptimizer(parameters: parameters),
            criterion: loss.isCrossEntropy ? CrossEntropyLoss<Scalar>() : MSELoss<Scalar>(),
            fusesSoftmax: loss.isCrossEntropy)
    }

    /// Whether ``compile(optimizer:loss:metrics:)`` has been called.
    public var isCompiled: Bool { compilation != nil }

    /// The compiled loss, or nil before compiling.
    public var loss: LossFunction? { compilation?.loss }

    /// The compiled metrics (empty before compiling).
    public var metrics: [Metric] { compilation?.metrics ?? [] }

    /// The compiled state, or the error that says to compile first.
    func requireCompilation(for call: String) throws -> Compilation<Scalar> {
        guard let compilation else { throw HighLevelError.notCompiled(call: call) }
        return compilation
    }
}
