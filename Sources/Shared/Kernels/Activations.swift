// Activations.swift — tanh and sigmoid, forward and backward.
//
// Teaches: both activations have derivatives that are cheap functions of their *output*, so the
// backward pass needs only what the forward pass already produced:
//     tanh:    a = tanh z,           da/dz = 1 − a²
//     sigmoid: a = 1 / (1 + e^(−z)),  da/dz = a·(1 − a)
// Each kernel is its formula, one element at a time. After its shape check and its `--trace`
// record, one line offers the work to a fast form (Fast/FastActivations.swift: in Float,
// branch-free approximations that vectorise, within 2.5 ulp; split across threads when large),
// which `NEURAL_LEVELS_READABLE_KERNELS=1` switches off.
// Every kernel takes `file`, `line`, `function` defaulted to its caller, for `--trace` (LinearAlgebra.swift).
// Leaves out: ReLU and friends (the network uses tanh then sigmoid).

import RealModule

// MARK: - tanh

/// `a = tanh(z)`, elementwise. Shapes: `z, a: [B, O]`.
@inlinable
@_specialize(where T == Float)
public func tanhForward<T: NeuralScalar>(
    _ z: Matrix<T>, into a: inout Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(z.shape == a.shape, "tanhForward: shapes differ")
    KernelTrace.record("tanhForward", "[\(z.rows),\(z.columns)]", file: file, line: line, function: function)
    if FastKernels.tanhForward(z, into: &a) { return }          // Fast/FastActivations.swift
    for i in 0..<z.count {
        a.storage[i] = T.tanh(z.storage[i])
    }
}

/// `dz = da ⊙ (1 − a²)`, from the forward output `a`. Shapes: `a, da, dz: [B, O]`.
@inlinable
@_specialize(where T == Float)
public func tanhBackward<T: NeuralScalar>(
    output a: Matrix<T>, outputGradient da: Matrix<T>, into dz: inout Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(a.shape == da.shape && a.shape == dz.shape, "tanhBackward: shapes differ")
    KernelTrace.record("tanhBackward", "[\(a.rows),\(a.columns)]", file: file, line: line, function: function)
    if FastKernels.tanhBackward(output: a, outputGradient: da, into: &dz) { return }
    for i in 0..<a.count {
        dz.storage[i] = da.storage[i] * (1 - a.storage[i] * a.storage[i])
    }
}

// MARK: - sigmoid

/// `a = σ(z) = 1 / (1 + e^(−z))`, elementwise. For very negative `z`, `e^(−z)` overflows to +∞
/// and `a` is exactly 0, never NaN. Shapes: `z, a: [B, O]`.
@inlinable
@_specialize(where T == Float)
public func sigmoidForward<T: NeuralScalar>(
    _ z: Matrix<T>, into a: inout Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(z.shape == a.shape, "sigmoidForward: shapes differ")
    KernelTrace.record("sigmoidForward", "[\(z.rows),\(z.columns)]", file: file, line: line, function: function)
    if FastKernels.sigmoidForward(z, into: &a) { return }       // Fast/FastActivations.swift
    for i in 0..<z.count {
        a.storage[i] = 1 / (1 + T.exp(-z.storage[i]))
    }
}

/// `dz = da ⊙ a ⊙ (1 − a)`, from the forward output `a`. Shapes: `a, da, dz: [B, O]`.
@inlinable
@_specialize(where T == Float)
public func sigmoidBackward<T: NeuralScalar>(
    output a: Matrix<T>, outputGradient da: Matrix<T>, into dz: inout Matrix<T>,
    file: StaticString = #fileID, line: UInt = #line, function: StaticString = #function
) {
    precondition(a.shape == da.shape && a.shape == dz.shape, "sigmoidBackward: shapes differ")
    KernelTrace.record("sigmoidBackward", "[\(a.rows),\(a.columns)]", file: file, line: line, function: function)
    if FastKernels.sigmoidBackward(output: a, outputGradient: da, into: &dz) { return }
    for i in 0..<a.count {
        dz.storage[i] = da.storage[i] * a.storage[i] * (1 - a.storage[i])
    }
}
