// GradientCheckTests.swift — the compiler's gradients against central finite differences, in
// Double: each registered derivative alone, then the whole loss, both tasks.
//
// Teaches: a registered derivative is a claim the compiler trusts without checking; these tests
// check it. And the compiler's chaining of them is checked by the whole-network case.
// Leaves out: Float (finite differences need Double's precision; Float is checked bit for bit
// against Level 4 in AgreementTests).

import _Differentiation
import Testing
@testable import Level3Differentiable
@testable import Shared
import TestSupport

@Suite("Level 3 differentiable: gradients against finite differences (Double)")
struct GradientCheckTests {
    @Test("dense, with respect to x, W and b (a hidden layer)")
    func denseAll() {
        let inputs = [randomMatrix(5, 4, seed: 1, as: Double.self), randomMatrix(3, 4, seed: 2, as: Double.self),
                      randomMatrix(1, 3, seed: 3, as: Double.self)]
        let (dx, dW, db) = gradient(at: inputs[0], inputs[1], inputs[2]) { x, w, b in weightedSum(dense(x, w, b)) }
        let worst = worstGradientError(inputs, analytic: [dx, dW, db]) { m in weightedSum(dense(m[0], m[1], m[2])) }
        #expect(worst <= 1e-6, "worst relative error \(worst)")
    }

    @Test("dense, with respect to W and b only (the first layer: x is data), and dx is not computed")
    func denseWeightAndBias() {
        let x = randomMatrix(TracedShapes.batch, 29, seed: 1, as: Double.self)     // shapes of no other suite
        let inputs = [randomMatrix(23, 29, seed: 2, as: Double.self), randomMatrix(1, 23, seed: 3, as: Double.self)]
        let (dW, db) = gradient(at: inputs[0], inputs[1]) { w, b in weightedSum(dense(x, w, b)) }
        let worst = worstGradientError(inputs, analytic: [dW, db]) { m in weightedSum(dense(x, m[0], m[1])) }
        #expect(worst <= 1e-6, "worst relative error \(worst)")

        // Forward gemm and addBias, then the pullback registered for (weight, bias): no dx = g·W.
        let calls = TracedShapes.calls {
            _ = gradient(at: inputs[0], inputs[1]) { w, b in weightedSum(dense(x, w, b)) }
        }
        #expect(calls == ["gemm A[50,29]·Bᵀ[23,29]", "addBias [50,23]", "columnSums [50,23]", "gemm Aᵀ[50,23]·B[50,29]"])
    }

    @Test("tanh")
    func tanhGradient() {
        let inputs = [randomMatrix(4, 5, seed: 4, in: -2...2, as: Double.self)]
        let dz = gradient(at: inputs[0]) { z in weightedSum(tanh(z)) }
        let worst = worstGradientError(inputs, analytic: [dz]) { m in weightedSum(tanh(m[0])) }
        #expect(worst <= 1e-6, "worst relative error \(worst)")
    }

    @Test("sigmoid")
    func sigmoidGradient() {
        let inputs = [randomMatrix(4, 5, seed: 5, in: -3...3, as: Double.self)]
        let dz = gradient(at: inputs[0]) { z in weightedSum(sigmoid(z)) }
        let worst = worstGradientError(inputs, analytic: [dz]) { m in weightedSum(sigmoid(m[0])) }
        #expect(worst <= 1e-6, "worst relative error \(worst)")
    }

    @Test("softmaxCrossEntropy (fused), scaled so that the seed g ≠ 1 is checked too")
    func softmaxCrossEntropyGradient() {
        let labels: [Int32] = [0, 3, 1, 1, 2]
        let inputs = [randomMatrix(5, 4, seed: 6, in: -3...3, as: Double.self)]
        let dz = gradient(at: inputs[0]) { z in 1.7 * softmaxCrossEntropy(logits: z, labels: labels) }
        let worst = worstGradientError(inputs, analytic: [dz]) { m in 1.7 * softmaxCrossEntropy(logits: m[0], labels: labels) }
        #expect(worst <= 1e-6, "worst relative error \(worst)")
    }

    @Test("meanSquaredError, scaled so that the seed g ≠ 1 is checked too")
    func meanSquaredErrorGradient() {
        let targets = randomMatrix(5, 2, seed: 7, as: Double.self)
        let inputs = [randomMatrix(5, 2, seed: 8, as: Double.self)]
        let dPredictions = gradient(at: inputs[0]) { y in 1.3 * meanSquaredError(predictions: y, targets: targets) }
        let worst = worstGradientError(inputs, analytic: [dPredictions]) { m in
            1.3 * meanSquaredError(predictions: m[0], targets: targets)
        }
        #expect(worst <= 1e-6, "worst relative error \(worst)")
    }

    @Test("the empty matrix is the zero gradient: adding it changes nothing, not even the sign of −0.0")
    func zero() {
        let g = Matrix<Double>(rows: 1, columns: 3, storage: [-0.0, 1.5, -2])
        #expect((g + .zero).storage.map(\.bitPattern) == g.storage.map(\.bitPattern))
        #expect((Matrix.zero + g).storage.map(\.bitPattern) == g.storage.map(\.bitPattern))
        #expect((g - .zero) == g)
        #expect((Matrix.zero - g).storage == [0, -1.5, 2])
        #expect((g + g).storage == [0, 3, -4])
    }

    @Test("the whole loss: every parameter element (small shapes)", arguments: Task.allCases)
    func network(task: Task) {
        let shape = task == .classification
            ? NetworkShape(task: task, inputSize: 6, hidden: [5, 4], outputSize: 3)
            : NetworkShape(task: task, inputSize: 3, hidden: [6, 5], outputSize: 2)
        let network = DifferentiableNetwork<Double>(task: task)
        let parameters = DifferentiableNetwork<Double>.Parameters(.glorotNormal(shape: shape, seed: 9))
        let inputs = randomMatrix(7, shape.inputSize, seed: 4, in: 0...1, as: Double.self)
        let batch = task == .classification
            ? Batch(inputs: inputs, labels: [0, 1, 2, 2, 1, 0, 1], targets: Matrix(rows: 0, columns: 0))
            : Batch(inputs: inputs, labels: [], targets: randomMatrix(7, 2, seed: 5, as: Double.self))

        let (loss, gradient) = valueWithGradient(at: parameters) { p in network.loss(p, batch) }
        #expect(loss == network.loss(parameters, batch))
        #expect(loss > 0)

        func lossAt(_ tensors: [Matrix<Double>]) -> Double {
            var p = parameters
            (p.w1, p.b1, p.w2, p.b2, p.w3, p.b3) = (tensors[0], tensors[1], tensors[2], tensors[3], tensors[4], tensors[5])
            return network.loss(p, batch)
        }
        let worst = worstGradientError(parameters.tensors, analytic: gradient.tensors, lossAt)
        #expect(worst <= 1e-6, "worst relative error \(worst)")
    }
}
