// TestSupport.swift — the finite-difference checker and the weighted sum the Level 3 autograd
// suites share (random matrices, data and bits are in the TestSupport target).
//
// Teaches: how a gradient is checked: nudge one number by ±h, see how the loss moves.
// Leaves out: tests of its own (it is only used by the suites).

import Foundation
import Testing
@testable import Level3Autograd
@testable import Shared
import TestSupport

/// Checks the gradient `backward()` gives every element of every input against central
/// differences `(f(x + h) − f(x − h)) / 2h`, in Double.
///
/// `f` builds a scalar (`[1, 1]`) from the inputs. The error of one element is
/// `|analytic − numeric| / max(|analytic|, |numeric|, floor)`: relative, except that gradients
/// smaller than `floor` are compared absolutely (a central difference of a function of size ~1
/// carries an absolute rounding error of about 1e-16/h ≈ 1e-11, which is no relative error
/// at all for a gradient near 0).
///
/// - Returns: the worst error over all elements.
func worstGradientError(
    _ inputs: [Matrix<Double>], requiresGrad: [Bool]? = nil, h: Double = 1e-5, floor: Double = 1e-5,
    _ f: ([Tensor<Double>]) throws -> Tensor<Double>
) rethrows -> Double {
    let flags = requiresGrad ?? inputs.map { _ in true }
    let tensors = zip(inputs, flags).map { Tensor($0, requiresGrad: $1) }
    let output = try f(tensors)
    precondition(output.value.count == 1, "f must return a scalar")
    output.backward()
    for (n, tensor) in tensors.enumerated() where !flags[n] {
        #expect(tensor.grad == nil, "input \(n) needs no gradient, and got one")   // its backward was skipped
    }
    var worst = 0.0
    for (n, input) in inputs.enumerated() where flags[n] {
        let analytic = tensors[n].grad ?? Matrix(rows: input.rows, columns: input.columns)
        for index in input.storage.indices {
            var plus = inputs, minus = inputs
            plus[n].storage[index] += h
            minus[n].storage[index] -= h
            let fPlus = try withNoGrad { try f(plus.map { Tensor($0) }).scalar }
            let fMinus = try withNoGrad { try f(minus.map { Tensor($0) }).scalar }
            let numeric = (fPlus - fMinus) / (2 * h)
            let exact = analytic.storage[index]
            worst = max(worst, abs(exact - numeric) / max(abs(exact), abs(numeric), floor))
        }
    }
    return worst
}

/// A scalar that depends on every element of `y` with a different weight: `Σ y ⊙ R`, R fixed
/// and random (a plain `sum` would seed every element with the same 1 and hide transposed or
/// swapped gradients).
func weightedSum(_ y: Tensor<Double>, seed: UInt64 = 77) -> Tensor<Double> {
    (y * Tensor(randomMatrix(y.value.rows, y.value.columns, seed: seed, as: Double.self))).sum()
}

