// LinearAlgebra.swift — matrix products and the two bias kernels around them.
//
// Teaches: a dense layer is one matrix product plus a broadcast add, and its backward pass is
// two more products plus a column sum. Almost all of the arithmetic of training is in `gemm`.
// Each kernel is its formula (for `gemm`, three loops: a dot product per element of C). After
// its shape check and its `--trace` record, one line offers the work to a fast form
// (Fast/FastLinearAlgebra.swift: OpenBLAS, which does the product at close to the machine's
// peak, split across threads; pointer loops that vectorise), which
// `NEURAL_LEVELS_READABLE_KERNELS=1` switches off.
// Leaves out: a fast `gemm` of our own (blocking for the caches, vector kernels: OpenBLAS's).
//
// Every kernel is generic over the scalar type (Float for training, Double for gradient
// checks), `@inlinable` so that callers specialise it, and `@_specialize(where T == Float)` so
// that a caller that cannot specialise (code reached through an existential such as
// `any Optimizer<Float>`) still runs the Float version instead of slow generic code.
// Every kernel (here and in the other kernel files) also takes `file`, `line` and `function`,
// defaulted to its caller as `precondition` takes them, only so that `compare-levels --trace`
// can name the line that called it (KernelTrace.swift); callers leave them out.
//
// Shape legend: B batch, I inputs to a layer, O outputs of a layer.

// MARK: - gemm

/// General matrix multiply, `C ← α·op(A)·op(B) + β·C`, where `op(X)` is `X` or `Xᵀ`.
///
/// Shapes: `op(A): [m, k]`, `op(B): [k, n]`, `C: [m, n]`. With `β = 0` the old contents of `C`
/// are ignored. Element by element, `C[i, j] = α·Σ_p op(A)[i, p]·op(B)[p, j] + β·C[i, j]`,
/// which is what this function's loops say; the fast form is OpenBLAS (`cblas_sgemm` for Float,
/// `cblas_dgemm` for Double) on the matrices as stored, so a transpose costs nothing, and it
/// rounds differently in the last bits (its dot products use fused multiply-adds, in blocks).
///
/// The three products of a dense layer `y = x·Wᵀ + b` (weights `[O, I]`):
///
///     forward      y  = x · Wᵀ     gemm(x, w, transposeB: true, into: &y)       [B,I]·[I,O]
///     weight grad  dW = dyᵀ · x    gemm(dy, transposeA: true, x, into: &dW)     [O,B]·[B,I]
///     input grad   dx = dy · W     gemm(dy, w, into: &dx)                       [B,O]·[O,I]
@inlinable
@_specialize(where T == Float)
public func gemm<T: NeuralScalar>(
    _ a: Matrix<T>, transposeA: Bool = false,
    _ b: Matrix<T>, transposeB: Bool = false,
    into c: inout Matrix<T>, alpha: T = 1, beta: T = 0,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    let m = transposeA ? a.columns : a.rows
    let k = transposeA ? a.rows : a.columns
    let n = transposeB ? b.rows : b.columns
    precondition((transposeB ? b.columns : b.rows) == k,
                 "gemm: inner sizes differ: op(A) is [\(m), \(k)], op(B) is [\(transposeB ? b.columns : b.rows), \(n)]")
    precondition(c.rows == m && c.columns == n,
                 "gemm: C is [\(c.rows), \(c.columns)], op(A)·op(B) is [\(m), \(n)]")
    KernelTrace.record("gemm", "\(transposeA ? "Aᵀ" : "A")[\(a.rows),\(a.columns)]·\(transposeB ? "Bᵀ" : "B")[\(b.rows),\(b.columns)]",
                       file: file, line: line, function: function)
    guard m > 0, n > 0 else { return }                   // nothing to compute
    guard k > 0 else {                                   // empty product: C ← β·C (C not read when β = 0)
        for i in 0..<c.count { c.storage[i] = beta == 0 ? 0 : beta * c.storage[i] }
        return
    }
    if FastKernels.gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c, alpha: alpha, beta: beta) {
        return                                           // Fast/FastLinearAlgebra.swift: OpenBLAS
    }
    for i in 0..<m {
        for j in 0..<n {
            var sum: T = 0                               // Σ_p op(A)[i, p] · op(B)[p, j]
            for p in 0..<k {
                sum += (transposeA ? a[p, i] : a[i, p]) * (transposeB ? b[j, p] : b[p, j])
            }
            c[i, j] = alpha * sum + (beta == 0 ? 0 : beta * c[i, j])
        }
    }
}

// MARK: - Bias

/// Broadcast add of a row vector to every row: `y[i, j] += b[j]`.
///
/// Shapes: `b: [1, O]`, `y: [B, O]`.
@inlinable
@_specialize(where T == Float)
public func addBias<T: NeuralScalar>(
    _ bias: Matrix<T>, to y: inout Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(bias.rows == 1 && bias.columns == y.columns, "addBias: bias must be [1, \(y.columns)]")
    KernelTrace.record("addBias", "[\(y.rows),\(y.columns)]", file: file, line: line, function: function)
    if FastKernels.addBias(bias, to: &y) { return }      // Fast/FastLinearAlgebra.swift
    for i in 0..<y.rows {
        for j in 0..<y.columns { y[i, j] += bias[0, j] }
    }
}

/// The same broadcast add, out of place: `y[i, j] = x[i, j] + b[j]`, for a caller that must keep
/// `x` as it was (Level 3's tape keeps every result for the backward pass). One pass, where
/// copying `x` and then adding in place would be two.
///
/// Shapes: `b: [1, O]`, `x, y: [B, O]`; `y`'s old contents are not read.
@inlinable
@_specialize(where T == Float)
public func addBias<T: NeuralScalar>(
    _ bias: Matrix<T>, to x: Matrix<T>, into y: inout Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(bias.rows == 1 && bias.columns == x.columns, "addBias: bias must be [1, \(x.columns)]")
    precondition(x.shape == y.shape, "addBias: result is \(y.shape), input is \(x.shape)")
    KernelTrace.record("addBias", "[\(x.rows),\(x.columns)]", file: file, line: line, function: function)
    if FastKernels.addBias(bias, to: x, into: &y) { return }
    for i in 0..<x.rows {
        for j in 0..<x.columns { y[i, j] = x[i, j] + bias[0, j] }
    }
}

/// Column sums, the backward of ``addBias(_:to:file:line:function:)``: `db[j] = Σᵢ dy[i, j]` (summed over `i` in
/// order, so the result is the same on every run).
///
/// Shapes: `dy: [B, O]`, `db: [1, O]`.
@inlinable
@_specialize(where T == Float)
public func columnSums<T: NeuralScalar>(
    of dy: Matrix<T>, into db: inout Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(db.rows == 1 && db.columns == dy.columns, "columnSums: result must be [1, \(dy.columns)]")
    KernelTrace.record("columnSums", "[\(dy.rows),\(dy.columns)]", file: file, line: line, function: function)
    if FastKernels.columnSums(of: dy, into: &db) { return }
    for j in 0..<dy.columns { db[0, j] = 0 }
    for i in 0..<dy.rows {
        for j in 0..<dy.columns { db[0, j] += dy[i, j] }
    }
}

// MARK: - Elementwise helpers

/// Accumulate, `y ← y + x` (gradients of a value used twice add up).
@inlinable
@_specialize(where T == Float)
public func accumulate<T: NeuralScalar>(
    _ x: Matrix<T>, into y: inout Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(x.rows == y.rows && x.columns == y.columns, "accumulate: shapes differ")
    KernelTrace.record("accumulate", "[\(y.rows),\(y.columns)]", file: file, line: line, function: function)
    for i in 0..<y.count { y.storage[i] += x.storage[i] }
}
