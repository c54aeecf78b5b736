// KernelTests.swift — every Shared kernel against a plain-loop reference written from its formula.

import Foundation
import Testing
@testable import Shared
import TestSupport

func maxAbsDifference<T: NeuralScalar>(_ a: Matrix<T>, _ b: Matrix<T>) -> Double {
    precondition(a.shape == b.shape)
    return zip(a.storage, b.storage).map { abs(Double($0) - Double($1)) }.max() ?? 0
}

@Suite("Shared kernels against plain loops")
struct KernelTests {
    /// `op(A)·op(B)` by three nested loops, in Double.
    func referenceProduct(_ a: Matrix<Double>, _ ta: Bool, _ b: Matrix<Double>, _ tb: Bool) -> Matrix<Double> {
        let opA = ta ? a.transposed() : a
        let opB = tb ? b.transposed() : b
        var c = Matrix<Double>(rows: opA.rows, columns: opB.columns)
        for i in 0..<opA.rows {
            for j in 0..<opB.columns {
                var sum = 0.0
                for p in 0..<opA.columns { sum += opA[i, p] * opB[p, j] }
                c[i, j] = sum
            }
        }
        return c
    }

    @Test("gemm: every transpose combination, Double and Float, with alpha and beta",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesLoops(transposeA: Bool, transposeB: Bool) {
        let (m, k, n) = (7, 5, 3)
        let a = randomMatrix(transposeA ? k : m, transposeA ? m : k, seed: 1, as: Double.self)
        let b = randomMatrix(transposeB ? n : k, transposeB ? k : n, seed: 2, as: Double.self)
        let c0 = randomMatrix(m, n, seed: 3, as: Double.self)
        let expected = referenceProduct(a, transposeA, b, transposeB)

        var c = Matrix<Double>(rows: m, columns: n, repeating: .nan)   // β = 0 must not read C
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
        #expect(maxAbsDifference(c, expected) < 1e-13)

        var cAccumulate = c0                                           // C ← 2·AB + 0.5·C
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &cAccumulate, alpha: 2, beta: 0.5)
        var expectedAccumulate = expected
        for i in 0..<expectedAccumulate.count {
            expectedAccumulate.storage[i] = 2 * expected.storage[i] + 0.5 * c0.storage[i]
        }
        #expect(maxAbsDifference(cAccumulate, expectedAccumulate) < 1e-13)

        var cFloat = Matrix<Float>(rows: m, columns: n)
        gemm(a.converted(to: Float.self), transposeA: transposeA, b.converted(to: Float.self),
             transposeB: transposeB, into: &cFloat)
        #expect(maxAbsDifference(cFloat.converted(to: Double.self), expected) < 1e-5)
    }

    @Test("gemm with an empty inner dimension gives β·C")
    func gemmEmptyInner() {
        let a = Matrix<Double>(rows: 2, columns: 0)
        let b = Matrix<Double>(rows: 0, columns: 3)
        var c = Matrix<Double>(rows: 2, columns: 3, repeating: 4)
        gemm(a, b, into: &c, beta: 0.5)
        #expect(c.storage == Array(repeating: 2, count: 6))
    }

    @Test("addBias broadcasts over rows; columnSums is its adjoint")
    func biasKernels() {
        let y0 = randomMatrix(4, 3, seed: 4, as: Double.self)
        let bias = Matrix<Double>([[1, -2, 0.5]])
        var y = y0
        addBias(bias, to: &y)
        for i in 0..<4 { for j in 0..<3 { #expect(y[i, j] == y0[i, j] + bias[0, j]) } }

        var sums = Matrix<Double>(rows: 1, columns: 3, repeating: 99)     // overwritten, not added
        columnSums(of: y0, into: &sums)
        for j in 0..<3 {
            let expected = (0..<4).reduce(0.0) { $0 + y0[$1, j] }
            #expect(abs(sums[0, j] - expected) < 1e-15)
        }
    }

    @Test("tanh and sigmoid: forward by formula, backward by the derivative from the output")
    func activations() {
        let z = randomMatrix(5, 4, seed: 5, in: -4...4, as: Double.self)
        let upstream = randomMatrix(5, 4, seed: 6, as: Double.self)
        var a = Matrix<Double>(rows: 5, columns: 4)
        var dz = Matrix<Double>(rows: 5, columns: 4)

        tanhForward(z, into: &a)
        tanhBackward(output: a, outputGradient: upstream, into: &dz)
        for i in 0..<z.count {
            let x = z.storage[i]
            #expect(abs(a.storage[i] - Foundation.tanh(x)) < 1e-15)
            let derivative = 1 / (Foundation.cosh(x) * Foundation.cosh(x))    // d tanh/dx = sech²
            #expect(abs(dz.storage[i] - upstream.storage[i] * derivative) < 1e-12)
        }

        sigmoidForward(z, into: &a)
        sigmoidBackward(output: a, outputGradient: upstream, into: &dz)
        for i in 0..<z.count {
            let x = z.storage[i]
            let s = 1 / (1 + Foundation.exp(-x))
            #expect(abs(a.storage[i] - s) < 1e-15)
            let derivative = Foundation.exp(-x) / ((1 + Foundation.exp(-x)) * (1 + Foundation.exp(-x)))
            #expect(abs(dz.storage[i] - upstream.storage[i] * derivative) < 1e-12)
        }
    }

    @Test("sigmoid saturates to exactly 0 and 1 without NaN in Float")
    func sigmoidExtremes() {
        let z = Matrix<Float>([[-1000, -100, 0, 100, 1000]])
        var a = Matrix<Float>(rows: 1, columns: 5)
        sigmoidForward(z, into: &a)
        #expect(a.storage == [0, 0, 0.5, 1, 1])
    }

    @Test("softmax cross-entropy: loss against a direct formula, gradient against finite differences")
    func softmaxCrossEntropy() {
        let z = randomMatrix(4, 5, seed: 7, in: -3...3, as: Double.self)
        let labels: [Int32] = [0, 4, 2, 2]
        var p = Matrix<Double>(rows: 4, columns: 5)
        let loss = softmaxCrossEntropyForward(logits: z, labels: labels, probabilities: &p)

        var expected = 0.0
        for i in 0..<4 {
            let sum = (0..<5).reduce(0.0) { $0 + Foundation.exp(z[i, $1]) }
            for j in 0..<5 { #expect(abs(p[i, j] - Foundation.exp(z[i, j]) / sum) < 1e-15) }
            expected += -Foundation.log(Foundation.exp(z[i, Int(labels[i])]) / sum)
        }
        #expect(abs(loss - expected / 4) < 1e-14)

        var dz = Matrix<Double>(rows: 4, columns: 5)
        softmaxCrossEntropyBackward(probabilities: p, labels: labels, outputGradient: 1, into: &dz)
        var scratch = p
        for index in 0..<z.count {
            let h = 1e-6
            var plus = z, minus = z
            plus.storage[index] += h
            minus.storage[index] -= h
            let numeric = (softmaxCrossEntropyForward(logits: plus, labels: labels, probabilities: &scratch)
                - softmaxCrossEntropyForward(logits: minus, labels: labels, probabilities: &scratch)) / (2 * h)
            #expect(abs(dz.storage[index] - numeric) < 1e-9)
        }
    }

    @Test("softmax cross-entropy stays finite for huge logits (log-sum-exp)")
    func softmaxLargeLogits() {
        let z = Matrix<Float>([[1000, 0, -1000], [50_000, 50_000, 0]])
        var p = Matrix<Float>(rows: 2, columns: 3)
        let loss = softmaxCrossEntropyForward(logits: z, labels: [0, 1], probabilities: &p)
        #expect(loss.isFinite)
        #expect(abs(loss - Float.log(2) / 2) < 1e-6)      // row 1: 0, row 2: log 2
        #expect(p.storage.allSatisfy { $0.isFinite })
    }

    @Test("mean squared error and its gradient")
    func meanSquaredError() {
        let yHat = randomMatrix(6, 2, seed: 8, as: Double.self)
        let y = randomMatrix(6, 2, seed: 9, as: Double.self)
        let loss = meanSquaredErrorForward(predictions: yHat, targets: y)
        let expected = zip(yHat.storage, y.storage).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / 12
        #expect(abs(loss - expected) < 1e-15)

        var d = Matrix<Double>(rows: 6, columns: 2)
        meanSquaredErrorBackward(predictions: yHat, targets: y, outputGradient: 3, into: &d)
        for i in 0..<12 { #expect(abs(d.storage[i] - 3 * 2 * (yHat.storage[i] - y.storage[i]) / 12) < 1e-15) }
    }

    /// `w − η·g` rounded once to Float: `addingProduct` is IEEE 754's fused multiply-add.
    static func correctlyRoundedStep(_ w: Float, _ g: Float, _ lr: Float) -> Float {
        w.addingProduct(-lr, g)
    }

    @Test("SGD update is w − lr·g, rounded once")
    func sgd() {
        var w = Matrix<Float>([[1, 2], [3, 4]])
        sgdUpdate(&w, gradient: Matrix([[10, -10], [0.5, 0]]), learningRate: 0.1)
        let lr: Float = 0.1
        // 1 − 0.1f·10: 0.1f·10 rounds to exactly 1 in Float, so two roundings would give 0.
        #expect(w.storage[0] == -0x1p-26 && w.storage[0] == Self.correctlyRoundedStep(1, 10, lr))
        #expect(w.storage == [Self.correctlyRoundedStep(1, 10, lr), Self.correctlyRoundedStep(2, -10, lr),
                              Self.correctlyRoundedStep(3, 0.5, lr), Self.correctlyRoundedStep(4, 0, lr)])
    }

    @Test("SGD rounds every element once, at sizes BLAS splits across threads and leaves remainders of",
          arguments: [1, 10, 64, 100, 127, 640, 8_192, 10_048, 78_500, 100_352, 100_353])
    func sgdAtEverySize(count: Int) {
        var generator = SplitMix64(state: UInt64(count))
        let g = (0..<count).map { _ in Float.random(in: -0.05...0.05, using: &generator) }
        // Every other weight is fl(η·g) itself: then w − fl(η·g) is exactly 0, while the
        // correctly rounded result is the (non-zero) rounding error of η·g. So an element
        // rounded twice almost always shows, wherever it is.
        let w0 = (0..<count).map { i in
            i % 2 == 0 ? 0.1 * g[i] : Float.random(in: -0.3...0.3, using: &generator)
        }
        var w = Matrix<Float>(rows: 1, columns: count, storage: w0)
        sgdUpdate(&w, gradient: Matrix(rows: 1, columns: count, storage: g), learningRate: 0.1)
        let wrong = (0..<count).filter { w.storage[$0] != Self.correctlyRoundedStep(w0[$0], g[$0], 0.1) }
        #expect(wrong.isEmpty, "\(wrong.count) of \(count) elements differ, first at \(wrong.first ?? -1)")
        #expect((0..<count).contains { w0[$0] - 0.1 * g[$0] != w.storage[$0] })   // the check can tell
    }

    @Test("accumulate")
    func accumulateAddsElementwise() {
        var y = Matrix<Double>([[1, 2, 3]])
        accumulate(Matrix([[0.5, 0.5, -3]]), into: &y)
        #expect(y.storage == [1.5, 2.5, 0])
    }

    @Test("argmax, accuracy and R²")
    func metrics() {
        let scores = Matrix<Float>([[0.1, 0.7, 0.2], [0.5, 0.5, 0], [0, 0, 1]])
        #expect(argmaxRows(scores) == [1, 0, 2])                          // ties: first index
        #expect(correctPredictions(scores, labels: [1, 1, 2]) == 2)

        let targets = Matrix<Double>([[1], [2], [3], [4]])
        let predictions = Matrix<Double>([[1.5], [2], [2.5], [4]])
        var r2 = RSquaredAccumulator()
        r2.add(predictions: Matrix(rows: 2, columns: 1, storage: Array(predictions.storage[0..<2])),
               targets: Matrix(rows: 2, columns: 1, storage: Array(targets.storage[0..<2])))
        r2.add(predictions: Matrix(rows: 2, columns: 1, storage: Array(predictions.storage[2..<4])),
               targets: Matrix(rows: 2, columns: 1, storage: Array(targets.storage[2..<4])))
        // SS_res = 0.25 + 0.25 = 0.5; SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5
        #expect(abs(r2.value - (1 - 0.5 / 5)) < 1e-15)
        #expect(abs(r2.meanSquaredError - 0.125) < 1e-15)
    }

    @Test("kernel tracing records calls and shapes only while enabled")
    func tracing() {
        var c = Matrix<Float>(rows: 2, columns: 4)
        let a = Matrix<Float>(rows: 2, columns: 3), b = Matrix<Float>(rows: 4, columns: 3)
        gemm(a, b, transposeB: true, into: &c)                  // not recorded
        let line = #line + 1
        let (_, calls) = KernelTrace.recording { gemm(a, b, transposeB: true, into: &c) }
        // With no framework around it, a call's origin is the line that called it.
        let ours = KernelTrace.Call(kernel: "gemm", shapes: "A[2,3]·Bᵀ[4,3]", origin: "KernelTests.swift:\(line) tracing")
        #expect(calls == [ours])
        // A name entered around a call becomes its origin; names nest, and leave.
        let (_, named) = KernelTrace.recording {
            KernelTrace.within("outer") {
                let inner = KernelTrace.enter("inner")
                gemm(a, b, transposeB: true, into: &c)
                inner.leave()
                gemm(a, b, transposeB: true, into: &c)
            }
        }
        #expect(named.filter { $0.shapes == ours.shapes }.map(\.origin) == ["outer → inner", "outer"])
    }

    @Test("recordings on two threads at once each get their own calls, and no one else's")
    func tracingPerThread() async {
        // Swift Testing runs tests in parallel: compare-levels' trace tests record at the same
        // time, and each must see only its own step.
        let results = await withTaskGroup(of: (Int, [KernelTrace.Call]).self) { group in
            for rows in [2, 3, 5, 7] {
                group.addTask {
                    let a = Matrix<Float>(rows: rows, columns: 3), b = Matrix<Float>(rows: 4, columns: 3)
                    var c = Matrix<Float>(rows: rows, columns: 4)
                    let (_, calls) = KernelTrace.recording {
                        for _ in 0..<200 { gemm(a, b, transposeB: true, into: &c) }
                    }
                    return (rows, calls)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.map(\.0).sorted() == [2, 3, 5, 7])                 // every task's recording came back
        for (rows, calls) in results {
            #expect(calls.count == 200)
            #expect(calls.allSatisfy { $0.shapes == "A[\(rows),3]·Bᵀ[4,3]" })
        }
    }
}
