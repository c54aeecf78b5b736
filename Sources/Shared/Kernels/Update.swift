// Update.swift — the parameter update every level's optimizer comes down to.
//
// Teaches: "the optimizer" of plain SGD is one line, w ← w − lr·g. Level 2's `SGD.step()`,
// Level 1's `fit` and Level 4's hand-written loop all end here, which is one reason they agree
// bit for bit.
// Leaves out: momentum and Adam (Level 2 builds them on top of this).

/// Plain stochastic gradient descent, in place: `w ← w − η·g`.
///
/// Shapes: `parameter, gradient`: any, equal.
@inlinable
public func sgdUpdate<T: NeuralScalar>(_ parameter: inout Matrix<T>, gradient: Matrix<T>, learningRate: T) {
    precondition(parameter.shape == gradient.shape, "sgdUpdate: shapes differ")
    KernelTrace.record("sgdUpdate", "[\(parameter.rows),\(parameter.columns)]")
    gradient.storage.withUnsafeBufferPointer { g in
        parameter.storage.withUnsafeMutableBufferPointer { w in
            for i in w.indices { w[i] -= learningRate * g[i] }
        }
    }
}
