// Operations.swift — Level 3's ops: each forward pass, and right beside it, its backward closure.
//
// Teaches: an autograd library is a list of small units, one per op, each knowing two things:
// how to compute its output, and, given ∂ℓ/∂output (called `g` below), how to compute ∂ℓ/∂input
// for each input. The chain rule is nothing more than `backward()` calling these closures in the
// right order. Every op that Level 4 also performs goes through the same Shared kernel (gemm,
// addBias, columnSums, tanh/sigmoid forward and backward, the fused losses, accumulate), which
// is why Level 3 and Level 4 agree bit for bit.
//
// Broadcasting (NumPy's rule, two dimensions): in `+ − * /`, an operand whose size along an axis
// is 1 is repeated along that axis, so a bias `[1, O]` adds to every row of `[B, O]`, and a
// scalar `[1, 1]` to every element. Its gradient is the sum over the repeated axis: that is
// what ``unbroadcast(_:toRows:columns:)`` does, and why a bias gradient is a column sum.
//
// Each op that calls a Shared kernel also enters its name (`KernelTrace.enter`, one line), so
// that `compare-levels --trace` can say which op made each kernel call; `backward()` names the op
// whose backward closure is running.
//
// Leaves out: in-place ops, views, integer tensors, and every op this network and its lessons
// do not need (convolutions, indexing, concatenation, …).
//
// Shape legend: B batch, I inputs, O outputs, C classes; `g` is ∂ℓ/∂(this op's output).

import RealModule
import Shared

// MARK: - matmul

extension Tensor {
    /// Matrix product `C = op(A)·op(B)`, where `A` is this tensor, `B` is `other`, and `op(X)`
    /// is `X`, or `Xᵀ` when its flag is set (the transpose costs nothing: it is a flag to gemm).
    ///
    /// Shapes: `op(A): [m, k]`, `op(B): [k, n]`, `C: [m, n]`.
    ///
    /// Backward, with `G = ∂ℓ/∂C`:  `∂ℓ/∂op(A) = G·op(B)ᵀ`,  `∂ℓ/∂op(B) = op(A)ᵀ·G`, each one
    /// gemm call. For a dense layer, `x.matmul(W, transposeB: true)` with `x: [B, I]`, `W: [O, I]`
    /// (the same as `try einsum("bi,oi->bo", x, W)`), these are exactly Level 4's three products:
    ///
    ///     forward  y  = x·Wᵀ    gemm(x, W, transposeB: true)      [B,I]·[I,O]
    ///     weights  dW = Gᵀ·x    gemm(G, transposeA: true, x)      [O,B]·[B,I]
    ///     input    dx = G·W     gemm(G, W)                        [B,O]·[O,I]   (skipped: x needs no grad)
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        let origin = KernelTrace.enter("matmul"); defer { origin.leave() }   // for compare-levels --trace
        let a = self, b = other
        let (m, k) = transposeA ? (a.value.columns, a.value.rows) : (a.value.rows, a.value.columns)
        let (kB, n) = transposeB ? (b.value.columns, b.value.rows) : (b.value.rows, b.value.columns)
        precondition(k == kB, "matmul: op(A) is [\(m), \(k)] but op(B) is [\(kB), \(n)]")
        var c = Matrix<T>.uninitialized(rows: m, columns: n)          // gemm (β = 0) writes all of it
        gemm(a.value, transposeA: transposeA, b.value, transposeB: transposeB, into: &c)

        return Tensor(c, operation: "matmul", parents: [a, b]) { g in      // g: [m, n]
            if a.requiresGrad {
                var dA = a.gradientBuffer()                     // [rows, columns] of A, every element written
                if transposeA {                                  // ∂ℓ/∂A = (G·op(B)ᵀ)ᵀ = op(B)·Gᵀ
                    gemm(b.value, transposeA: transposeB, g, transposeB: true, into: &dA)
                } else {                                         // ∂ℓ/∂A = G·op(B)ᵀ
                    gemm(g, b.value, transposeB: !transposeB, into: &dA)
                }
                a.accumulateGradient(dA)
            }
            if b.requiresGrad {
                var dB = b.gradientBuffer()
                if transposeB {                                  // ∂ℓ/∂B = (op(A)ᵀ·G)ᵀ = Gᵀ·op(A)
                    gemm(g, transposeA: true, a.value, transposeB: transposeA, into: &dB)
                } else {                                         // ∂ℓ/∂B = op(A)ᵀ·G
                    gemm(a.value, transposeA: !transposeA, g, into: &dB)
                }
                b.accumulateGradient(dB)
            }
        }
    }
}

// MARK: - + (with broadcasting: the bias add)

extension Tensor {
    /// Elementwise sum with broadcasting, `out = a + b`.
    ///
    /// Shapes: equal (`accumulate`), or `a: [B, O]` plus a bias `b: [1, O]` added to every row
    /// (`addBias`, as in Level 4), or any pair that broadcasts (a plain loop).
    ///
    /// Backward: `∂ℓ/∂a = g`, `∂ℓ/∂b = g`, each summed over the axes it was repeated along, so
    /// for the bias, `∂ℓ/∂b = Σ_rows g` (`columnSums`, `[1, O]`).
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let origin = KernelTrace.enter("+"); defer { origin.leave() }   // for compare-levels --trace
        let a = lhs, b = rhs
        var out: Matrix<T>
        if a.value.shape == b.value.shape {
            out = a.value
            accumulate(b.value, into: &out)                  // out = a + b
        } else if b.value.rows == 1 && b.value.columns == a.value.columns {
            out = .uninitialized(rows: a.value.rows, columns: a.value.columns)
            addBias(b.value, to: a.value, into: &out)        // out[i, j] = a[i, j] + b[0, j]
        } else {
            out = broadcastElementwise(a.value, b.value, operation: "+") { $0 + $1 }
        }

        return Tensor(out, operation: "+", parents: [a, b]) { g in
            if a.requiresGrad {
                a.accumulateGradient(unbroadcast(g, toRows: a.value.rows, columns: a.value.columns))
            }
            if b.requiresGrad {
                b.accumulateGradient(unbroadcast(g, toRows: b.value.rows, columns: b.value.columns))
            }
        }
    }
}

// MARK: - − (elementwise, with broadcasting)

extension Tensor {
    /// Elementwise difference with broadcasting, `out = a − b`.
    ///
    /// Backward: `∂ℓ/∂a = g`, `∂ℓ/∂b = −g` (each summed over its repeated axes).
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let a = lhs, b = rhs
        let out = broadcastElementwise(a.value, b.value, operation: "−") { $0 - $1 }

        return Tensor(out, operation: "−", parents: [a, b]) { g in
            if a.requiresGrad {
                a.accumulateGradient(unbroadcast(g, toRows: a.value.rows, columns: a.value.columns))
            }
            if b.requiresGrad {
                let negated = elementwise(g) { -$0 }
                b.accumulateGradient(unbroadcast(negated, toRows: b.value.rows, columns: b.value.columns))
            }
        }
    }
}

// MARK: - * (elementwise product, with broadcasting)

extension Tensor {
    /// Elementwise (Hadamard) product with broadcasting, `out = a ⊙ b`.
    ///
    /// Backward: `∂ℓ/∂a = g ⊙ b`, `∂ℓ/∂b = g ⊙ a` (each summed over its repeated axes). For
    /// `x * x` both contributions arrive at `x` and accumulate: `2·g ⊙ x`.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let a = lhs, b = rhs
        let out = broadcastElementwise(a.value, b.value, operation: "*") { $0 * $1 }

        return Tensor(out, operation: "*", parents: [a, b]) { g in
            if a.requiresGrad {
                let dA = broadcastElementwise(g, b.value, operation: "*") { $0 * $1 }
                a.accumulateGradient(unbroadcast(dA, toRows: a.value.rows, columns: a.value.columns))
            }
            if b.requiresGrad {
                let dB = broadcastElementwise(g, a.value, operation: "*") { $0 * $1 }
                b.accumulateGradient(unbroadcast(dB, toRows: b.value.rows, columns: b.value.columns))
            }
        }
    }
}

// MARK: - / (elementwise quotient, with broadcasting)

extension Tensor {
    /// Elementwise quotient with broadcasting, `out = a / b`.
    ///
    /// Backward: `∂ℓ/∂a = g / b`, `∂ℓ/∂b = −g ⊙ a / b²` (each summed over its repeated axes).
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let a = lhs, b = rhs
        let out = broadcastElementwise(a.value, b.value, operation: "/") { $0 / $1 }

        return Tensor(out, operation: "/", parents: [a, b]) { g in
            if a.requiresGrad {
                let dA = broadcastElementwise(g, b.value, operation: "/") { $0 / $1 }
                a.accumulateGradient(unbroadcast(dA, toRows: a.value.rows, columns: a.value.columns))
            }
            if b.requiresGrad {
                let gTimesA = broadcastElementwise(g, a.value, operation: "*") { $0 * $1 }
                let dB = broadcastElementwise(gTimesA, b.value, operation: "/") { -$0 / ($1 * $1) }
                b.accumulateGradient(unbroadcast(dB, toRows: b.value.rows, columns: b.value.columns))
            }
        }
    }
}

// MARK: - Scalar operands and negation

extension Tensor {
    // A scalar is a `[1, 1]` constant that broadcasts: `x * 2` is `x * Tensor(scalar: 2)`, so
    // the ops above (and their gradients) serve scalars too.

    public static func + (lhs: Tensor, rhs: T) -> Tensor { lhs + Tensor(scalar: rhs) }
    public static func + (lhs: T, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) + rhs }
    public static func - (lhs: Tensor, rhs: T) -> Tensor { lhs - Tensor(scalar: rhs) }
    public static func - (lhs: T, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) - rhs }
    public static func * (lhs: Tensor, rhs: T) -> Tensor { lhs * Tensor(scalar: rhs) }
    public static func * (lhs: T, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) * rhs }
    public static func / (lhs: Tensor, rhs: T) -> Tensor { lhs / Tensor(scalar: rhs) }
    public static func / (lhs: T, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) / rhs }

    /// `−x`, computed as `x · (−1)` (exact, and −0.0 for +0.0 as negation should be).
    public static prefix func - (operand: Tensor) -> Tensor { operand * -1 }
}

// MARK: - tanh

extension Tensor {
    /// `a = tanh(z)`, elementwise (Shared's `tanhForward`). Shapes: `z, a: [B, O]`.
    ///
    /// Backward: `∂ℓ/∂z = g ⊙ (1 − a²)`, from the output `a` (Shared's `tanhBackward`).
    public func tanh() -> Tensor {
        let origin = KernelTrace.enter("tanh"); defer { origin.leave() }   // for compare-levels --trace
        let z = self
        var a = Matrix<T>.uninitialized(rows: z.value.rows, columns: z.value.columns)
        tanhForward(z.value, into: &a)

        return Tensor(a, operation: "tanh", parents: [z]) { [a] g in
            var dz = Matrix<T>.uninitialized(rows: a.rows, columns: a.columns)
            tanhBackward(output: a, outputGradient: g, into: &dz)
            z.accumulateGradient(dz)
        }
    }
}

// MARK: - sigmoid

extension Tensor {
    /// `a = σ(z) = 1 / (1 + e^(−z))`, elementwise (Shared's `sigmoidForward`).
    /// Shapes: `z, a: [B, O]`.
    ///
    /// Backward: `∂ℓ/∂z = g ⊙ a ⊙ (1 − a)`, from the output `a` (Shared's `sigmoidBackward`).
    public func sigmoid() -> Tensor {
        let origin = KernelTrace.enter("sigmoid"); defer { origin.leave() }   // for compare-levels --trace
        let z = self
        var a = Matrix<T>.uninitialized(rows: z.value.rows, columns: z.value.columns)
        sigmoidForward(z.value, into: &a)

        return Tensor(a, operation: "sigmoid", parents: [z]) { [a] g in
            var dz = Matrix<T>.uninitialized(rows: a.rows, columns: a.columns)
            sigmoidBackward(output: a, outputGradient: g, into: &dz)
            z.accumulateGradient(dz)
        }
    }
}

// MARK: - exp

extension Tensor {
    /// `y = eˣ`, elementwise. Backward: `∂ℓ/∂x = g ⊙ eˣ = g ⊙ y`.
    public func exp() -> Tensor {
        let x = self
        let y = elementwise(x.value) { T.exp($0) }

        return Tensor(y, operation: "exp", parents: [x]) { g in
            x.accumulateGradient(broadcastElementwise(g, y, operation: "*") { $0 * $1 })
        }
    }
}

// MARK: - log

extension Tensor {
    /// `y = ln x`, elementwise (−∞ at 0, NaN below). Backward: `∂ℓ/∂x = g / x`.
    public func log() -> Tensor {
        let x = self
        let y = elementwise(x.value) { T.log($0) }

        return Tensor(y, operation: "log", parents: [x]) { g in
            x.accumulateGradient(broadcastElementwise(g, x.value, operation: "/") { $0 / $1 })
        }
    }
}

// MARK: - sum

extension Tensor {
    /// `s = Σᵢⱼ xᵢⱼ` (in storage order). Shapes: `x: [R, C]`, `s: [1, 1]`.
    ///
    /// Backward: every element contributed once, so `∂ℓ/∂xᵢⱼ = g` (g broadcast to `[R, C]`).
    public func sum() -> Tensor {
        let x = self
        var total: T = 0
        for element in x.value.storage { total += element }

        return Tensor(Matrix(rows: 1, columns: 1, repeating: total), operation: "sum", parents: [x]) { g in
            x.accumulateGradient(Matrix(rows: x.value.rows, columns: x.value.columns, repeating: g.storage[0]))
        }
    }

    /// Sums along one axis, keeping two dimensions (NumPy's `sum(axis:, keepdims=True)`):
    /// axis 0 sums down each column, `[R, C] → [1, C]` (Shared's `columnSums`); axis 1 sums
    /// along each row, `[R, C] → [R, 1]`.
    ///
    /// Backward: the gradient is repeated along the summed axis, `∂ℓ/∂xᵢⱼ = g₀ⱼ` or `gᵢ₀`.
    public func sum(axis: Int) -> Tensor {
        precondition(axis == 0 || axis == 1, "sum(axis:): axis must be 0 (down columns) or 1 (along rows), got \(axis)")
        let x = self
        let out = unbroadcast(x.value, toRows: axis == 0 ? 1 : x.value.rows,
                              columns: axis == 1 ? 1 : x.value.columns)

        return Tensor(out, operation: "sum(axis: \(axis))", parents: [x]) { g in
            let shapeOfX = Matrix<T>(rows: x.value.rows, columns: x.value.columns)
            x.accumulateGradient(broadcastElementwise(shapeOfX, g, operation: "sum") { _, gradient in gradient })
        }
    }
}

// MARK: - mean

extension Tensor {
    /// `m = (1/n) Σᵢⱼ xᵢⱼ` over all `n = R·C` elements. Shapes: `x: [R, C]`, `m: [1, 1]`.
    ///
    /// Backward: `∂ℓ/∂xᵢⱼ = g / n`.
    public func mean() -> Tensor {
        let x = self
        let n = T(x.value.count)
        var total: T = 0
        for element in x.value.storage { total += element }

        return Tensor(Matrix(rows: 1, columns: 1, repeating: total / n), operation: "mean", parents: [x]) { g in
            x.accumulateGradient(Matrix(rows: x.value.rows, columns: x.value.columns, repeating: g.storage[0] / n))
        }
    }
}

// MARK: - max along an axis

extension Tensor {
    /// The largest element along one axis, keeping two dimensions: axis 0, `[R, C] → [1, C]`;
    /// axis 1, `[R, C] → [R, 1]` (the row maximum a stable softmax subtracts).
    ///
    /// Backward: the gradient goes to the element that was the maximum (the first, on a tie);
    /// the others did not affect the output, so they get 0.
    public func max(axis: Int) -> Tensor {
        precondition(axis == 0 || axis == 1, "max(axis:): axis must be 0 (down columns) or 1 (along rows), got \(axis)")
        let x = self
        let (rows, columns) = (x.value.rows, x.value.columns)
        let outer = axis == 0 ? columns : rows                // one output per column, or per row
        let inner = axis == 0 ? rows : columns                // compared along the other axis
        func index(_ o: Int, _ i: Int) -> Int { axis == 0 ? i * columns + o : o * columns + i }
        var winners = [Int](repeating: 0, count: outer)       // storage index of each maximum
        var out = Matrix<T>(rows: axis == 0 ? 1 : rows, columns: axis == 0 ? columns : 1)
        for o in 0..<outer where inner > 0 {
            var best = index(o, 0)
            for i in 1..<inner where x.value.storage[index(o, i)] > x.value.storage[best] {
                best = index(o, i)
            }
            winners[o] = best
            out.storage[o] = x.value.storage[best]
        }

        return Tensor(out, operation: "max(axis: \(axis))", parents: [x]) { g in
            var dx = Matrix<T>(rows: rows, columns: columns)
            for o in 0..<outer where inner > 0 { dx.storage[winners[o]] = g.storage[o] }
            x.accumulateGradient(dx)
        }
    }
}

// MARK: - Fused softmax + cross-entropy

extension Tensor {
    /// Softmax and mean categorical cross-entropy in one op (Shared's fused kernels), for
    /// `logits z: [B, C]` and one class index per row.
    ///
    ///     pᵢⱼ = e^(zᵢⱼ − mᵢ) / Σₖ e^(zᵢₖ − mᵢ),  mᵢ = maxⱼ zᵢⱼ
    ///     ℓ   = (1/B) Σᵢ [ log Σₖ e^(zᵢₖ − mᵢ) − (zᵢ,yᵢ − mᵢ) ]
    ///
    /// Backward: the famous `∂ℓ/∂zᵢⱼ = g · (pᵢⱼ − [j = yᵢ]) / B`.
    ///
    /// Returns the loss, `[1, 1]`, and the probabilities `p: [B, C]` the op computed on the way
    /// (the network's outputs when it classifies). The same loss built from `exp`, `log`, `sum`
    /// and `−` is in the tests: equal in value, but slower and rounded differently.
    ///
    /// - Precondition: `labels.count == B`, and every label is in `0..<C`.
    public func softmaxCrossEntropy(labels: [Int32]) -> (loss: Tensor, probabilities: Matrix<T>) {
        let origin = KernelTrace.enter("softmaxCrossEntropy"); defer { origin.leave() }   // for compare-levels --trace
        let z = self
        let classes = z.value.columns
        precondition(labels.count == z.value.rows,
                     "softmaxCrossEntropy: \(labels.count) labels for \(z.value.rows) rows of logits")
        precondition(labels.allSatisfy { $0 >= 0 && Int($0) < classes },
                     "softmaxCrossEntropy: a label is outside 0..<\(classes)")
        var p = Matrix<T>.uninitialized(rows: z.value.rows, columns: classes)
        let loss = softmaxCrossEntropyForward(logits: z.value, labels: labels, probabilities: &p)

        let result = Tensor(Matrix(rows: 1, columns: 1, repeating: loss), operation: "softmaxCrossEntropy",
                            parents: [z]) { [p] g in
            var dz = Matrix<T>.uninitialized(rows: p.rows, columns: p.columns)
            softmaxCrossEntropyBackward(probabilities: p, labels: labels, outputGradient: g.storage[0], into: &dz)
            z.accumulateGradient(dz)
        }
        return (result, p)
    }
}

// MARK: - Mean squared error

extension Tensor {
    /// Mean squared error over every element, `ℓ = (1/n) Σᵢⱼ (ŷᵢⱼ − yᵢⱼ)²`, `n = B·O` (Shared's
    /// kernels). This tensor is `ŷ`; shapes: `ŷ, y: [B, O]`, `ℓ: [1, 1]`.
    ///
    /// Backward: `∂ℓ/∂ŷ = g · 2(ŷ − y)/n`, and, if the target requires grad, `∂ℓ/∂y = g · 2(y − ŷ)/n`
    /// (the same kernel with the roles swapped: exactly the negation).
    public func meanSquaredError(target: Tensor) -> Tensor {
        let origin = KernelTrace.enter("meanSquaredError"); defer { origin.leave() }   // for compare-levels --trace
        let prediction = self
        precondition(prediction.value.shape == target.value.shape,
                     "meanSquaredError: prediction is \(prediction.value.shape), target is \(target.value.shape)")
        let loss = meanSquaredErrorForward(predictions: prediction.value, targets: target.value)

        return Tensor(Matrix(rows: 1, columns: 1, repeating: loss), operation: "meanSquaredError",
                      parents: [prediction, target]) { g in
            if prediction.requiresGrad {
                var dPrediction = Matrix<T>.uninitialized(rows: prediction.value.rows, columns: prediction.value.columns)
                meanSquaredErrorBackward(predictions: prediction.value, targets: target.value,
                                         outputGradient: g.storage[0], into: &dPrediction)
                prediction.accumulateGradient(dPrediction)
            }
            if target.requiresGrad {
                var dTarget = Matrix<T>(rows: target.value.rows, columns: target.value.columns)
                meanSquaredErrorBackward(predictions: target.value, targets: prediction.value,
                                         outputGradient: g.storage[0], into: &dTarget)
                target.accumulateGradient(dTarget)
            }
        }
    }
}

// MARK: - Elementwise helpers (plain loops; Shared has no kernels for these)

/// The size of a broadcast result along one axis: equal sizes, or 1 against anything.
private func broadcastSize(_ a: Int, _ b: Int, axis: String, operation: String) -> Int {
    precondition(a == b || a == 1 || b == 1,
                 "\(operation): \(axis) \(a) and \(b) do not broadcast (they must be equal, or one of them 1)")
    return a == 1 ? b : a
}

/// `out[i, j] = f(a[i, j], b[i, j])`, where an operand of size 1 along an axis is repeated
/// along it. Shapes: `a: [Ra, Ca]`, `b: [Rb, Cb]`, `out: [max(Ra, Rb), max(Ca, Cb)]`.
func broadcastElementwise<T: NeuralScalar>(
    _ a: Matrix<T>, _ b: Matrix<T>, operation: String, _ f: (T, T) -> T
) -> Matrix<T> {
    let rows = broadcastSize(a.rows, b.rows, axis: "rows", operation: operation)
    let columns = broadcastSize(a.columns, b.columns, axis: "columns", operation: operation)
    var out = Matrix<T>(rows: rows, columns: columns)
    for i in 0..<rows {
        for j in 0..<columns {                            // an axis of size 1 reads its only element
            out[i, j] = f(a[a.rows == 1 ? 0 : i, a.columns == 1 ? 0 : j], b[b.rows == 1 ? 0 : i, b.columns == 1 ? 0 : j])
        }
    }
    return out
}

/// `out[i, j] = f(x[i, j])`.
func elementwise<T: NeuralScalar>(_ x: Matrix<T>, _ f: (T) -> T) -> Matrix<T> {
    Matrix(rows: x.rows, columns: x.columns, storage: x.storage.map(f))
}

/// The gradient of a broadcast operand: `g` summed over every axis along which an operand of
/// shape `[rows, columns]` was repeated. Down the rows (a bias) with Shared's `columnSums`,
/// along the columns with a loop; `g` itself when nothing was repeated.
func unbroadcast<T: NeuralScalar>(_ g: Matrix<T>, toRows rows: Int, columns: Int) -> Matrix<T> {
    var result = g
    if rows == 1 && result.rows != 1 {                       // Σ over rows → [1, C]
        var sums = Matrix<T>.uninitialized(rows: 1, columns: result.columns)   // columnSums writes all of it
        columnSums(of: result, into: &sums)
        result = sums
    }
    if columns == 1 && result.columns != 1 {                 // Σ over columns → [R, 1]
        var sums = Matrix<T>(rows: result.rows, columns: 1)
        for i in 0..<result.rows {
            var total: T = 0
            for j in 0..<result.columns { total += result[i, j] }
            sums.storage[i] = total
        }
        result = sums
    }
    precondition(result.rows == rows && result.columns == columns,
                 "gradient of shape \(g.shape) cannot be reduced to [\(rows), \(columns)]")
    return result
}
