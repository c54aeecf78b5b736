// Update.swift — the parameter update every level's optimizer comes down to.
//
// Teaches: "the optimizer" of plain SGD is one line, w ← w − lr·g. Level 2's
// `SGD.step()`, Level 1's `fit` and Level 4's hand-written loop all end here, which is one
// reason they agree bit for bit.
// Below it, the two stateful updates Level 2's optimizers offer: SGD with momentum (PyTorch's
// convention, with Keras's difference stated) and Adam.
// Each update's fast form (Fast/FastUpdate.swift) computes the same bits over raw pointers, split
// across threads; `NEURAL_LEVELS_READABLE_KERNELS=1` runs the loops below instead.
// Every kernel takes `file`, `line`, `function` defaulted to its caller, for `--trace` (LinearAlgebra.swift).
// Leaves out: learning-rate schedules and other optimizers (RMSprop, AdamW, …).

import RealModule

/// Plain stochastic gradient descent, in place: `w ← w − η·g`, each element rounded once
/// (`fma(−η, g, w)`, the correctly rounded `w − η·g`).
///
/// Shapes: `parameter, gradient`: any, equal.
@inlinable
@_specialize(where T == Float)
public func sgdUpdate<T: NeuralScalar>(
    _ parameter: inout Matrix<T>, gradient: Matrix<T>, learningRate: T,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(parameter.shape == gradient.shape, "sgdUpdate: shapes differ")
    KernelTrace.record("sgdUpdate", "[\(parameter.rows),\(parameter.columns)]",
                       file: file, line: line, function: function)
    if FastKernels.sgdUpdate(&parameter, gradient: gradient, learningRate: learningRate) { return }   // Fast/FastUpdate.swift
    for i in 0..<parameter.count {                       // w ← w − η·g, rounded once (fused multiply-add)
        parameter.storage[i] = parameter.storage[i].addingProduct(-learningRate, gradient.storage[i])
    }
}

// MARK: - SGD with momentum (PyTorch's convention)

/// One step of SGD with momentum, weight decay and Nesterov, exactly as `torch.optim.SGD`:
///
///     g ← g + λ·w                          (weight decay λ, if λ ≠ 0)
///     v ← g                                (first step)
///     v ← μ·v + (1 − τ)·g                  (later steps; μ momentum, τ dampening)
///     d ← g + μ·v  (Nesterov)   or   d ← v
///     w ← w − η·d
///
/// Keras's `SGD(momentum=μ)` keeps a *velocity* that already includes the learning rate,
/// `v ← μ·v − η·g; w ← w + v`: the same trajectory while η is constant, different as soon as η
/// changes (a schedule), and its Nesterov variant is `w ← w + μ·v − η·g`.
///
/// - Parameters:
///   - parameter: the weights `w`, updated in place.
///   - gradient: `g`, the same shape.
///   - velocity: the momentum buffer `v`, same shape as the parameter; `nil` before the first
///     step (it is then set to `g`, as PyTorch does).
///   - learningRate: `η`.
///   - momentum: `μ` (0: plain SGD, with weight decay if `λ` ≠ 0).
///   - dampening: `τ`.
///   - nesterov: use the Nesterov form `d ← g + μ·v`.
///   - weightDecay: `λ` (0: none).
///   - file: the calling file, for `compare-levels --trace` (leave the default).
///   - line: the calling line, likewise.
///   - function: the calling function, likewise.
@inlinable
@_specialize(where T == Float)
public func sgdMomentumUpdate<T: NeuralScalar>(
    _ parameter: inout Matrix<T>, gradient: Matrix<T>, velocity: inout Matrix<T>?,
    learningRate: T, momentum: T, dampening: T, nesterov: Bool, weightDecay: T,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(parameter.shape == gradient.shape, "sgdMomentumUpdate: shapes differ")
    KernelTrace.record("sgdMomentumUpdate", "[\(parameter.rows),\(parameter.columns)]",
                       file: file, line: line, function: function)
    let firstStep = velocity == nil
    var v = velocity ?? Matrix(rows: parameter.rows, columns: parameter.columns)
    velocity = nil                                 // v is the buffer's only owner: updated in place, not copied
    defer { velocity = v }
    if FastKernels.sgdMomentumUpdate(&parameter, gradient: gradient, velocity: &v, isFirstStep: firstStep,
                                     learningRate: learningRate, momentum: momentum, dampening: dampening,
                                     nesterov: nesterov, weightDecay: weightDecay) { return }   // Fast/FastUpdate.swift
    for i in 0..<parameter.count {
        var g = gradient.storage[i]
        if weightDecay != 0 { g += weightDecay * parameter.storage[i] }
        if momentum != 0 {
            v.storage[i] = firstStep ? g : momentum * v.storage[i] + (1 - dampening) * g
            g = nesterov ? g + momentum * v.storage[i] : v.storage[i]
        }
        parameter.storage[i] -= learningRate * g
    }
}

// MARK: - Adam

/// One step of Adam (Kingma & Ba, 2015), as `torch.optim.Adam` computes it, at step `t ≥ 1`:
///
///     g ← g + λ·w                              (L2 weight decay λ, if λ ≠ 0)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)
///     w ← w − η·m̂ / (√v̂ + ε)
///
/// - Parameters: `m`, `v`: the moment buffers, same shape as the parameter, zero before step 1.
@inlinable
@_specialize(where T == Float)
public func adamUpdate<T: NeuralScalar>(
    _ parameter: inout Matrix<T>, gradient: Matrix<T>, m: inout Matrix<T>, v: inout Matrix<T>,
    step t: Int, learningRate: T, beta1: T, beta2: T, epsilon: T, weightDecay: T,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(parameter.shape == gradient.shape && m.shape == gradient.shape && v.shape == gradient.shape,
                 "adamUpdate: shapes differ")
    precondition(t >= 1, "adamUpdate: steps count from 1")
    KernelTrace.record("adamUpdate", "[\(parameter.rows),\(parameter.columns)]",
                       file: file, line: line, function: function)
    let correction1 = 1 - T.pow(beta1, t)
    let correction2 = 1 - T.pow(beta2, t)
    if FastKernels.adamUpdate(&parameter, gradient: gradient, m: &m, v: &v, correction1: correction1,
                              correction2: correction2, learningRate: learningRate, beta1: beta1, beta2: beta2,
                              epsilon: epsilon, weightDecay: weightDecay) { return }   // Fast/FastUpdate.swift
    for i in 0..<parameter.count {
        var g = gradient.storage[i]
        if weightDecay != 0 { g += weightDecay * parameter.storage[i] }
        m.storage[i] = beta1 * m.storage[i] + (1 - beta1) * g
        v.storage[i] = beta2 * v.storage[i] + (1 - beta2) * g * g
        let mHat = m.storage[i] / correction1
        let vHat = v.storage[i] / correction2
        parameter.storage[i] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
    }
}
