// FastLinearAlgebra.swift — the fast forms of the dense-layer kernels (LinearAlgebra.swift).
//
// Teaches: how a matrix product is split across cores without changing its formula: cut C into
// contiguous blocks (rows for a weight gradient Aᵀ·B, so each thread writes whole rows of dW;
// columns otherwise, so each thread reads a part of the weights) and make one single-threaded
// BLAS call per block (KernelThreads.swift). OpenBLAS runs single-threaded: measured on this
// network, splitting here is faster than OpenBLAS's own threads (0.143–0.148 against
// 0.152–0.164 s for one epoch's products), and it lets the elementwise kernels use both cores
// too. Each element of C is then a dot product computed by a BLAS kernel on a block instead of
// the whole matrix, which can round differently in the last bits from one unsplit call; a
// product too small to split is one BLAS call. Either rounds differently from the readable
// loops (FastFormTests bounds both). A part of a
// row-split product computes its rows away from its neighbours' first and the rows at its edges
// last: two threads writing neighbouring blocks at once slow each other (see the MARK below).
// The bias kernels are the readable formulas as pointer loops (no bounds checks: they
// vectorise), the same arithmetic in the same order, so the same bits.
// Leaves out: splitting the inner dimension k (it would change the order of every sum).

// MARK: - gemm

extension FastKernels {
    /// ``gemm(_:transposeA:_:transposeB:into:alpha:beta:file:line:function:)`` by OpenBLAS: split
    /// into `parts` blocks of C (by default as many as ``KernelThreads/parts(forWork:minimumPerPart:)``
    /// gives), one single-threaded BLAS call each, at the same time; one call when the product
    /// is too small to split. Returns false, and does nothing, when the fast forms are off or
    /// there is nothing to multiply (the readable form handles empty products).
    @inlinable
    static func gemm<T: NeuralScalar>(
        _ a: Matrix<T>, transposeA: Bool, _ b: Matrix<T>, transposeB: Bool,
        into c: inout Matrix<T>, alpha: T, beta: T, parts requestedParts: Int? = nil
    ) -> Bool {
        guard isEnabled else { return false }
        return blasGemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c, alpha: alpha, beta: beta,
                        parts: requestedParts)
    }

    /// The same product by OpenBLAS whether or not the fast forms are on (the BLAS ceiling of
    /// `compare-levels --benchmark` measures BLAS itself); false only when there is nothing to
    /// multiply.
    @inlinable
    public static func blasGemm<T: NeuralScalar>(
        _ a: Matrix<T>, transposeA: Bool, _ b: Matrix<T>, transposeB: Bool,
        into c: inout Matrix<T>, alpha: T = 1, beta: T = 0, parts requestedParts: Int? = nil
    ) -> Bool {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let n = transposeB ? b.rows : b.columns
        guard m > 0, n > 0, k > 0 else { return false }
        let parts = requestedParts ?? KernelThreads.parts(forWork: m * n * k, minimumPerPart: gemmMinimumPerPart)
        let (lda, ldb, ldc) = (a.columns, b.columns, c.columns)   // row strides, as BLAS calls them
        guard parts > 1 else {                                    // C ← α·op(A)·op(B) + β·C, one call
            withBaseAddresses(a, b, &c) { pa, pb, pc in
                T.blasGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                           alpha: alpha, a: pa, lda: lda, b: pb, ldb: ldb, beta: beta, c: pc, ldc: ldc)
            }
            return true
        }
        let splitRows = transposeA
        let margin = boundaryMargin(rowBytes: ldc * MemoryLayout<T>.stride)
        withBaseAddresses(a, b, &c) { pa, pb, pc in
            KernelThreads.run(parts: parts) { part in
                let r = KernelThreads.range(part, of: parts, count: splitRows ? m : n, alignment: 16)
                guard !r.isEmpty else { return }
                if splitRows {                                 // C[r, :] = op(A)[r, :]·op(B)
                    forEachRowBlock(of: r, isFirst: r.lowerBound == 0, isLast: r.upperBound == m, margin: margin) { rows in
                        T.blasGemm(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k,
                                   alpha: alpha, a: pa + (transposeA ? rows.lowerBound : rows.lowerBound * lda), lda: lda,
                                   b: pb, ldb: ldb, beta: beta, c: pc + rows.lowerBound * ldc, ldc: ldc)
                    }
                } else {                                       // C[:, r] = op(A)·op(B)[:, r]
                    T.blasGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: r.count, k: k,
                               alpha: alpha, a: pa, lda: lda,
                               b: pb + (transposeB ? r.lowerBound * ldb : r.lowerBound), ldb: ldb,
                               beta: beta, c: pc + r.lowerBound, ldc: ldc)
                }
            }
        }
        return true
    }
}

/// Runs `body` with the addresses of the elements of `a`, `b` and `c` (BLAS's C interface takes
/// pointers); does nothing when one of them is empty.
@inlinable
func withBaseAddresses<T>(_ a: Matrix<T>, _ b: Matrix<T>, _ c: inout Matrix<T>,
                          _ body: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void) {
    a.storage.withUnsafeBufferPointer { pa in
        b.storage.withUnsafeBufferPointer { pb in
            c.storage.withUnsafeMutableBufferPointer { pc in
                guard let pa = pa.baseAddress, let pb = pb.baseAddress, let pc = pc.baseAddress else { return }
                body(pa, pb, pc)
            }
        }
    }
}

/// Multiply-adds per part below which a product is not split (the hand-over costs about a
/// microsecond).
@usableFromInline let gemmMinimumPerPart = 131_072

// MARK: - Neighbouring row blocks, written at different times
//
// Two threads writing neighbouring row blocks of C at once slow the second one down: the
// first thread's hardware prefetcher, following its writes down the rows, runs tens of KB
// past the end of its block and takes those lines of the next block into its own cache, and
// the thread that writes them must take each one back. Measured on fc1's weight gradient
// (`dz1ᵀ·x`, two blocks of 64 rows of 784 Floats, 196 KB each): the second block took 77–80 µs
// against the first's 67–70; with the blocks placed 1 MB apart, both took 67–68 µs
// (docs/performance.md). So each part first computes its rows more than a margin away from its
// neighbours' (at least 64 KB between any two blocks being written), then the rows of the
// margins, by then away from whatever the neighbours write: the whole call then took 69.5–72.6
// µs instead of 77.5–80.6. Every element of C is still the same BLAS kernel's dot product over
// the same k (blocks start at multiples of 16 rows), so the bits are those of one call per part
// (FastFormTests checks it on fc1's gradient).

/// Rows kept for last at each inner edge of a part: 32 KB of C's rows or more, in whole
/// 16-row blocks (so two parts' first blocks are at least 64 KB apart).
@inlinable
func boundaryMargin(rowBytes: Int) -> Int {
    let rows = (32_768 + rowBytes - 1) / max(1, rowBytes)
    return (rows + 15) / 16 * 16
}

/// Calls `body` with the rows of a part in the order it computes them: the rows more than
/// `margin` from a neighbouring part, then the ones next to the part after, then the ones
/// next to the part before. A part with no more rows than twice its margins is one block (the
/// extra BLAS calls would cost more than they save).
@inlinable
func forEachRowBlock(of rows: Range<Int>, isFirst: Bool, isLast: Bool, margin: Int,
                     _ body: (Range<Int>) -> Void) {
    let head = isFirst ? 0 : margin, tail = isLast ? 0 : margin
    guard head + tail > 0, rows.count > 2 * (head + tail) else { body(rows); return }
    let inner = (rows.lowerBound + head)..<(rows.upperBound - tail)
    body(inner)
    if tail > 0 { body(inner.upperBound..<rows.upperBound) }
    if head > 0 { body(rows.lowerBound..<inner.lowerBound) }
}

// MARK: - Bias

extension FastKernels {
    /// ``addBias(_:to:file:line:function:)``: `y[i, j] += b[j]`, row after row, split by rows when large.
    @inlinable
    static func addBias<T: NeuralScalar>(_ bias: Matrix<T>, to y: inout Matrix<T>) -> Bool {
        guard isEnabled else { return false }
        let width = y.columns
        bias.storage.withUnsafeBufferPointer { b in
            y.storage.withUnsafeMutableBufferPointer { out in
                guard let bias = b.baseAddress, let start = out.baseAddress, width > 0 else { return }
                KernelThreads.forEachRange(count: out.count / width, minimumPerPart: max(1, cheapKernelMinimumPerPart / width),
                                           alignment: 1) { rows in
                    var row = start + rows.lowerBound * width
                    for _ in rows {
                        for j in 0..<width { row[j] += bias[j] }     // pointer steps: no overflow checks, so it vectorises
                        row += width
                    }
                }
            }
        }
        return true
    }

    /// ``addBias(_:to:into:file:line:function:)``: `y[i, j] = x[i, j] + b[j]`, row after row, split by rows when large.
    @inlinable
    static func addBias<T: NeuralScalar>(_ bias: Matrix<T>, to x: Matrix<T>, into y: inout Matrix<T>) -> Bool {
        guard isEnabled else { return false }
        let width = x.columns
        bias.storage.withUnsafeBufferPointer { b in
            x.storage.withUnsafeBufferPointer { input in
                y.storage.withUnsafeMutableBufferPointer { out in
                    guard let bias = b.baseAddress, let inputStart = input.baseAddress, let outputStart = out.baseAddress,
                          width > 0 else { return }
                    KernelThreads.forEachRange(count: out.count / width, minimumPerPart: max(1, cheapKernelMinimumPerPart / width),
                                               alignment: 1) { rows in
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
        return true
    }

    /// ``columnSums(of:into:file:line:function:)``: `db[j] = Σᵢ dy[i, j]`, each column over the rows in order (so
    /// the same bits), split by columns when large.
    @inlinable
    static func columnSums<T: NeuralScalar>(of dy: Matrix<T>, into db: inout Matrix<T>) -> Bool {
        guard isEnabled else { return false }
        let (width, rows) = (dy.columns, dy.rows)
        dy.storage.withUnsafeBufferPointer { g in
            db.storage.withUnsafeMutableBufferPointer { out in
                guard let sums = out.baseAddress else { return }
                guard let start = g.baseAddress, rows > 0 else {
                    for j in 0..<width { sums[j] = 0 }
                    return
                }
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
        return true
    }
}
