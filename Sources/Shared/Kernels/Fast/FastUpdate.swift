// FastUpdate.swift — the fast form of the SGD update (Update.swift).
//
// Teaches: how to use BLAS for an elementwise update without changing a bit. BLAS's `axpy`,
// `y ← α·x + y` with `α = −η`, does the update, one call per part of a large tensor
// (KernelThreads.swift), so fc1's 100,352 weights and fc2's 8,192 are updated by both cores,
// half each, each core the rows it computed the gradient of (fc1: 10.3 → 5.1 ms per epoch).
// OpenBLAS's x86-64 kernels fuse the multiply-add in their unrolled loop (blocks of 16 or 32)
// but not in the leftover elements after it, so every part is a whole number of blocks of 64,
// and the last `count mod 64` elements are done here with the same fused operation as the
// readable form. Each element is then `fma(−η, g, w)`, the readable form's bits, whatever the
// thread count (KernelTests checks correct rounding at sizes that leave every kind of remainder).
// The stateful updates (momentum, Adam) are the readable formulas over raw pointers (no bounds
// or uniqueness checks), split across threads when large: the same arithmetic in the same
// order, so the same bits (FastFormTests). On fc1's 100,352
// weights with 2 threads: momentum 11–16 µs against 130 for the readable loop, Adam 215–230 µs
// against 1,270 (its square root is a libm call per element, which keeps that loop scalar).
// Leaves out: fusing the updates of several tensors into one call.

extension FastKernels {
    /// ``sgdUpdate(_:gradient:learningRate:file:line:function:)`` by BLAS `axpy` over blocks of 64 elements, split
    /// across threads when large, and a fused multiply-add for the rest. Returns false, and does
    /// nothing, when the fast forms are off.
    @inlinable
    static func sgdUpdate<T: NeuralScalar>(_ parameter: inout Matrix<T>, gradient: Matrix<T>, learningRate: T) -> Bool {
        guard isEnabled else { return false }
        let step = -learningRate
        gradient.storage.withUnsafeBufferPointer { g in
            parameter.storage.withUnsafeMutableBufferPointer { w in
                guard let gs = g.baseAddress, let ws = w.baseAddress else { return }
                let blocked = w.count - w.count % 64
                KernelThreads.forEachRange(count: blocked, minimumPerPart: updateMinimumPerPart, alignment: 64) { part in
                    guard !part.isEmpty else { return }                                   // w[part] += step·g[part]
                    T.blasAxpy(count: part.count, alpha: step, x: gs + part.lowerBound, y: ws + part.lowerBound)
                }
                for i in blocked..<w.count { w[i] = w[i].addingProduct(step, g[i]) }         // the rest, fused too
            }
        }
        return true
    }
}

extension FastKernels {
    /// ``sgdMomentumUpdate(_:gradient:velocity:learningRate:momentum:dampening:nesterov:weightDecay:file:line:function:)``
    /// with its velocity `v` already allocated (`isFirstStep`: `v` is set to `g`). Returns false,
    /// and does nothing, when the fast forms are off.
    @inlinable
    static func sgdMomentumUpdate<T: NeuralScalar>(
        _ parameter: inout Matrix<T>, gradient: Matrix<T>, velocity: inout Matrix<T>, isFirstStep: Bool,
        learningRate: T, momentum: T, dampening: T, nesterov: Bool, weightDecay: T
    ) -> Bool {
        guard isEnabled else { return false }
        gradient.storage.withUnsafeBufferPointer { g in
            velocity.storage.withUnsafeMutableBufferPointer { v in
                parameter.storage.withUnsafeMutableBufferPointer { w in
                    guard let gs = g.baseAddress, let vs = v.baseAddress, let ws = w.baseAddress else { return }
                    KernelThreads.forEachRange(count: w.count, minimumPerPart: cheapKernelMinimumPerPart) { range in
                        for i in range {
                            var g = gs[i]
                            if weightDecay != 0 { g += weightDecay * ws[i] }
                            if momentum != 0 {
                                vs[i] = isFirstStep ? g : momentum * vs[i] + (1 - dampening) * g
                                g = nesterov ? g + momentum * vs[i] : vs[i]
                            }
                            ws[i] -= learningRate * g
                        }
                    }
                }
            }
        }
        return true
    }

    /// ``adamUpdate(_:gradient:m:v:step:learningRate:beta1:beta2:epsilon:weightDecay:file:line:function:)``
    /// with the bias corrections `1 − β₁ᵗ`, `1 − β₂ᵗ` computed by the caller. Returns false, and
    /// does nothing, when the fast forms are off.
    @inlinable
    static func adamUpdate<T: NeuralScalar>(
        _ parameter: inout Matrix<T>, gradient: Matrix<T>, m: inout Matrix<T>, v: inout Matrix<T>,
        correction1: T, correction2: T, learningRate: T, beta1: T, beta2: T, epsilon: T, weightDecay: T
    ) -> Bool {
        guard isEnabled else { return false }
        gradient.storage.withUnsafeBufferPointer { g in
            m.storage.withUnsafeMutableBufferPointer { mBuffer in
                v.storage.withUnsafeMutableBufferPointer { vBuffer in
                    parameter.storage.withUnsafeMutableBufferPointer { w in
                        guard let gs = g.baseAddress, let ms = mBuffer.baseAddress, let vs = vBuffer.baseAddress,
                              let ws = w.baseAddress else { return }
                        KernelThreads.forEachRange(count: w.count, minimumPerPart: costlyKernelMinimumPerPart) { range in
                            for i in range {
                                var g = gs[i]
                                if weightDecay != 0 { g += weightDecay * ws[i] }
                                ms[i] = beta1 * ms[i] + (1 - beta1) * g
                                vs[i] = beta2 * vs[i] + (1 - beta2) * g * g
                                let mHat = ms[i] / correction1
                                let vHat = vs[i] / correction2
                                ws[i] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
                            }
                        }
                    }
                }
            }
        }
        return true
    }
}

/// Elements per part below which the update is not split. Lower than for the other cheap
/// kernels: a weight matrix's update, split in equal row blocks, lines up with the rows of its
/// gradient each core computed (`dW = dyᵀ·x` is split by rows) and the rows of weights each core
/// reads in the next forward product (`x·Wᵀ` is split by output columns), so each core updates
/// rows already in its own cache. fc2's 8,192 weights: 3.3–3.6 µs per step on one core, 2.2–3.1
/// µs split (4 alternating pairs, where Level 4 also gained 0.3–2.3 points of the ceiling).
@usableFromInline let updateMinimumPerPart = 4_096
