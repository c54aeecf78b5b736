// GradientCheckTests.swift — every op's backward closure against central finite differences,
// in Double: each op alone, tensors used twice in one graph, broadcasting, einsum, a user-defined
// op, and the whole network.
//
// Teaches: a backward closure is correct when it agrees with the slope measured numerically.
// Leaves out: Float (finite differences need Double's precision; Float is checked bit for bit
// against Level 4 in LevelAgreementTests).

import Testing
@testable import Level3Autograd
@testable import Shared
import TestSupport

/// One graph to check: its inputs and the scalar it builds from them.
struct GradientCase: Sendable, CustomTestStringConvertible {
    var name: String
    var shapes: [(rows: Int, columns: Int)]
    /// Inputs that must stay positive (log) or away from zero (a divisor) are shifted here.
    var range: ClosedRange<Double> = -1...1
    var requiresGrad: [Bool]? = nil
    var build: @Sendable ([Tensor<Double>]) throws -> Tensor<Double>

    var testDescription: String { name }

    var inputs: [Matrix<Double>] {
        var matrices: [Matrix<Double>] = []
        for (n, shape) in shapes.enumerated() {
            let seed = UInt64(100 + n)
            matrices.append(randomMatrix(shape.rows, shape.columns, seed: seed, in: range, as: Double.self))
        }
        return matrices
    }
}

let singleOpCases: [GradientCase] = [
    GradientCase(name: "matmul A·B", shapes: [(4, 3), (3, 5)]) { t in weightedSum(t[0].matmul(t[1])) },
    GradientCase(name: "matmul A·Bᵀ", shapes: [(4, 3), (5, 3)]) { t in weightedSum(t[0].matmul(t[1], transposeB: true)) },
    GradientCase(name: "matmul Aᵀ·B", shapes: [(3, 4), (3, 5)]) { t in weightedSum(t[0].matmul(t[1], transposeA: true)) },
    GradientCase(name: "matmul Aᵀ·Bᵀ", shapes: [(3, 4), (5, 3)]) { t in
        weightedSum(t[0].matmul(t[1], transposeA: true, transposeB: true))
    },
    GradientCase(name: "matmul with data that needs no grad (dx skipped)", shapes: [(4, 3), (5, 3)],
                 requiresGrad: [false, true]) { t in weightedSum(t[0].matmul(t[1], transposeB: true)) },
    GradientCase(name: "+ same shape", shapes: [(3, 4), (3, 4)]) { t in weightedSum(t[0] + t[1]) },
    GradientCase(name: "+ bias [1, O] broadcast over rows", shapes: [(5, 4), (1, 4)]) { t in weightedSum(t[0] + t[1]) },
    GradientCase(name: "+ bias on the left", shapes: [(1, 4), (5, 4)]) { t in weightedSum(t[0] + t[1]) },
    GradientCase(name: "+ column [B, 1] broadcast over columns", shapes: [(5, 4), (5, 1)]) { t in weightedSum(t[0] + t[1]) },
    GradientCase(name: "+ scalar tensor [1, 1]", shapes: [(3, 4), (1, 1)]) { t in weightedSum(t[0] + t[1]) },
    GradientCase(name: "+ row and column to a matrix [3, 1] + [1, 4]", shapes: [(3, 1), (1, 4)]) { t in
        weightedSum(t[0] + t[1])
    },
    GradientCase(name: "− with broadcasting both ways", shapes: [(3, 4), (1, 4), (3, 1)]) { t in
        weightedSum(t[0] - t[1]) + weightedSum(t[2] - t[0], seed: 5)
    },
    GradientCase(name: "* elementwise and broadcast", shapes: [(3, 4), (3, 4), (1, 4)]) { t in
        weightedSum(t[0] * t[1] * t[2])
    },
    GradientCase(name: "/ elementwise and broadcast", shapes: [(3, 4), (3, 1)], range: 0.5...2) { t in
        weightedSum(t[0] / t[1]) + weightedSum(t[1] / t[0], seed: 6)
    },
    GradientCase(name: "scalar operands and negation", shapes: [(3, 4)], range: 0.5...2) { t in
        let x = t[0]
        let a: Tensor<Double> = 2 * x + 1.5
        let b: Tensor<Double> = (x * 3 - 0.5) / 4
        let c: Tensor<Double> = 1 / x - (-x)
        let d: Tensor<Double> = 0.25 - x
        return weightedSum(a - b + c - d)
    },
    GradientCase(name: "tanh", shapes: [(4, 5)], range: -2...2) { t in weightedSum(t[0].tanh()) },
    GradientCase(name: "sigmoid", shapes: [(4, 5)], range: -3...3) { t in weightedSum(t[0].sigmoid()) },
    GradientCase(name: "exp", shapes: [(4, 5)]) { t in weightedSum(t[0].exp()) },
    GradientCase(name: "log", shapes: [(4, 5)], range: 0.2...3) { t in weightedSum(t[0].log()) },
    GradientCase(name: "sum", shapes: [(4, 5)]) { t in t[0].sum() * t[0].sum() },
    GradientCase(name: "sum(axis: 0) and sum(axis: 1)", shapes: [(4, 5)]) { t in
        weightedSum(t[0].sum(axis: 0)) + weightedSum(t[0].sum(axis: 1), seed: 8)
    },
    GradientCase(name: "mean", shapes: [(4, 5)]) { t in t[0].mean() * t[0].mean() + t[0].mean() },
    GradientCase(name: "max(axis: 0) and max(axis: 1)", shapes: [(4, 5)]) { t in
        weightedSum(t[0].max(axis: 0)) + weightedSum(t[0].max(axis: 1), seed: 9)
    },
    GradientCase(name: "softmaxCrossEntropy (fused)", shapes: [(5, 4)], range: -3...3) { t in
        t[0].softmaxCrossEntropy(labels: [0, 3, 1, 1, 2]).loss * 1.7
    },
    GradientCase(name: "meanSquaredError, prediction and target", shapes: [(5, 2), (5, 2)]) { t in
        t[0].meanSquaredError(target: t[1]) * 1.3
    },
]

extension Tensor {
    /// The example op of `Tensor.init(_:operation:parents:backward:)`'s documentation:
    /// `y = x²`, `∂ℓ/∂x = 2x ⊙ g`.
    func squared() -> Tensor {
        let x = self
        let y = Matrix(rows: x.value.rows, columns: x.value.columns, storage: x.value.storage.map { $0 * $0 })
        return Tensor(y, operation: "squared", parents: [x]) { g in
            x.accumulateGradient(Matrix(rows: g.rows, columns: g.columns,
                                        storage: zip(g.storage, x.value.storage).map { 2 * $1 * $0 }))
        }
    }
}

let usedTwiceCases: [GradientCase] = [
    GradientCase(name: "a user-defined op (squared), used twice", shapes: [(3, 4)]) { t in
        weightedSum(t[0].squared() + t[0].squared().tanh())
    },
    GradientCase(name: "x * x", shapes: [(3, 4)]) { t in weightedSum(t[0] * t[0]) },
    GradientCase(name: "a + a", shapes: [(3, 4)]) { t in weightedSum(t[0] + t[0]) },
    GradientCase(name: "x − x·x (three uses)", shapes: [(3, 4)]) { t in weightedSum(t[0] - t[0] * t[0]) },
    GradientCase(name: "diamond: h = tanh(x), h·h + h", shapes: [(3, 4)]) { t in
        let h = t[0].tanh()
        return weightedSum(h * h + h)
    },
    GradientCase(name: "x·xᵀ (one tensor, both sides of a matmul)", shapes: [(3, 4)]) { t in
        weightedSum(t[0].matmul(t[0], transposeB: true))
    },
    GradientCase(name: "a weight shared by two layers", shapes: [(5, 4), (4, 4), (1, 4)]) { t in
        let h = (t[0].matmul(t[1], transposeB: true) + t[2]).tanh()
        return weightedSum((h.matmul(t[1], transposeB: true) + t[2]).sigmoid())
    },
]

let einsumSpecs: [(spec: String, a: (rows: Int, columns: Int), b: (rows: Int, columns: Int))] = [
    ("ij,jk->ik", (4, 3), (3, 5)), ("ij,kj->ik", (4, 3), (5, 3)), ("ji,jk->ik", (3, 4), (3, 5)),
    ("ji,kj->ik", (3, 4), (5, 3)), ("ij,jk->ki", (4, 3), (3, 5)), ("bi,oi->bo", (6, 3), (2, 3)),
    ("bi,i->b", (4, 3), (3, 1)), ("bi,i->b", (4, 3), (1, 3)), ("i,i->", (5, 1), (1, 5)),
    ("i,j->ij", (3, 1), (4, 1)), ("j,jk->k", (1, 3), (3, 4)),
    ("ij,ij->ij", (3, 4), (3, 4)), ("ij,jk->k", (4, 3), (3, 5)), ("ij,ij->i", (3, 4), (3, 4)),
    ("ij,ik->j", (3, 4), (3, 2)), ("ij,kl->il", (2, 3), (4, 2)),
]

let einsumCases: [GradientCase] = einsumSpecs.map { spec, a, b in
    GradientCase(name: "einsum \(spec) [\(a.rows), \(a.columns)]·[\(b.rows), \(b.columns)]", shapes: [a, b]) { t in
        weightedSum(try einsum(spec, t[0], t[1]))
    }
}

@Suite("Level 3: gradients against finite differences (Double)")
struct GradientCheckTests {
    @Test("each op alone", arguments: singleOpCases)
    func singleOp(_ testCase: GradientCase) throws {
        let worst = try worstGradientError(testCase.inputs, requiresGrad: testCase.requiresGrad, testCase.build)
        #expect(worst <= 1e-6, "worst relative error \(worst)")
    }

    @Test("tensors used more than once in one graph", arguments: usedTwiceCases)
    func usedTwice(_ testCase: GradientCase) throws {
        let worst = try worstGradientError(testCase.inputs, testCase.build)
        #expect(worst <= 1e-6, "worst relative error \(worst)")
    }

    @Test("einsum, gemm-lowered and loop specs", arguments: einsumCases)
    func einsumGradients(_ testCase: GradientCase) throws {
        let worst = try worstGradientError(testCase.inputs, testCase.build)
        #expect(worst <= 1e-6, "worst relative error \(worst)")
    }

    @Test("the whole network: every parameter element of AutogradNetwork (small shapes)", arguments: Task.allCases)
    func network(task: Task) throws {
        let shape = task == .classification
            ? NetworkShape(task: task, inputSize: 6, hidden: [5, 4], outputSize: 3)
            : NetworkShape(task: task, inputSize: 3, hidden: [6, 5], outputSize: 2)
        let parameters = NetworkParameters<Double>.glorotNormal(shape: shape, seed: 9)
        let inputs = randomMatrix(7, shape.inputSize, seed: 4, in: 0...1, as: Double.self)
        let batch = task == .classification
            ? Batch(inputs: inputs, labels: [0, 1, 2, 2, 1, 0, 1], targets: Matrix(rows: 0, columns: 0))
            : Batch(inputs: inputs, labels: [], targets: randomMatrix(7, 2, seed: 5, as: Double.self))
        let network = AutogradNetwork(parameters: parameters, learningRate: 0.1)
        network.forward(batch).loss.backward()

        let keyPaths: [WritableKeyPath<NetworkParameters<Double>, Matrix<Double>>] =
            [\.fc1.weight, \.fc1.bias, \.fc2.weight, \.fc2.bias, \.fc3.weight, \.fc3.bias]
        var worst = 0.0
        for (keyPath, tensor) in zip(keyPaths, network.parameters) {
            let analytic = try #require(tensor.grad)
            for index in analytic.storage.indices {
                let h = 1e-5
                var plus = parameters, minus = parameters
                plus[keyPath: keyPath].storage[index] += h
                minus[keyPath: keyPath].storage[index] -= h
                let lossPlus = withNoGrad { AutogradNetwork(parameters: plus, learningRate: 0.1).forward(batch).loss.scalar }
                let lossMinus = withNoGrad { AutogradNetwork(parameters: minus, learningRate: 0.1).forward(batch).loss.scalar }
                let numeric = (lossPlus - lossMinus) / (2 * h)
                let exact = analytic.storage[index]
                worst = max(worst, abs(exact - numeric) / max(abs(exact), abs(numeric), 1e-5))
            }
        }
        #expect(worst <= 1e-6, "worst relative error \(worst)")
    }
}
