// LinearAlgebra.swift — matrix products and the two bias kernels around them.
//
// Teaches: a dense layer is one matrix product plus a broadcast add, and its backward pass is
// two more products plus a column sum. Almost all of the arithmetic of training is in `gemm`,
// which OpenBLAS does at close to the machine's peak.
// Leaves out: writing our own `gemm` (OpenBLAS's is far faster than anything short).
//
// Performance note, for every kernel file: each kernel is generic over the scalar type (Float
// for training, Double for gradient checks), `@inlinable` so that callers specialise it, and
// `@_specialize(where T == Float)` so that a caller that cannot specialise (code reached
// through an existential such as `any Optimizer<Float>`) still runs the Float version instead
// of generic code, which is several times slower.
//
// Shape legend: B batch, I inputs to a layer, O outputs of a layer.

// MARK: - gemm

/// General matrix multiply, `C ← α·op(A)·op(B) + β·C`, where `op(X)` is `X` or `Xᵀ`.
///
/// Shapes: `op(A): [m, k]`, `op(B): [k, n]`, `C: [m, n]`. With `β = 0` the old contents of `C`
/// are ignored (BLAS does not read them). Calls `cblas_sgemm` (Float) or `cblas_dgemm` (Double)
/// with the matrices as stored, so a transpose costs nothing.
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
    into c: inout Matrix<T>, alpha: T = 1, beta: T = 0
) {
    let m = transposeA ? a.columns : a.rows
    let k = transposeA ? a.rows : a.columns
    let n = transposeB ? b.rows : b.columns
    precondition((transposeB ? b.columns : b.rows) == k,
                 "gemm: inner sizes differ: op(A) is [\(m), \(k)], op(B) is [\(transposeB ? b.columns : b.rows), \(n)]")
    precondition(c.rows == m && c.columns == n,
                 "gemm: C is [\(c.rows), \(c.columns)], op(A)·op(B) is [\(m), \(n)]")
    KernelTrace.record("gemm", "\(transposeA ? "Aᵀ" : "A")[\(a.rows),\(a.columns)]·\(transposeB ? "Bᵀ" : "B")[\(b.rows),\(b.columns)]")
    guard m > 0, n > 0 else { return }
    guard k > 0 else {                                   // empty product: C ← β·C
        if beta == 0 {                                   // as BLAS: C is not read when β = 0
            c.storage.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        } else {
            scale(&c, by: beta)
        }
        return
    }
    let (lda, ldb, ldc) = (max(1, a.columns), max(1, b.columns), max(1, c.columns))
    // Split across cores (Parallel.swift): a weight gradient (Aᵀ·B) by rows of C, so each thread
    // writes whole rows of dW, the rows its SGD part then updates; other products by columns of
    // C, so each thread reads half of the weights. Each part is one single-threaded BLAS call.
    let splitRows = transposeA
    let parts = KernelThreads.parts(forWork: m * n * k, minimumPerPart: 131_072)
    a.storage.withUnsafeBufferPointer { pa in
        b.storage.withUnsafeBufferPointer { pb in
            c.storage.withUnsafeMutableBufferPointer { pc in
                let (pa, pb, pc) = (pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
                KernelThreads.run(parts: parts) { part in
                    let r = KernelThreads.range(part, of: parts, count: splitRows ? m : n, alignment: 16)
                    guard !r.isEmpty else { return }
                    if splitRows {                                 // C[r, :] = op(A)[r, :]·op(B)
                        T.blasGemm(transposeA: transposeA, transposeB: transposeB, m: r.count, n: n, k: k,
                                   alpha: alpha, a: pa + (transposeA ? r.lowerBound : r.lowerBound * lda), lda: lda,
                                   b: pb, ldb: ldb, beta: beta, c: pc + r.lowerBound * ldc, ldc: ldc)
                    } else {                                       // C[:, r] = op(A)·op(B)[:, r]
                        T.blasGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: r.count, k: k,
                                   alpha: alpha, a: pa, lda: lda,
                                   b: pb + (transposeB ? r.lowerBound * ldb : r.lowerBound), ldb: ldb,
                                   beta: beta, c: pc + r.lowerBound, ldc: ldc)
                    }
                }
            }
        }
    }
}

// MARK: - Bias

/// Broadcast add of a row vector to every row: `y[i, j] += b[j]`.
///
/// Shapes: `b: [1, O]`, `y: [B, O]`.
@inlinable
@_specialize(where T == Float)
public func addBias<T: NeuralScalar>(_ bias: Matrix<T>, to y: inout Matrix<T>) {
    precondition(bias.rows == 1 && bias.columns == y.columns, "addBias: bias must be [1, \(y.columns)]")
    KernelTrace.record("addBias", "[\(y.rows),\(y.columns)]")
    let width = y.columns
    bias.storage.withUnsafeBufferPointer { b in
        y.storage.withUnsafeMutableBufferPointer { out in
            guard let bias = b.baseAddress, let start = out.baseAddress, width > 0 else { return }
            KernelThreads.forEachRange(count: out.count / width, minimumPerPart: max(1, cheapKernelMinimumPerPart / width), alignment: 1) { rows in
                var row = start + rows.lowerBound * width
                for _ in rows {
                    for j in 0..<width { row[j] += bias[j] }     // pointer steps: no overflow checks, so it vectorises
                    row += width
                }
            }
        }
    }
}

/// The same broadcast add, out of place: `y[i, j] = x[i, j] + b[j]`, for a caller that must keep
/// `x` as it was (Level 3's tape keeps every result for the backward pass). One pass, where
/// copying `x` and then adding in place would be two.
///
/// Shapes: `b: [1, O]`, `x, y: [B, O]`; `y`'s old contents are not read.
@inlinable
@_specialize(where T == Float)
public func addBias<T: NeuralScalar>(_ bias: Matrix<T>, to x: Matrix<T>, into y: inout Matrix<T>) {
    precondition(bias.rows == 1 && bias.columns == x.columns, "addBias: bias must be [1, \(x.columns)]")
    precondition(x.shape == y.shape, "addBias: result is \(y.shape), input is \(x.shape)")
    KernelTrace.record("addBias", "[\(x.rows),\(x.columns)]")
    let width = x.columns
    bias.storage.withUnsafeBufferPointer { b in
        x.storage.withUnsafeBufferPointer { input in
            y.storage.withUnsafeMutableBufferPointer { out in
                guard let bias = b.baseAddress, let inputStart = input.baseAddress, let outputStart = out.baseAddress,
                      width > 0 else { return }
                KernelThreads.forEachRange(count: out.count / width, minimumPerPart: max(1, cheapKernelMinimumPerPart / width), alignment: 1) { rows in
                    var (row, result) = (inputStart + rows.lowerBound * width, outputStart + rows.lowerBound * width)
                    for _ in rows {
                        for j in 0..<width { result[j] = row[j] + bias[j] }
                        row += width
                        result += width
                    }
                }
            }
        }
    }
}

/// Column sums, the backward of ``addBias(_:to:)``: `db[j] = Σᵢ dy[i, j]` (summed over `i` in
/// order, so the result is the same on every run).
///
/// Shapes: `dy: [B, O]`, `db: [1, O]`.
@inlinable
@_specialize(where T == Float)
public func columnSums<T: NeuralScalar>(of dy: Matrix<T>, into db: inout Matrix<T>) {
    precondition(db.rows == 1 && db.columns == dy.columns, "columnSums: result must be [1, \(dy.columns)]")
    KernelTrace.record("columnSums", "[\(dy.rows),\(dy.columns)]")
    let width = dy.columns
    let rows = dy.rows
    dy.storage.withUnsafeBufferPointer { g in
        db.storage.withUnsafeMutableBufferPointer { out in
            guard let sums = out.baseAddress, let start = g.baseAddress else { return }
            // Split by columns: each column is still summed over the rows in order.
            KernelThreads.forEachRange(count: width, minimumPerPart: max(16, cheapKernelMinimumPerPart / max(1, rows))) { columns in
                for j in columns { sums[j] = 0 }
                var row = start
                for _ in 0..<rows {
                    for j in columns { sums[j] += row[j] }  // each column in row order: vectorises across j
                    row += width
                }
            }
        }
    }
}

// MARK: - Elementwise helpers

/// `x ← s·x`.
@inlinable
@_specialize(where T == Float)
public func scale<T: NeuralScalar>(_ x: inout Matrix<T>, by s: T) {
    x.storage.withUnsafeMutableBufferPointer { p in
        for i in p.indices { p[i] *= s }
    }
}

/// Accumulate, `y ← y + x` (gradients of a value used twice add up).
@inlinable
@_specialize(where T == Float)
public func accumulate<T: NeuralScalar>(_ x: Matrix<T>, into y: inout Matrix<T>) {
    precondition(x.rows == y.rows && x.columns == y.columns, "accumulate: shapes differ")
    KernelTrace.record("accumulate", "[\(y.rows),\(y.columns)]")
    x.storage.withUnsafeBufferPointer { src in
        y.storage.withUnsafeMutableBufferPointer { dst in
            for i in dst.indices { dst[i] += src[i] }
        }
    }
}
