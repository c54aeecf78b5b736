// TestSupport.swift — first differing bits, a weighted sum the compiler can differentiate and
// the finite-difference checker, for the Level3Differentiable suites (random matrices and real
// batches are in the TestSupport target).
//
// Teaches: how a compiler-derived gradient is checked: nudge one number by ±h, see how the
// function moves.
// Leaves out: tests of its own (it is only used by the suites).

import _Differentiation
import Testing
@testable import Level3Differentiable
@testable import Shared
import TestSupport

/// The first element in which two matrices differ in any bit (unlike `==`, this tells −0.0
/// from +0.0, and NaN equals itself), as `[17]: a ≠ b`, or nil if they are identical: a short
/// failure message, where comparing all the bits would print every element.
func firstDifference(_ x: Matrix<Float>, _ y: Matrix<Float>) -> String? {
    guard x.shape == y.shape else { return "shape \(x.shape) ≠ \(y.shape)" }
    guard let i = x.storage.indices.first(where: { x.storage[$0].bitPattern != y.storage[$0].bitPattern }) else { return nil }
    return "[\(i)]: \(x.storage[i]) ≠ \(y.storage[i])"
}

/// The same for all six tensors of two sets of weights, as `fc2.weight[17]: a ≠ b`.
func firstDifference(_ a: NetworkParameters<Float>, _ b: NetworkParameters<Float>) -> String? {
    for ((name, x), (_, y)) in zip(a.namedTensors, b.namedTensors) {
        if let difference = firstDifference(x, y) { return name + difference }
    }
    return nil
}

/// `Σᵢⱼ yᵢⱼ·rᵢⱼ` with fixed random weights `r`: a scalar that depends on every element of `y`
/// differently (a plain sum would seed every element with the same 1 and hide a transposed or
/// swapped gradient). Its derivative, `∂/∂y = g·r`, is registered below.
@differentiable(reverse, wrt: y)
func weightedSum(_ y: Matrix<Double>, seed: UInt64 = 77) -> Double {
    let r = randomMatrix(y.rows, y.columns, seed: seed, as: Double.self)
    return zip(y.storage, r.storage).reduce(0) { $0 + $1.0 * $1.1 }
}

@derivative(of: weightedSum, wrt: y)
func vjpWeightedSum(_ y: Matrix<Double>, seed: UInt64) -> (value: Double, pullback: (Double) -> Matrix<Double>) {
    let r = randomMatrix(y.rows, y.columns, seed: seed, as: Double.self)
    return (weightedSum(y, seed: seed), { g in Matrix(rows: r.rows, columns: r.columns, storage: r.storage.map { g * $0 }) })
}

/// The worst error between `analytic`, a claimed gradient of `f` at `inputs`, and central
/// differences `(f(x + h) − f(x − h)) / 2h`, over every element of every input, in Double.
///
/// The error of one element is `|analytic − numeric| / max(|analytic|, |numeric|, floor)`:
/// relative, except that gradients smaller than `floor` are compared absolutely (a central
/// difference of a function of size ~1 carries an absolute rounding error of about
/// 1e-16/h ≈ 1e-11, which is no relative error at all for a gradient near 0).
func worstGradientError(_ inputs: [Matrix<Double>], analytic: [Matrix<Double>], h: Double = 1e-5,
                        floor: Double = 1e-5, _ f: ([Matrix<Double>]) -> Double) -> Double {
    precondition(inputs.count == analytic.count, "one gradient per input")
    var worst = 0.0
    for (n, input) in inputs.enumerated() {
        precondition(analytic[n].shape == input.shape, "gradient \(n) is \(analytic[n].shape), input is \(input.shape)")
        for index in input.storage.indices {
            var plus = inputs, minus = inputs
            plus[n].storage[index] += h
            minus[n].storage[index] -= h
            let numeric = (f(plus) - f(minus)) / (2 * h)
            let exact = analytic[n].storage[index]
            worst = max(worst, abs(exact - numeric) / max(abs(exact), abs(numeric), floor))
        }
    }
    return worst
}

extension DifferentiableNetwork.Parameters {
    /// The six tensors in checkpoint order, as the other levels list them.
    var tensors: [Matrix<T>] { [w1, b1, w2, b2, w3, b3] }
}

extension DifferentiableNetwork.Parameters.TangentVector {
    /// The six gradients in checkpoint order.
    var tensors: [Matrix<T>] { [w1, b1, w2, b2, w3, b3] }
}
