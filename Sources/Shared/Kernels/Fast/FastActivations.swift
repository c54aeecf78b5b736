// FastActivations.swift — the fast forms of the activation kernels (Activations.swift).
//
// Teaches: what makes an elementwise loop fast: no libm call per element (in Float, tanh and σ
// come from the branch-free approximations of FastMath.swift, so the loop vectorises), no
// bounds or uniqueness checks (raw pointers), and, for a large matrix, one contiguous range
// per thread (KernelThreads.swift).
// Forward in Float: within 2.3 ulp (tanh) and 2.5 ulp (σ) of the exact value, so within 5 ulp
// of the readable form's libm result (FastKernelTests checks the first, FastFormTests the
// second). Backward, any scalar type: the readable formula's arithmetic in the same order, so
// the same bits.
// Leaves out: Double fast forms (Double is for gradient checks, where the formula is the point).

// MARK: - Forward (Float only)

extension FastKernels {
    /// ``tanhForward(_:into:file:line:function:)`` in Float: `a[i] = fastTanh(z[i])`, split across threads when
    /// large. Returns false, and does nothing, for Double or when the fast forms are off.
    @inlinable
    static func tanhForward<T: NeuralScalar>(_ z: Matrix<T>, into a: inout Matrix<T>) -> Bool {
        guard T.self == Float.self, isEnabled else { return false }
        z.storage.withUnsafeBytes { source in
            a.storage.withUnsafeMutableBytes { destination in
                let s = source.assumingMemoryBound(to: Float.self), d = destination.assumingMemoryBound(to: Float.self)
                guard let s = s.baseAddress, let d = d.baseAddress else { return }
                KernelThreads.forEachRange(count: z.count, minimumPerPart: costlyKernelMinimumPerPart) { range in
                    for i in range { d[i] = fastTanh(s[i]) }
                }
            }
        }
        return true
    }

    /// ``sigmoidForward(_:into:file:line:function:)`` in Float: `a[i] = fastSigmoid(z[i])`, split across threads
    /// when large. Returns false, and does nothing, for Double or when the fast forms are off.
    @inlinable
    static func sigmoidForward<T: NeuralScalar>(_ z: Matrix<T>, into a: inout Matrix<T>) -> Bool {
        guard T.self == Float.self, isEnabled else { return false }
        z.storage.withUnsafeBytes { source in
            a.storage.withUnsafeMutableBytes { destination in
                let s = source.assumingMemoryBound(to: Float.self), d = destination.assumingMemoryBound(to: Float.self)
                guard let s = s.baseAddress, let d = d.baseAddress else { return }
                KernelThreads.forEachRange(count: z.count, minimumPerPart: costlyKernelMinimumPerPart) { range in
                    for i in range { d[i] = fastSigmoid(s[i]) }
                }
            }
        }
        return true
    }
}

// MARK: - Backward (any scalar type: the same arithmetic, so the same bits)

extension FastKernels {
    /// ``tanhBackward(output:outputGradient:into:file:line:function:)``: `dz[i] = da[i]·(1 − a[i]·a[i])`.
    @inlinable
    static func tanhBackward<T: NeuralScalar>(output a: Matrix<T>, outputGradient da: Matrix<T>,
                                              into dz: inout Matrix<T>) -> Bool {
        guard isEnabled else { return false }
        a.storage.withUnsafeBufferPointer { out in
            da.storage.withUnsafeBufferPointer { g in
                dz.storage.withUnsafeMutableBufferPointer { dst in
                    guard let out = out.baseAddress, let g = g.baseAddress, let dst = dst.baseAddress else { return }
                    KernelThreads.forEachRange(count: a.count, minimumPerPart: cheapKernelMinimumPerPart) { range in
                        for i in range { dst[i] = g[i] * (1 - out[i] * out[i]) }
                    }
                }
            }
        }
        return true
    }

    /// ``sigmoidBackward(output:outputGradient:into:file:line:function:)``: `dz[i] = da[i]·a[i]·(1 − a[i])`.
    @inlinable
    static func sigmoidBackward<T: NeuralScalar>(output a: Matrix<T>, outputGradient da: Matrix<T>,
                                                 into dz: inout Matrix<T>) -> Bool {
        guard isEnabled else { return false }
        a.storage.withUnsafeBufferPointer { out in
            da.storage.withUnsafeBufferPointer { g in
                dz.storage.withUnsafeMutableBufferPointer { dst in
                    guard let out = out.baseAddress, let g = g.baseAddress, let dst = dst.baseAddress else { return }
                    KernelThreads.forEachRange(count: a.count, minimumPerPart: cheapKernelMinimumPerPart) { range in
                        for i in range { dst[i] = g[i] * out[i] * (1 - out[i]) }
                    }
                }
            }
        }
        return true
    }
}
