// Optimizers.swift — Level 2: optimizers as objects (`torch.optim`).
//
// Teaches: an optimizer holds references to the parameters and whatever state its update rule
// needs (a momentum buffer, Adam's two moments), and `step()` applies the rule to every
// parameter from its `.grad`. The rules themselves are Shared kernels, so plain SGD here is the
// very update Level 4 writes by hand.
// Leaves out: parameter groups, learning-rate schedulers, closures for line search.
// Performance: each `step()` is marked `@_specialize(where Scalar == Float)`, for loops that hold
// the optimizer as `any Optimizer<Float>` (why: docs/performance.md, "The tape's overhead").

import Level3Autograd
import Shared

/// Updates parameters from their gradients (`torch.optim.Optimizer`): `step()` applies the
/// rule to every parameter that has a `.grad`, `zeroGrad()` forgets the gradients.
public protocol Optimizer<Scalar>: AnyObject {
    associatedtype Scalar: NeuralScalar
    /// The parameters this optimizer updates.
    var parameters: [Tensor<Scalar>] { get }
    /// One update of every parameter that has a gradient.
    func step()
}

extension Optimizer {
    /// Forgets every parameter's gradient (`optimizer.zero_grad()`).
    public func zeroGrad() {
        for parameter in parameters { parameter.zeroGrad() }
    }
}

/// Stochastic gradient descent with PyTorch's semantics (`torch.optim.SGD`).
///
/// With the defaults it is plain SGD, `w ← w − η·g`, through the same Shared kernel as Level 4.
/// With momentum μ, dampening τ, Nesterov and weight decay λ (see `sgdMomentumUpdate`):
///
///     g ← g + λ·w;   v ← g (first step), then v ← μ·v + (1 − τ)·g
///     w ← w − η·(g + μ·v)  with Nesterov,   w ← w − η·v  without
///
/// Keras's momentum differs: its velocity includes the learning rate (`v ← μ·v − η·g`,
/// `w ← w + v`), which is the same trajectory only while η is constant.
public final class SGD<Scalar: NeuralScalar>: Optimizer {
    public let parameters: [Tensor<Scalar>]
    public var learningRate: Scalar
    public let momentum: Scalar
    public let dampening: Scalar
    public let nesterov: Bool
    public let weightDecay: Scalar
    /// One momentum buffer per parameter, created at its first step.
    private var velocities: [Matrix<Scalar>?]

    public init(parameters: [Tensor<Scalar>], learningRate: Scalar, momentum: Scalar = 0,
                dampening: Scalar = 0, nesterov: Bool = false, weightDecay: Scalar = 0) {
        precondition(!nesterov || (momentum > 0 && dampening == 0),
                     "Nesterov momentum requires a momentum and zero dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocities = Array(repeating: nil, count: parameters.count)
    }

    @_specialize(where Scalar == Float)                     // see Optimizer: called through `any`
    public func step() {
        let origin = KernelTrace.enter("optimizer.step()"); defer { origin.leave() }   // for compare-levels --trace
        withNoGrad {
            for (index, parameter) in parameters.enumerated() {
                guard let gradient = parameter.grad else { continue }
                if momentum == 0 && weightDecay == 0 {
                    sgdUpdate(&parameter.value, gradient: gradient, learningRate: learningRate)
                } else {
                    sgdMomentumUpdate(&parameter.value, gradient: gradient, velocity: &velocities[index],
                                      learningRate: learningRate, momentum: momentum, dampening: dampening,
                                      nesterov: nesterov, weightDecay: weightDecay)
                }
            }
        }
    }
}

/// Adam (`torch.optim.Adam`): per-parameter step sizes from running averages of the gradient
/// and of its square, bias-corrected (see `adamUpdate`):
///
///     m ← β₁·m + (1 − β₁)·g;   v ← β₂·v + (1 − β₂)·g²
///     w ← w − η · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
///
/// Keras's Adam puts ε inside differently (`ε̂ = ε·√(1 − β₂ᵗ)`) and defaults to ε = 1e-7.
public final class Adam<Scalar: NeuralScalar>: Optimizer {
    public let parameters: [Tensor<Scalar>]
    public var learningRate: Scalar
    public let beta1: Scalar, beta2: Scalar, epsilon: Scalar, weightDecay: Scalar
    private var firstMoments: [Matrix<Scalar>]
    private var secondMoments: [Matrix<Scalar>]
    /// Steps taken so far, `t`.
    public private(set) var stepCount = 0

    public init(parameters: [Tensor<Scalar>], learningRate: Scalar = 0.001, beta1: Scalar = 0.9,
                beta2: Scalar = 0.999, epsilon: Scalar = 1e-8, weightDecay: Scalar = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        (self.beta1, self.beta2, self.epsilon, self.weightDecay) = (beta1, beta2, epsilon, weightDecay)
        firstMoments = parameters.map { Matrix(rows: $0.value.rows, columns: $0.value.columns) }
        secondMoments = firstMoments
    }

    @_specialize(where Scalar == Float)                     // see Optimizer: called through `any`
    public func step() {
        let origin = KernelTrace.enter("optimizer.step()"); defer { origin.leave() }   // for compare-levels --trace
        stepCount += 1
        withNoGrad {
            for (index, parameter) in parameters.enumerated() {
                guard let gradient = parameter.grad else { continue }
                adamUpdate(&parameter.value, gradient: gradient, m: &firstMoments[index], v: &secondMoments[index],
                           step: stepCount, learningRate: learningRate, beta1: beta1, beta2: beta2,
                           epsilon: epsilon, weightDecay: weightDecay)
            }
        }
    }
}
