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
import TestSupport

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

        let manualOutputs = manual.z3                                // before the update
        let network = DifferentiableNetwork<Float>(task: task)
        let parameters = DifferentiableNetwork<Float>.Parameters(initial)
        let (loss, gradient) = valueWithGradient(at: parameters) { p in network.loss(p, batch) }
        let updated = network.update(parameters, along: gradient, learningRate: 0.1)

        // The training loop's form, with the outputs beside the loss (JAX's has_aux): the same.
        let (auxiliaryLoss, z3, auxiliaryGradient) = valueWithGradient(at: parameters) { p in
            network.lossAndOutputs(p, batch)
        }
        #expect(auxiliaryLoss.bitPattern == loss.bitPattern)
        #expect(firstDifference(z3, manualOutputs) == nil)
        for (a, b) in zip(auxiliaryGradient.tensors, gradient.tensors) { #expect(firstDifference(a, b) == nil) }

        #expect(loss.bitPattern == manualLoss.bitPattern)
        #expect(loss.isFinite && loss > 0)
        for ((name, expected), actual) in zip(manual.gradients.namedTensors, gradient.tensors) {
            #expect(firstDifference(actual, expected) == nil, "∂ℓ/∂\(name)")
        }
        #expect(firstDifference(updated.networkParameters(shape: initial.shape), manual.parameters) == nil)
        #expect(updated.networkParameters(shape: initial.shape) != initial)           // it did step
        #expect(firstDifference(parameters.networkParameters(shape: initial.shape), initial) == nil)   // the old value is intact
        let manualLossAfter = manual.forward(batch)                  // evaluation after the step: same bits
        let (lossAfter, outputs) = network.evaluate(updated, batch)
        #expect(lossAfter.bitPattern == manualLossAfter.bitPattern && lossAfter < loss)
        #expect(firstDifference(outputs, manual.outputs) == nil)
    }

    @Test("one step makes Level 4's kernel calls: same kernels, same shapes, same order", arguments: Task.allCases)
    func kernelCalls(task: Task) throws {
        let job = TracedShapes.job(task)
        let initial = job.initialParameters
        let batch = job.train.batch(rows: 0..<TracedShapes.batch)
        let network = DifferentiableNetwork<Float>(task: task)

        let expected = TracedShapes.calls {
            var manual = ManualNetwork(parameters: initial, learningRate: 0.1)
            _ = manual.forward(batch)
            manual.backward(batch)
            manual.update()
        }
        let calls = TracedShapes.calls {
            var parameters = DifferentiableNetwork<Float>.Parameters(initial)
            let (_, gradient) = valueWithGradient(at: parameters) { p in network.loss(p, batch) }
            parameters = network.update(parameters, along: gradient, learningRate: 0.1)
        }

        #expect(expected.count == 9 + 11 + 6)                   // forward, backward, update
        #expect(calls == expected)
        #expect(!calls.contains { $0.hasPrefix("accumulate") })  // the compiler never had to add two gradients
        #expect(calls.filter { $0.hasPrefix("gemm") }.count == 3 + 5)   // fc1's dx = g·W1 is never computed
    }

    @Test("the training loop's first step, as compare-levels --trace records it: Level 4's calls", arguments: Task.allCases)
    func loopKernelCalls(task: Task) throws {
        var job = TracedShapes.job(task)
        job.shouldStop = { true }                               // stop after the first step
        let expected = TracedShapes.calls { _ = try? ManualNetwork.run(job) }
        let calls = TracedShapes.calls { _ = try? DifferentiableNetwork.run(job) }
        #expect(expected.count == 9 + 11 + 6)
        #expect(calls == expected)
    }

    @Test("2 epochs of 200 samples in batches of 64 (the last has 8): every step loss, the final weights and the test metrics, bit for bit",
          arguments: Task.allCases)
    func training(task: Task) throws {
        let (train, test) = try slice(task, train: 200, test: 100, regressionSeed: 7)
        let job = TrainingJob(style: "test", train: train, test: test,
                              initialParameters: .glorotNormal(shape: .standard(for: task), seed: 42),
                              recipe: Recipe(epochs: 2, batchSize: 64, learningRate: 0.1, seed: 42))
        let manual = try ManualNetwork.run(job)
        let differentiable = try DifferentiableNetwork.run(job)

        #expect(differentiable.result.stopError == nil)
        #expect(differentiable.result.epochs.count == 2)
        #expect(differentiable.result.stepLosses.count == 2 * 4)
        #expect(differentiable.result.stepLosses.map(\.bitPattern) == manual.result.stepLosses.map(\.bitPattern))
        #expect(firstDifference(differentiable.parameters, manual.parameters) == nil)
        #expect(differentiable.parameters != job.initialParameters)         // it did train
        for (a, b) in zip(differentiable.result.epochs, manual.result.epochs) {
            #expect(a.trainLoss == b.trainLoss && a.testLoss == b.testLoss)
            #expect(a.trainAccuracy == b.trainAccuracy && a.trainR2 == b.trainR2)       // from each step's z3
            #expect(a.testAccuracy == b.testAccuracy && a.testR2 == b.testR2)
            #expect((task == .classification ? a.trainAccuracy : a.trainR2) != nil)
        }
        let last = try #require(differentiable.result.epochs.last), first = try #require(differentiable.result.epochs.first)
        #expect(last.trainLoss < first.trainLoss || task == .regression)   // classification learns visibly in 2 epochs
    }
}

/// A network and batch of their own sizes (29 → 23 → 17 → 13, batches of 50), so that a call's
/// shapes say which layer made it.
enum TracedShapes {
    static let batch = 50

    /// Training data and initial weights of those sizes, for one step of `task`.
    static func job(_ task: Task) -> TrainingJob {
        let shape = NetworkShape(task: task, inputSize: 29, hidden: [23, 17], outputSize: 13)
        let inputs = randomMatrix(batch, 29, seed: 11, in: 0...1, as: Float.self)
        let train = task == .classification
            ? Dataset.classification(inputs: inputs, labels: (0..<batch).map { Int32($0 % 13) }, classCount: 13)
            : Dataset.regression(inputs: inputs, targets: randomMatrix(batch, 13, seed: 12, as: Float.self))
        return TrainingJob(style: "trace", train: train, test: train,
                           initialParameters: .glorotNormal(shape: shape, seed: 42),
                           recipe: Recipe(epochs: 1, batchSize: batch, learningRate: 0.1, seed: 42))
    }

    /// The calls `body` makes on this thread (recording is per thread, KernelTrace.swift, so
    /// suites tracing at the same time do not see each other's calls).
    static func calls(of body: () -> Void) -> [String] {
        KernelTrace.recording(body).calls.map(\.description)
    }
}
