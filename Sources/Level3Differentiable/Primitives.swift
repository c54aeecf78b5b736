// Primitives.swift — the building blocks of the network as differentiable functions, and the
// derivative registered for each.
//
// Teaches: the compiler can differentiate a function made of differentiable pieces, but someone
// must tell it the derivative of each piece that is not plain Swift arithmetic. Here every
// piece calls Shared kernels, which are not differentiable functions: they write their results
// into `inout` buffers, hand their work to fast forms (BLAS, vectorised approximations, a helper
// thread) where they can, and none is marked `@differentiable`. So each piece gets a registered
// derivative: `@derivative(of: f)` marks a function that returns f's value and its *pullback*,
// the closure that maps ∂ℓ/∂output to ∂ℓ/∂inputs (JAX calls the pair a VJP, vector-Jacobian
// product, hence the names). A pullback is Level 4's `xxxBackward`, and the value it closes
// over is what Level 4's forward pass keeps in its buffers and Level 3's tape keeps in its
// closures. Every pullback below calls the same kernels as Level 4's backward pass, in the
// same order, which is why this level agrees with Level 4 bit for bit.
// Each derivative also names its primitive for `compare-levels --trace` (`KernelTrace.enter`):
// the kernel calls of a forward pass read `valueWithGradient → dense`, those of a pullback
// `valueWithGradient → dense's pullback`.
// Leaves out: primitives this network does not need, and differentiating the kernels' loops
// themselves (the compiler could, for plain Swift loops, but the gradients would then be
// computed by other arithmetic than Level 4's, and slower).
//
// Shape legend: B batch · I inputs of a layer · O outputs of a layer · C classes.
// `g` is ∂ℓ/∂(this function's output), as in Level 3.

import _Differentiation
import Shared

// MARK: - Dense layer

/// `y = x·Wᵀ + b`: Level 4's `linearForward` as a function.
/// Shapes: `x: [B, I]`, `weight: [O, I]`, `bias: [1, O]`, `y: [B, O]`.
@differentiable(reverse)
public func dense<T: DifferentiableScalar>(_ x: Matrix<T>, _ weight: Matrix<T>, _ bias: Matrix<T>) -> Matrix<T> {
    var y = Matrix<T>.uninitialized(rows: x.rows, columns: weight.rows)   // gemm (β = 0) writes all of it
    gemm(x, weight, transposeB: true, into: &y)            // y = x·Wᵀ     [B,I]·[I,O]
    addBias(bias, to: &y)                                  // y += b       broadcast over rows
    return y
}

/// The derivative of ``dense(_:_:_:)`` with respect to all three inputs (a hidden layer, whose
/// input `x` depends on the parameters below it). With `g = ∂ℓ/∂y: [B, O]`:
///
///     db = Σ_rows g      [1, O]       (columnSums)
///     dx = g·W           [B, I]       (gemm)
///     dW = gᵀ·x          [O, I]       (gemm)
///
/// in Level 4's order (`linearBackward` with `inputGradient:`). The pullback closes over `x`
/// and `W`: the values the backward pass needs, kept alive by the closure.
@derivative(of: dense)
public func vjpDense<T: DifferentiableScalar>(
    _ x: Matrix<T>, _ weight: Matrix<T>, _ bias: Matrix<T>
) -> (value: Matrix<T>, pullback: (Matrix<T>) -> (Matrix<T>, Matrix<T>, Matrix<T>)) {
    (KernelTrace.within("dense") { dense(x, weight, bias) }, { g in
        let origin = KernelTrace.enter("dense's pullback"); defer { origin.leave() }   // for compare-levels --trace
        var dBias = Matrix<T>.uninitialized(rows: 1, columns: g.columns)
        var dx = Matrix<T>.uninitialized(rows: x.rows, columns: x.columns)
        var dWeight = Matrix<T>.uninitialized(rows: weight.rows, columns: weight.columns)
        columnSums(of: g, into: &dBias)                    // db = Σ_rows g
        gemm(g, weight, into: &dx)                         // dx = g·W     [B,O]·[O,I]
        gemm(g, transposeA: true, x, into: &dWeight)       // dW = gᵀ·x    [O,B]·[B,I]
        return (dx, dWeight, dBias)
    })
}

/// The derivative of ``dense(_:_:_:)`` with respect to the weight and bias only, for the first
/// layer, whose input is data. The compiler's activity analysis sees that `x` does not depend
/// on the parameters and picks this registration, so `dx = g·W` (one gemm, as large as the
/// forward product) is never computed, as Level 4 skips it by hand:
///
///     db = Σ_rows g      dW = gᵀ·x
@derivative(of: dense, wrt: (weight, bias))
public func vjpDenseWeightAndBias<T: DifferentiableScalar>(
    _ x: Matrix<T>, _ weight: Matrix<T>, _ bias: Matrix<T>
) -> (value: Matrix<T>, pullback: (Matrix<T>) -> (Matrix<T>, Matrix<T>)) {
    (KernelTrace.within("dense") { dense(x, weight, bias) }, { g in
        let origin = KernelTrace.enter("dense's pullback"); defer { origin.leave() }   // for compare-levels --trace
        var dBias = Matrix<T>.uninitialized(rows: 1, columns: g.columns)
        var dWeight = Matrix<T>.uninitialized(rows: weight.rows, columns: weight.columns)
        columnSums(of: g, into: &dBias)                    // db = Σ_rows g
        gemm(g, transposeA: true, x, into: &dWeight)       // dW = gᵀ·x    [O,B]·[B,I]
        return (dWeight, dBias)
    })
}

// MARK: - Activations

/// `a = tanh(z)`, elementwise (Shared's `tanhForward`). Shapes: `z, a: [B, O]`.
@differentiable(reverse)
public func tanh<T: DifferentiableScalar>(_ z: Matrix<T>) -> Matrix<T> {
    var a = Matrix<T>.uninitialized(rows: z.rows, columns: z.columns)
    tanhForward(z, into: &a)
    return a
}

/// The derivative of ``tanh(_:)``, from its output: `∂ℓ/∂z = g ⊙ (1 − a²)` (`tanhBackward`).
/// The pullback keeps `a`, not `z`.
@derivative(of: tanh)
public func vjpTanh<T: DifferentiableScalar>(_ z: Matrix<T>) -> (value: Matrix<T>, pullback: (Matrix<T>) -> Matrix<T>) {
    let origin = KernelTrace.enter("tanh")                                  // for compare-levels --trace
    let a = tanh(z)
    origin.leave()
    return (a, { g in
        let origin = KernelTrace.enter("tanh's pullback"); defer { origin.leave() }   // for compare-levels --trace
        var dz = Matrix<T>.uninitialized(rows: a.rows, columns: a.columns)
        tanhBackward(output: a, outputGradient: g, into: &dz)   // dz = g ⊙ (1 − a²)
        return dz
    })
}

/// `a = σ(z) = 1 / (1 + e^(−z))`, elementwise (Shared's `sigmoidForward`). Shapes: `z, a: [B, O]`.
@differentiable(reverse)
public func sigmoid<T: DifferentiableScalar>(_ z: Matrix<T>) -> Matrix<T> {
    var a = Matrix<T>.uninitialized(rows: z.rows, columns: z.columns)
    sigmoidForward(z, into: &a)
    return a
}

/// The derivative of ``sigmoid(_:)``, from its output: `∂ℓ/∂z = g ⊙ a ⊙ (1 − a)` (`sigmoidBackward`).
@derivative(of: sigmoid)
public func vjpSigmoid<T: DifferentiableScalar>(_ z: Matrix<T>) -> (value: Matrix<T>, pullback: (Matrix<T>) -> Matrix<T>) {
    let origin = KernelTrace.enter("sigmoid")                               // for compare-levels --trace
    let a = sigmoid(z)
    origin.leave()
    return (a, { g in
        let origin = KernelTrace.enter("sigmoid's pullback"); defer { origin.leave() }   // for compare-levels --trace
        var dz = Matrix<T>.uninitialized(rows: a.rows, columns: a.columns)
        sigmoidBackward(output: a, outputGradient: g, into: &dz)   // dz = g ⊙ a ⊙ (1 − a)
        return dz
    })
}

// MARK: - Losses

/// Softmax and mean categorical cross-entropy, fused (Shared's kernel):
///
///     pᵢⱼ = e^(zᵢⱼ − mᵢ) / Σₖ e^(zᵢₖ − mᵢ),  mᵢ = maxⱼ zᵢⱼ
///     ℓ   = (1/B) Σᵢ [ log Σₖ e^(zᵢₖ − mᵢ) − (zᵢ,yᵢ − mᵢ) ]
///
/// Differentiable with respect to the logits only: labels are class indices, not numbers to
/// nudge. Shapes: `logits: [B, C]`, `labels`: `B` indices in `0..<C`.
@differentiable(reverse, wrt: logits)
public func softmaxCrossEntropy<T: DifferentiableScalar>(logits: Matrix<T>, labels: [Int32]) -> T {
    var probabilities = Matrix<T>.uninitialized(rows: logits.rows, columns: logits.columns)
    return softmaxCrossEntropyForward(logits: logits, labels: labels, probabilities: &probabilities)
}

/// The derivative of ``softmaxCrossEntropy(logits:labels:)``: the famous
/// `∂ℓ/∂zᵢⱼ = g · (pᵢⱼ − [j = yᵢ]) / B`, from the probabilities the forward pass computed on
/// the way (`softmaxCrossEntropyBackward`). `g` is 1 when the loss is the function's result,
/// as in Level 4, where the kernel's `outputGradient` keeps its default of 1.
@derivative(of: softmaxCrossEntropy, wrt: logits)
public func vjpSoftmaxCrossEntropy<T: DifferentiableScalar>(
    logits: Matrix<T>, labels: [Int32]
) -> (value: T, pullback: (T) -> Matrix<T>) {
    var p = Matrix<T>.uninitialized(rows: logits.rows, columns: logits.columns)
    let loss = KernelTrace.within("softmaxCrossEntropy") {
        softmaxCrossEntropyForward(logits: logits, labels: labels, probabilities: &p)
    }
    return (loss, { g in
        let origin = KernelTrace.enter("softmaxCrossEntropy's pullback"); defer { origin.leave() }   // for compare-levels --trace
        var dz = Matrix<T>.uninitialized(rows: p.rows, columns: p.columns)
        softmaxCrossEntropyBackward(probabilities: p, labels: labels, outputGradient: g, into: &dz)
        return dz                                          // dz = g·(p − y)/B     [B, C]
    })
}

/// Mean squared error over every element, `ℓ = (1/n) Σᵢⱼ (ŷᵢⱼ − yᵢⱼ)²`, `n = B·O` (Shared's
/// kernel). Differentiable with respect to the predictions. Shapes: `predictions, targets: [B, O]`.
@differentiable(reverse, wrt: predictions)
public func meanSquaredError<T: DifferentiableScalar>(predictions: Matrix<T>, targets: Matrix<T>) -> T {
    meanSquaredErrorForward(predictions: predictions, targets: targets)
}

/// The derivative of ``meanSquaredError(predictions:targets:)``: `∂ℓ/∂ŷ = g · 2(ŷ − y)/n`
/// (`meanSquaredErrorBackward`).
@derivative(of: meanSquaredError, wrt: predictions)
public func vjpMeanSquaredError<T: DifferentiableScalar>(
    predictions: Matrix<T>, targets: Matrix<T>
) -> (value: T, pullback: (T) -> Matrix<T>) {
    (KernelTrace.within("meanSquaredError") { meanSquaredError(predictions: predictions, targets: targets) }, { g in
        let origin = KernelTrace.enter("meanSquaredError's pullback"); defer { origin.leave() }   // for compare-levels --trace
        var dPredictions = Matrix<T>.uninitialized(rows: predictions.rows, columns: predictions.columns)
        meanSquaredErrorBackward(predictions: predictions, targets: targets, outputGradient: g, into: &dPredictions)
        return dPredictions                                // dŷ = g·2(ŷ − y)/n    [B, O]
    })
}
