// Losses.swift — the two losses of the contract, each fused with what makes it stable.
//
// Teaches: softmax followed by cross-entropy has a famously simple gradient, p − y, and computing
// the two together is both faster and numerically safer (log-sum-exp) than composing them.
// Both losses are *means* over the batch (docs/design.md), which is where the 1/B in every
// gradient comes from. The softmax's fast form (Fast/FastLosses.swift) exponentiates with a
// vectorised approximation, within 1 ulp; `NEURAL_LEVELS_READABLE_KERNELS=1` switches it off.
// Every kernel takes `file`, `line`, `function` defaulted to its caller, for `--trace` (LinearAlgebra.swift).
// Leaves out: label smoothing, class weights, reductions other than the mean.

import RealModule

// MARK: - Softmax + cross-entropy

/// Fused softmax and mean categorical cross-entropy.
///
/// For each row `i` with label `yᵢ`: `m = maxⱼ zᵢⱼ`, `pᵢⱼ = e^(zᵢⱼ − m) / Σₖ e^(zᵢₖ − m)`,
/// `ℓᵢ = log Σₖ e^(zᵢₖ − m) − (zᵢ,yᵢ − m)`. Returns `L = (1/B) Σᵢ ℓᵢ` and writes `p`.
/// Subtracting the row maximum keeps every `exp` ≤ 1, so large logits never overflow.
///
/// Shapes: `logits, probabilities: [B, C]`, `labels: B` class indices in `0..<C`.
@inlinable
@_specialize(where T == Float)
public func softmaxCrossEntropyForward<T: NeuralScalar>(
    logits z: Matrix<T>, labels: [Int32], probabilities p: inout Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) -> T {
    precondition(z.shape == p.shape && labels.count == z.rows, "softmaxCrossEntropyForward: shapes differ")
    precondition(labels.allSatisfy { $0 >= 0 && Int($0) < z.columns }, "softmaxCrossEntropyForward: a label is not in 0..<\(z.columns)")
    KernelTrace.record("softmaxCrossEntropyForward", "[\(z.rows),\(z.columns)]",
                       file: file, line: line, function: function)
    if let loss = FastKernels.softmaxCrossEntropyForward(logits: z, labels: labels, probabilities: &p) {
        return loss                                              // Fast/FastLosses.swift
    }
    var total: T = 0
    for i in 0..<z.rows where z.columns > 0 {
        var maximum = z[i, 0]
        for j in 1..<z.columns where z[i, j] > maximum { maximum = z[i, j] }
        var sum: T = 0
        for j in 0..<z.columns {
            p[i, j] = T.exp(z[i, j] - maximum)
            sum += p[i, j]
        }
        for j in 0..<z.columns { p[i, j] /= sum }
        total += T.log(sum) - (z[i, Int(labels[i])] - maximum)
    }
    return total / T(z.rows)
}

/// Backward of ``softmaxCrossEntropyForward(logits:labels:probabilities:file:line:function:)``:
/// `∂L/∂zᵢⱼ = g · (pᵢⱼ − [j = yᵢ]) / B`, where `g` is the gradient arriving at the loss
/// (1 when the loss is the final output).
///
/// Shapes: `probabilities, dLogits: [B, C]`.
@inlinable
@_specialize(where T == Float)
public func softmaxCrossEntropyBackward<T: NeuralScalar>(
    probabilities p: Matrix<T>, labels: [Int32], outputGradient g: T = 1,
    into dz: inout Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(p.shape == dz.shape && labels.count == p.rows, "softmaxCrossEntropyBackward: shapes differ")
    precondition(labels.allSatisfy { $0 >= 0 && Int($0) < p.columns }, "softmaxCrossEntropyBackward: a label is not in 0..<\(p.columns)")
    KernelTrace.record("softmaxCrossEntropyBackward", "[\(p.rows),\(p.columns)]",
                       file: file, line: line, function: function)
    let batch = T(p.rows)
    for i in 0..<p.rows {
        for j in 0..<p.columns {
            let target: T = j == Int(labels[i]) ? 1 : 0              // yᵢ one-hot
            dz[i, j] = (p[i, j] - target) / batch * g
        }
    }
}

// MARK: - Mean squared error

/// Mean squared error over every element: `L = (1/(B·n)) Σᵢⱼ (ŷᵢⱼ − yᵢⱼ)²` (PyTorch's
/// `MSELoss()`, Keras's `"mse"` for one output).
///
/// Shapes: `predictions, targets: [B, n]`.
@inlinable
@_specialize(where T == Float)
public func meanSquaredErrorForward<T: NeuralScalar>(
    predictions: Matrix<T>, targets: Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) -> T {
    precondition(predictions.shape == targets.shape, "meanSquaredErrorForward: shapes differ")
    KernelTrace.record("meanSquaredErrorForward", "[\(predictions.rows),\(predictions.columns)]",
                       file: file, line: line, function: function)
    var total: T = 0
    for i in 0..<predictions.count {
        let d = predictions.storage[i] - targets.storage[i]
        total += d * d
    }
    return total / T(predictions.count)
}

/// Backward of ``meanSquaredErrorForward(predictions:targets:file:line:function:)``:
/// `∂L/∂ŷᵢⱼ = g · 2(ŷᵢⱼ − yᵢⱼ) / (B·n)`.
@inlinable
@_specialize(where T == Float)
public func meanSquaredErrorBackward<T: NeuralScalar>(
    predictions: Matrix<T>, targets: Matrix<T>, outputGradient g: T = 1,
    into dPredictions: inout Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(predictions.shape == targets.shape && predictions.shape == dPredictions.shape,
                 "meanSquaredErrorBackward: shapes differ")
    KernelTrace.record("meanSquaredErrorBackward", "[\(predictions.rows),\(predictions.columns)]",
                       file: file, line: line, function: function)
    let count = T(predictions.count)
    for i in 0..<predictions.count {
        dPredictions.storage[i] = 2 * (predictions.storage[i] - targets.storage[i]) / count * g
    }
}
