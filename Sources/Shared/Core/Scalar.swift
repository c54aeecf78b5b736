// Scalar.swift — the number types NeuralLevels computes in.
//
// Teaches: how one generic code path serves Float32 (training, as every framework does) and
// Float64 (gradient checks by finite differences, which need the extra precision).
// Leaves out: half precision and integer quantisation.

import CBLAS
import RealModule

/// A floating-point type every kernel, and every level, can run in: `Float` or `Double`.
///
/// It adds to `Real` (from swift-numerics: `exp`, `log`, `tanh`, …) the one thing generic code
/// cannot express: which BLAS routine multiplies matrices of this type
/// (`cblas_sgemm` for `Float`, `cblas_dgemm` for `Double`).
public protocol NeuralScalar: Real, BinaryFloatingPoint, Sendable {
    /// The safetensors dtype name: `"F32"` or `"F64"`.
    static var safetensorsDType: String { get }

    /// Row-major `C ← α·op(A)·op(B) + β·C`, straight to BLAS.
    ///
    /// - Parameters: `m`, `n`, `k` are the sizes of `op(A): [m, k]`, `op(B): [k, n]`, `C: [m, n]`;
    ///   `lda`, `ldb`, `ldc` the row strides of the matrices as stored.
    static func blasGemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// `y ← α·x + y` over `count` contiguous elements, straight to BLAS (`cblas_saxpy` for
    /// `Float`, `cblas_daxpy` for `Double`).
    static func blasAxpy(count: Int, alpha: Self, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)
}

/// OpenBLAS computes on the calling thread only, set once before the first BLAS call: the fast
/// kernels split a product across threads themselves (Kernels/Fast/), and the readable ones
/// are serial, one BLAS call each.
@usableFromInline let blasIsSingleThreaded: Bool = {
    openblas_set_num_threads(1)
    return true
}()

@usableFromInline
func cblasTranspose(_ transposed: Bool) -> CBLAS_TRANSPOSE {
    transposed ? CblasTrans : CblasNoTrans
}

extension Float: NeuralScalar {
    public static var safetensorsDType: String { "F32" }

    @inlinable
    public static func blasGemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = blasIsSingleThreaded
        cblas_sgemm(
            CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc))
    }

    @inlinable
    public static func blasAxpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        _ = blasIsSingleThreaded
        cblas_saxpy(blasint(count), alpha, x, 1, y, 1)
    }
}

extension Double: NeuralScalar {
    public static var safetensorsDType: String { "F64" }

    @inlinable
    public static func blasGemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        _ = blasIsSingleThreaded
        cblas_dgemm(
            CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc))
    }

    @inlinable
    public static func blasAxpy(count: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
        _ = blasIsSingleThreaded
        cblas_daxpy(blasint(count), alpha, x, 1, y, 1)
    }
}

/// Which OpenBLAS is doing the arithmetic, for reports that compare speeds.
public enum BLASLibrary {
    /// The CPU kernels OpenBLAS chose when it loaded (`openblas_get_corename()`: "Haswell",
    /// "SkylakeX", "Cooperlake", …). The `OPENBLAS_CORETYPE` environment variable overrides its
    /// own choice; two programs compared on speed should be using the same kernels.
    public static var kernels: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}
