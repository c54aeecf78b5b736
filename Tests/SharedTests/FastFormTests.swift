// FastFormTests.swift — every kernel's fast form (Sources/Shared/Kernels/Fast/) against its
// readable form, over random matrices of edge sizes (no rows, one element, lengths that are not
// a multiple of the vector width, sizes large enough to split across threads): bit for bit where
// the arithmetic is the same, within the stated ulps where the fast form approximates (tanh,
// σ, exp). Then a small network's gradients computed in Float by the fast forms, as training
// computes them, against the same gradients in Double.

import Foundation
import Synchronization
import Testing
@testable import Shared
import TestSupport

/// Shapes with no rows, one element, odd widths, and sizes every fast form splits across threads.
let edgeShapes = [(0, 5), (5, 0), (1, 1), (3, 7), (2, 33), (5, 129), (64, 128), (1, 20_001), (130, 130)]

/// `|a − b|` in ulps of `b` (as Floats; 0 when both are the same value).
func ulps(_ a: Float, _ b: Float) -> Float {
    if a == b || (a.isNaN && b.isNaN) { return 0 }
    return abs(a - b) / max(b.ulp, Float.leastNormalMagnitude.ulp)
}

/// The readable form's result: `body` with the fast forms off on this thread.
func readable<R>(_ body: () -> R) -> R { FastKernels.withReadableKernels(body) }

@Suite("Fast forms against readable forms", .enabled(if: FastKernels.allowedByEnvironment))
struct FastFormTests {
    init() { splitKernelsAcrossTwoThreads() }

    @Test("the switch: fast forms on by default, off inside withReadableKernels (this thread only)")
    func theSwitch() {
        #expect(FastKernels.isEnabled)
        readable {
            #expect(!FastKernels.isEnabled)
            readable { #expect(!FastKernels.isEnabled) }                  // nested: still off
            #expect(!FastKernels.isEnabled)
            let onOtherThread = Mutex(false)
            let done = DispatchSemaphore(value: 0)
            Thread { onOtherThread.withLock { $0 = FastKernels.isEnabled }; done.signal() }.start()
            done.wait()
            #expect(onOtherThread.withLock { $0 })
        }
        #expect(FastKernels.isEnabled)
    }

    @Test("tanh and sigmoid forward (Float): within 5 ulp of the readable libm form; Double: the readable form",
          arguments: edgeShapes)
    func forwardActivations(rows: Int, columns: Int) {
        let z = randomMatrix(rows, columns, seed: UInt64(rows * 1000 + columns), in: -9...9, as: Float.self)
        for (name, kernel) in [("tanh", { tanhForward($0, into: &$1) } as (Matrix<Float>, inout Matrix<Float>) -> Void),
                               ("sigmoid", { sigmoidForward($0, into: &$1) })] {
            var fast = Matrix<Float>(rows: rows, columns: columns, repeating: .nan)
            var slow = fast
            kernel(z, &fast)
            readable { kernel(z, &slow) }
            let worst = zip(fast.storage, slow.storage).map { ulps($0, $1) }.max() ?? 0
            #expect(worst <= 5, "\(name) [\(rows), \(columns)]: \(worst) ulp")
            #expect(!fast.storage.contains { $0.isNaN })                      // every element written
        }
        let zd = z.converted(to: Double.self)
        var fastD = Matrix<Double>(rows: rows, columns: columns), slowD = fastD
        tanhForward(zd, into: &fastD)
        readable { tanhForward(zd, into: &slowD) }
        #expect(fastD == slowD)
    }

    @Test("tanh and sigmoid backward: the same bits, Float and Double", arguments: edgeShapes)
    func backwardActivations(rows: Int, columns: Int) {
        func check<T: NeuralScalar>(_: T.Type) {
            let a = randomMatrix(rows, columns, seed: 5, as: T.self), da = randomMatrix(rows, columns, seed: 6, as: T.self)
            for backward in [{ tanhBackward(output: $0, outputGradient: $1, into: &$2) } as (Matrix<T>, Matrix<T>, inout Matrix<T>) -> Void,
                             { sigmoidBackward(output: $0, outputGradient: $1, into: &$2) }] {
                var fast = Matrix<T>(rows: rows, columns: columns, repeating: .nan), slow = fast
                backward(a, da, &fast)
                readable { backward(a, da, &slow) }
                #expect(fast == slow)
            }
        }
        check(Float.self)
        check(Double.self)
    }

    @Test("addBias (both forms) and columnSums: the same bits, Float and Double", arguments: edgeShapes)
    func biasKernels(rows: Int, columns: Int) {
        func check<T: NeuralScalar>(_: T.Type) {
            let y = randomMatrix(rows, columns, seed: 7, as: T.self), bias = randomMatrix(1, columns, seed: 8, as: T.self)
            var fast = y, slow = y
            addBias(bias, to: &fast)
            readable { addBias(bias, to: &slow) }
            #expect(fast == slow)
            var fastOut = Matrix<T>(rows: rows, columns: columns, repeating: .nan), slowOut = fastOut
            addBias(bias, to: y, into: &fastOut)
            readable { addBias(bias, to: y, into: &slowOut) }
            #expect(fastOut == slowOut && fastOut == slow)
            var fastSums = Matrix<T>(rows: 1, columns: columns, repeating: 7), slowSums = fastSums
            columnSums(of: y, into: &fastSums)
            readable { columnSums(of: y, into: &slowSums) }
            #expect(fastSums == slowSums)
            #expect(rows > 0 || fastSums.storage.allSatisfy { $0 == 0 })     // no rows: sums are 0
        }
        check(Float.self)
        check(Double.self)
    }

    @Test("sgdUpdate: the same bits as the readable fma loop, at every kind of remainder",
          arguments: [0, 1, 63, 64, 65, 1_000, 32_768, 100_353])
    func sgd(count: Int) {
        let g = randomMatrix(1, count, seed: 9, in: -0.05...0.05, as: Float.self)
        let w0 = randomMatrix(1, count, seed: 10, in: -0.3...0.3, as: Float.self)
        var fast = w0, slow = w0
        sgdUpdate(&fast, gradient: g, learningRate: 0.1)
        readable { sgdUpdate(&slow, gradient: g, learningRate: 0.1) }
        #expect(fast == slow)
        #expect(count == 0 || fast != w0)
    }

    @Test("momentum and Adam: the same bits as the readable loops, first and later steps, with and without decay",
          arguments: [0, 1, 17, 4_097, 100_353])
    func statefulUpdates(count: Int) {
        let w0 = randomMatrix(1, count, seed: 13, in: -0.3...0.3, as: Float.self)
        for (decay, nesterov) in [(Float(0), false), (1e-2, true), (1e-2, false)] {
            var fast = w0, slow = w0
            var fastVelocity: Matrix<Float>?, slowVelocity: Matrix<Float>?
            for step in 1...3 {                                      // step 1 sets v = g; later steps use it
                let g = randomMatrix(1, count, seed: UInt64(20 + step), in: -0.05...0.05, as: Float.self)
                sgdMomentumUpdate(&fast, gradient: g, velocity: &fastVelocity, learningRate: 0.1, momentum: 0.9,
                                  dampening: 0.1, nesterov: nesterov, weightDecay: decay)
                readable {
                    sgdMomentumUpdate(&slow, gradient: g, velocity: &slowVelocity, learningRate: 0.1, momentum: 0.9,
                                      dampening: 0.1, nesterov: nesterov, weightDecay: decay)
                }
            }
            #expect(fast == slow && fastVelocity == slowVelocity, "momentum, decay \(decay), nesterov \(nesterov)")
            #expect(fastVelocity?.count == count)                    // the velocity is kept for the next step
            #expect(count == 0 || fast != w0)

            var (fastAdam, slowAdam) = (w0, w0)
            var (fastM, fastV) = (Matrix<Float>(rows: 1, columns: count), Matrix<Float>(rows: 1, columns: count))
            var (slowM, slowV) = (fastM, fastV)
            for step in 1...3 {
                let g = randomMatrix(1, count, seed: UInt64(30 + step), in: -0.05...0.05, as: Float.self)
                adamUpdate(&fastAdam, gradient: g, m: &fastM, v: &fastV, step: step, learningRate: 1e-3,
                           beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: decay)
                readable {
                    adamUpdate(&slowAdam, gradient: g, m: &slowM, v: &slowV, step: step, learningRate: 1e-3,
                               beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: decay)
                }
            }
            #expect(fastAdam == slowAdam && fastM == slowM && fastV == slowV, "Adam, decay \(decay)")
            #expect(count == 0 || fastAdam != w0)
        }
    }

    @Test("gemm: the readable loops are the formula (in Double); OpenBLAS in 1, 2, 3 parts within k·1e-6 of them",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmParts(transposeA: Bool, transposeB: Bool) {
        for (m, k, n) in [(0, 5, 7), (4, 0, 3), (1, 1, 1), (3, 5, 7), (64, 784, 128), (128, 64, 784), (17, 33, 65)] {
            let a = randomMatrix(transposeA ? k : m, transposeA ? m : k, seed: 11, as: Float.self)
            let b = randomMatrix(transposeB ? n : k, transposeB ? k : n, seed: 12, as: Float.self)
            let c0 = randomMatrix(m, n, seed: 13, as: Float.self)
            var slow = c0
            readable { gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &slow, alpha: 0.5, beta: 2) }
            var fast = c0                                            // the call training makes
            gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &fast, alpha: 0.5, beta: 2)
            // The readable loops against the formula computed in Double: Float rounding of k terms
            // (each |α·a·b| ≤ 0.5) and of β·c, nothing more.
            for i in 0..<m {
                for j in 0..<n {
                    var exact = 0.0
                    for p in 0..<k {
                        exact += Double(transposeA ? a[p, i] : a[i, p]) * Double(transposeB ? b[j, p] : b[p, j])
                    }
                    exact = 0.5 * exact + 2 * Double(c0[i, j])
                    #expect(abs(Double(slow[i, j]) - exact) <= 1e-7 * Double(k + 4), "[\(m), \(k), \(n)] at (\(i), \(j))")
                }
            }
            guard m > 0, n > 0, k > 0 else {                         // empty products: one code path
                #expect(fast == slow, "[\(m), \(k), \(n)]")
                continue
            }
            // OpenBLAS: one call, or one single-threaded call per block of C. The default call is
            // the explicit split of the same parts bit for bit (the bits do not depend on which
            // thread computed which part); every split is within the bound of the readable loops.
            let defaultParts = KernelThreads.parts(forWork: m * n * k, minimumPerPart: gemmMinimumPerPart)
            for parts in [1, 2, 3] {
                var split = c0
                #expect(FastKernels.gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &split,
                                         alpha: 0.5, beta: 2, parts: parts))
                if parts == defaultParts { #expect(fast == split, "[\(m), \(k), \(n)]: the default call against \(parts) parts") }
                // Each element sums k products of magnitude ≤ 0.5, so Σ|α·a·b| ≤ k/2.
                let worst = zip(split.storage, slow.storage).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-6 * Float(k), "[\(m), \(k), \(n)] in \(parts) parts: \(worst)")
            }
        }
    }

    @Test("a row-split part computes its rows away from its neighbours first, then its edges; every row once")
    func rowBlockOrder() {
        func blocks(_ rows: Range<Int>, first: Bool, last: Bool, margin: Int) -> [Range<Int>] {
            var seen: [Range<Int>] = []
            forEachRowBlock(of: rows, isFirst: first, isLast: last, margin: margin) { seen.append($0) }
            return seen
        }
        #expect(boundaryMargin(rowBytes: 784 * 4) == 16)            // fc1's gradient: 11 rows of 3,136 B, in 16s
        #expect(boundaryMargin(rowBytes: 128 * 4) == 64)
        #expect(boundaryMargin(rowBytes: 40_000) == 16)
        // fc1's gradient, 128 rows in two parts: 0..<48 then 48..<64; 80..<128 then 64..<80.
        #expect(blocks(0..<64, first: true, last: false, margin: 16) == [0..<48, 48..<64])
        #expect(blocks(64..<128, first: false, last: true, margin: 16) == [80..<128, 64..<80])
        #expect(blocks(48..<160, first: false, last: false, margin: 16) == [64..<144, 144..<160, 48..<64])
        // Too small to leave margins, or nothing next to it: one block.
        #expect(blocks(0..<32, first: true, last: false, margin: 16) == [0..<32])
        #expect(blocks(0..<128, first: true, last: true, margin: 16) == [0..<128])
        #expect(blocks(48..<112, first: false, last: false, margin: 16) == [48..<112])
        #expect(blocks(0..<0, first: true, last: false, margin: 16) == [0..<0])
    }

    @Test("a row-split product (Aᵀ·B) in blocks, edges last, has the bits of one BLAS call per part",
          arguments: [2, 3])
    func rowSplitBits(parts: Int) {
        let (m, k, n) = (128, 64, 784)                               // fc1's weight gradient dz1ᵀ·x
        let a = randomMatrix(k, m, seed: 21, as: Float.self), b = randomMatrix(k, n, seed: 22, as: Float.self)
        var split = Matrix<Float>(rows: m, columns: n)
        #expect(FastKernels.gemm(a, transposeA: true, b, transposeB: false, into: &split, alpha: 1, beta: 0, parts: parts))
        var perPart = Matrix<Float>(rows: m, columns: n)
        for part in 0..<parts {                                      // one call per part, as before the blocks
            let r = KernelThreads.range(part, of: parts, count: m, alignment: 16)
            withBaseAddresses(a, b, &perPart) { pa, pb, pc in
                Float.blasGemm(transposeA: true, transposeB: false, m: r.count, n: n, k: k, alpha: 1,
                               a: pa + r.lowerBound, lda: m, b: pb, ldb: n, beta: 0, c: pc + r.lowerBound * n, ldc: n)
            }
        }
        #expect(split == perPart)
    }

    @Test("softmax cross-entropy (Float): probabilities within 4 ulp, loss within 1e-6 relative, of the readable form",
          arguments: [(0, 10), (1, 1), (7, 10), (64, 10), (3, 17), (5, 1_000)])
    func softmax(rows: Int, classes: Int) {
        let z = randomMatrix(rows, classes, seed: UInt64(classes), in: -20...20, as: Float.self)
        let labels = (0..<rows).map { Int32(($0 * 7) % classes) }
        var fast = Matrix<Float>(rows: rows, columns: classes, repeating: .nan), slow = fast
        let fastLoss = softmaxCrossEntropyForward(logits: z, labels: labels, probabilities: &fast)
        let slowLoss = readable { softmaxCrossEntropyForward(logits: z, labels: labels, probabilities: &slow) }
        let worst = zip(fast.storage, slow.storage).map { ulps($0, $1) }.max() ?? 0
        #expect(worst <= 4, "probabilities differ by \(worst) ulp")
        if rows > 0 {
            #expect(abs(fastLoss - slowLoss) <= 1e-6 * max(1, abs(slowLoss)), "\(fastLoss) vs \(slowLoss)")
        } else {
            #expect(fastLoss.isNaN && slowLoss.isNaN)                          // 0/0, both ways
        }
    }
}

// MARK: - Gradients in Float, as training computes them, against Double

@Suite("Float gradients (fast forms) against Double", .enabled(if: FastKernels.allowedByEnvironment))
struct FloatGradientTests {
    init() { splitKernelsAcrossTwoThreads() }

    /// One forward and backward pass of a 300 → 128 (tanh) → 64 (σ) → 10 (softmax) network on a
    /// batch of 64, with the Shared kernels in the order Level 4 calls them. Large enough that
    /// the products, tanh and the update split across threads. Returns the loss and the
    /// gradients of the three weights and biases.
    static func gradients<T: NeuralScalar>(_: T.Type, inputs x: Matrix<T>, labels: [Int32],
                                           weights: [Matrix<T>], biases: [Matrix<T>]) -> (T, [Matrix<T>]) {
        let batch = x.rows
        var z1 = Matrix<T>(rows: batch, columns: 128), a1 = z1
        var z2 = Matrix<T>(rows: batch, columns: 64), a2 = z2
        var z3 = Matrix<T>(rows: batch, columns: 10), p = z3
        gemm(x, weights[0], transposeB: true, into: &z1); addBias(biases[0], to: &z1); tanhForward(z1, into: &a1)
        gemm(a1, weights[1], transposeB: true, into: &z2); addBias(biases[1], to: &z2); sigmoidForward(z2, into: &a2)
        gemm(a2, weights[2], transposeB: true, into: &z3); addBias(biases[2], to: &z3)
        let loss = softmaxCrossEntropyForward(logits: z3, labels: labels, probabilities: &p)

        var dz3 = p, da2 = a2, dz2 = z2, da1 = a1, dz1 = z1
        var grads = weights.map { Matrix<T>(rows: $0.rows, columns: $0.columns) }
            + biases.map { Matrix<T>(rows: 1, columns: $0.columns) }
        softmaxCrossEntropyBackward(probabilities: p, labels: labels, into: &dz3)
        gemm(dz3, transposeA: true, a2, into: &grads[2]); columnSums(of: dz3, into: &grads[5])
        gemm(dz3, weights[2], into: &da2); sigmoidBackward(output: a2, outputGradient: da2, into: &dz2)
        gemm(dz2, transposeA: true, a1, into: &grads[1]); columnSums(of: dz2, into: &grads[4])
        gemm(dz2, weights[1], into: &da1); tanhBackward(output: a1, outputGradient: da1, into: &dz1)
        gemm(dz1, transposeA: true, x, into: &grads[0]); columnSums(of: dz1, into: &grads[3])
        return (loss, grads)
    }

    @Test("loss and every gradient: Float (fast forms, split across threads) within 1e-4 of Double, relative to the largest")
    func floatAgainstDouble() {
        let x = randomMatrix(64, 300, seed: 41, as: Float.self)
        let labels = (0..<64).map { Int32($0 % 10) }
        let sizes = [(128, 300), (64, 128), (10, 64)]
        let weights = sizes.enumerated().map { i, s in randomMatrix(s.0, s.1, seed: UInt64(50 + i), in: -0.2...0.2, as: Float.self) }
        let biases = sizes.enumerated().map { i, s in randomMatrix(1, s.0, seed: UInt64(60 + i), in: -0.1...0.1, as: Float.self) }
        let (loss, floatGrads) = Self.gradients(Float.self, inputs: x, labels: labels, weights: weights, biases: biases)
        let (lossD, doubleGrads) = Self.gradients(Double.self, inputs: x.converted(), labels: labels,
                                                  weights: weights.map { $0.converted() }, biases: biases.map { $0.converted() })
        #expect(abs(Double(loss) - lossD) <= 1e-5 * lossD, "loss \(loss) vs \(lossD)")
        for (f, d) in zip(floatGrads, doubleGrads) {
            let largest = d.storage.map(abs).max() ?? 0
            #expect(largest > 0)
            #expect(maxAbsDifference(f.converted(to: Double.self), d) <= 1e-4 * largest,
                    "gradient [\(d.rows), \(d.columns)]: \(maxAbsDifference(f.converted(to: Double.self), d)) of \(largest)")
        }
        // and the Double gradients are the loss's derivatives: five-point central differences
        // (h = 1e-3, error O(h⁴)) on a few weights, within the project's 1e-6 relative error
        for (layer, index) in [(0, 0), (0, 12_345), (1, 777), (2, 321)] {
            func loss(shiftedBy shift: Double) -> Double {
                var shifted = weights.map { $0.converted(to: Double.self) }
                shifted[layer].storage[index] += shift
                return Self.gradients(Double.self, inputs: x.converted(), labels: labels, weights: shifted,
                                      biases: biases.map { $0.converted() }).0
            }
            let h = 1e-3
            let numeric = (8 * (loss(shiftedBy: h) - loss(shiftedBy: -h)) - (loss(shiftedBy: 2 * h) - loss(shiftedBy: -2 * h)))
                / (12 * h)
            let analytic = doubleGrads[layer].storage[index]
            #expect(abs(numeric - analytic) / max(abs(numeric), abs(analytic), 1e-4) <= 1e-6,
                    "layer \(layer) weight \(index): \(numeric) vs \(doubleGrads[layer].storage[index])")
        }
    }
}
