// UpdateTests.swift — the functional update: a new value from the old one, in the old one's
// memory when the caller gives it away.
//
// Teaches: "functional" is about what the caller sees, not about copying: a value nobody else
// holds can be updated where it is.
// Leaves out: the arithmetic of the update (Shared's sgdUpdate, checked in AgreementTests
// against Level 4's update).

import _Differentiation
import Testing
@testable import Level3Differentiable
@testable import Shared
import TestSupport

@Suite("Level 3 differentiable: the functional update")
struct UpdateTests {
    /// The address of a matrix's elements.
    static func address(_ matrix: Matrix<Float>) -> UnsafeRawPointer? {
        matrix.storage.withUnsafeBytes { $0.baseAddress }
    }

    @Test("a kept value is not changed; a consumed one is updated in its own buffers")
    func update() throws {
        let shape = NetworkShape(task: .regression, inputSize: 3, hidden: [6, 5], outputSize: 1)
        let network = DifferentiableNetwork<Float>(task: .regression)
        let batch = Batch(inputs: randomMatrix(8, 3, seed: 1, as: Float.self), labels: [],
                          targets: randomMatrix(8, 1, seed: 2, as: Float.self))
        let start = DifferentiableNetwork<Float>.Parameters(.glorotNormal(shape: shape, seed: 3))
        let gradient = gradient(at: start) { p in network.loss(p, batch) }

        let kept = start
        let next = network.update(kept, along: gradient, learningRate: 0.1)        // kept is used below
        #expect(kept.tensors == start.tensors)
        #expect(next.tensors != start.tensors)
        #expect(Self.address(next.w1) != Self.address(kept.w1))

        var parameters = next                                   // the only holder once `next` is gone
        _ = consume next
        let w1 = Self.address(parameters.w1), b3 = Self.address(parameters.b3)
        parameters = network.update(consume parameters, along: gradient, learningRate: 0.1)
        #expect(Self.address(parameters.w1) == w1 && Self.address(parameters.b3) == b3)
        let g = gradient.w1.storage[0]                          // two steps of w ← w − η·g, each rounded once
        #expect(parameters.w1.storage[0] == kept.w1.storage[0].addingProduct(-0.1, g).addingProduct(-0.1, g))
    }

    @Test("parameters made from the shared weights have elements of their own, so the first update writes in place")
    func ownsElements() {
        let initial = NetworkParameters<Float>.glorotNormal(shape: .standard(for: .regression), seed: 3)
        let parameters = DifferentiableNetwork<Float>.Parameters(initial)
        #expect(parameters.networkParameters(shape: initial.shape) == initial)
        let mine = parameters.tensors.map(Self.address), theirs = initial.namedTensors.map { Self.address($0.matrix) }
        #expect(zip(mine, theirs).allSatisfy { $0 != $1 })
    }
}
