// DifferentiableMatrix.swift — what the compiler needs to know about a matrix before it can
// differentiate a function of matrices.
//
// Teaches: Swift's differentiation is a compiler feature (`import _Differentiation`, still
// experimental, hence this target of its own), and it asks two things of a type:
//   - `Differentiable`: the type has a *tangent vector* type, the type of its gradients. A
//     matrix's gradient is a matrix of the same shape, so `Matrix.TangentVector = Matrix`.
//   - `AdditiveArithmetic` on that tangent type: gradients can be added (a value used twice gets
//     the sum of both gradients) and there is a `zero` to start a sum from.
// Leaves out: forward mode (`@differentiable(forward)` is not available yet) and
// `Differentiable` types whose tangent differs from themselves.
//
// The conformances are declared here, not in Shared, so that no other level compiles the
// experimental module. (Declared outside the package, they would be marked `@retroactive`.)

import _Differentiation
import Shared

/// A scalar the compiler can differentiate, and the kernels can compute in: `Float` (training)
/// or `Double` (gradient checks). Its gradient is a number of the same type.
public protocol DifferentiableScalar: NeuralScalar, Differentiable where TangentVector == Self {}

extension Float: DifferentiableScalar {}
extension Double: DifferentiableScalar {}

/// Gradients of matrices add up elementwise.
///
/// `zero` is the empty matrix: the compiler asks for a zero gradient before it knows any shape
/// (to start the sum for a value that is used more than once, or for parameters a function did
/// not use), so zero has no shape, and adding it to a matrix returns that matrix unchanged: no
/// arithmetic, no copy, and the same bits (adding a matrix of `+0.0`s would turn a `−0.0` in
/// a gradient into `+0.0`). Two real gradients are added by Shared's `accumulate`, so a kernel
/// trace shows it whenever the compiler sums gradients.
extension Matrix: AdditiveArithmetic {
    /// The shapeless zero gradient, `[0, 0]`.
    @inlinable
    public static var zero: Matrix { Matrix(rows: 0, columns: 0) }

    /// `lhs + rhs`, elementwise; an empty operand is zero.
    @inlinable
    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix {
        if rhs.count == 0 { return lhs }
        if lhs.count == 0 { return rhs }
        var sum = lhs
        accumulate(rhs, into: &sum)                         // sum = lhs + rhs
        return sum
    }

    /// `lhs − rhs`, elementwise; an empty operand is zero.
    @inlinable
    public static func - (lhs: Matrix, rhs: Matrix) -> Matrix {
        if rhs.count == 0 { return lhs }
        let minuend = lhs.count == 0 ? Matrix(rows: rhs.rows, columns: rhs.columns) : lhs
        precondition(minuend.shape == rhs.shape, "Matrix −: \(minuend.shape) − \(rhs.shape)")
        var difference = minuend
        for i in difference.storage.indices { difference.storage[i] -= rhs.storage[i] }
        return difference
    }
}

/// A matrix is differentiable; its gradient (tangent vector) is a matrix of the same shape.
extension Matrix: Differentiable {
    public typealias TangentVector = Matrix

    /// `self ← self + offset`. Training does not step this way: the update goes through Shared's
    /// `sgdUpdate`, as at every other level (see ``DifferentiableNetwork/update(_:along:learningRate:)``).
    @inlinable
    public mutating func move(by offset: Matrix) { self = self + offset }
}
