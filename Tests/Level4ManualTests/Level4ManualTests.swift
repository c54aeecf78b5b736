// Level4ManualTests.swift — the hand-written backward pass against finite differences, and the
// trained network against accuracy gates on real data.

import Foundation
import Testing
@testable import Level4Manual
@testable import Shared

/// A batch of `count` random samples for `shape`, in Double.
func randomBatch(_ shape: NetworkShape, count: Int, seed: UInt64) -> Batch<Double> {
    var generator = SeededGenerator(seed: seed, stream: .custom(5))
    let inputs = Matrix<Double>(rows: count, columns: shape.inputSize,
                                storage: (0..<(count * shape.inputSize)).map { _ in generator.nextUnitInterval() })
    switch shape.task {
    case .classification:
        let labels = (0..<count).map { _ in Int32(generator.nextInt(below: shape.outputSize)) }
        return Batch(inputs: inputs, labels: labels, targets: Matrix(rows: 0, columns: 0))
    case .regression:
        let targets = Matrix<Double>(rows: count, columns: shape.outputSize,
                                     storage: (0..<(count * shape.outputSize)).map { _ in 2 * generator.nextUnitInterval() - 1 })
        return Batch(inputs: inputs, labels: [], targets: targets)
    }
}

/// Checks every gradient the backward pass produced against central differences
/// `(ℓ(w + h) − ℓ(w − h)) / 2h` in Double: all elements of each tensor, or `elementsPerTensor`
/// of them spread over it.
func checkGradients(shape: NetworkShape, batchSize: Int, elementsPerTensor: Int? = nil) {
    let parameters = NetworkParameters<Double>.glorotNormal(shape: shape, seed: 9)
    let batch = randomBatch(shape, count: batchSize, seed: 4)
    var network = ManualNetwork(parameters: parameters, learningRate: 0.1)
    _ = network.forward(batch)
    network.backward(batch)

    let layers: [WritableKeyPath<NetworkParameters<Double>, Matrix<Double>>] =
        [\.fc1.weight, \.fc1.bias, \.fc2.weight, \.fc2.bias, \.fc3.weight, \.fc3.bias]
    var worst = 0.0
    for keyPath in layers {
        let analytic = network.gradients[keyPath: keyPath]
        let count = analytic.count
        let indices = elementsPerTensor.map { n in (0..<n).map { ($0 * 7919) % count } } ?? Array(0..<count)
        for index in indices {
            let h = 1e-5
            var probe = ManualNetwork(parameters: parameters, learningRate: 0.1)
            probe.parameters[keyPath: keyPath].storage[index] += h
            let plus = probe.forward(batch)
            probe.parameters[keyPath: keyPath].storage[index] -= 2 * h
            let minus = probe.forward(batch)
            let numeric = (plus - minus) / (2 * h)
            let exact = analytic.storage[index]
            // Relative error, with a floor so that gradients that are zero compare absolutely.
            let error = abs(exact - numeric) / max(abs(exact), abs(numeric), 1e-6)
            worst = max(worst, error)
        }
    }
    #expect(worst <= 1e-6, "worst relative error \(worst)")
}

/// Level 4's own loop on `train`, evaluated on `test`.
func trainManual(_ train: Dataset<Float>, _ test: Dataset<Float>, _ initial: NetworkParameters<Float>,
                 _ recipe: Recipe) throws -> TrainedLevel {
    try ManualNetwork.run(TrainingJob(style: "manual", train: train, test: test, initialParameters: initial, recipe: recipe))
}

@Suite("Level 4: manual backprop")
struct Level4ManualTests {
    @Test("training on images kept as bytes gives the same weights, bit for bit, as on the same images stored as Float")
    func bytesTrainLikeFloats() throws {
        let shape = NetworkShape(task: .classification, inputSize: 20, hidden: [16, 8], outputSize: 10)
        var generator = SeededGenerator(seed: 3, stream: .custom(9))
        let bytes = (0..<(300 * 20)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let labels = (0..<300).map { _ in Int32(generator.nextInt(below: 10)) }
        let compact = Dataset<Float>.classification(pixels: bytes, rows: 300, columns: 20, labels: labels, classCount: 10)
        let expanded = Dataset.classification(
            inputs: Matrix(rows: 300, columns: 20, storage: bytes.map { Float($0) / 255 }), labels: labels, classCount: 10)
        let initial = NetworkParameters<Float>.glorotNormal(shape: shape, seed: 5)
        let recipe = Recipe(epochs: 2, batchSize: 32, learningRate: 0.5, seed: 11)
        let a = try trainManual(compact, compact.prefix(50), initial, recipe)
        let b = try trainManual(expanded, expanded.prefix(50), initial, recipe)
        #expect(a.result.stepLosses.count == 20 && a.result.stepLosses == b.result.stepLosses)
        #expect(a.parameters == b.parameters)
        #expect(a.parameters != initial)                            // it did train
    }

    @Test("classification gradients match finite differences (small network, every element)")
    func classificationGradientsSmall() {
        checkGradients(shape: NetworkShape(task: .classification, inputSize: 6, hidden: [5, 4], outputSize: 3),
                       batchSize: 4)
    }

    @Test("regression gradients match finite differences (small network, every element)")
    func regressionGradientsSmall() {
        checkGradients(shape: NetworkShape(task: .regression, inputSize: 3, hidden: [6, 5], outputSize: 1),
                       batchSize: 5)
    }

    @Test("gradients of the real shapes match finite differences (sampled elements)",
          arguments: Task.allCases)
    func realShapeGradients(task: Task) {
        checkGradients(shape: .standard(for: task), batchSize: 8, elementsPerTensor: 12)
    }

    @Test("a training step lowers the loss on the same batch, and the last partial batch works")
    func stepLowersLoss() {
        let shape = NetworkShape(task: .classification, inputSize: 6, hidden: [5, 4], outputSize: 3)
        var network = ManualNetwork(parameters: .glorotNormal(shape: shape, seed: 1), learningRate: 0.5)
        let batch = randomBatch(shape, count: 7, seed: 2)
        let first = network.trainStep(on: batch)
        let second = network.trainStep(on: batch)
        #expect(second < first)
        let small = randomBatch(shape, count: 3, seed: 3)     // buffers shrink to 3 rows
        #expect(network.trainStep(on: small).isFinite)
        #expect(network.trainStep(on: batch).isFinite)       // and grow back
    }

    @Test("the network owns its weights from the start: copied when made, updated in place, the caller's untouched")
    func ownsWeights() {
        let shape = NetworkShape(task: .classification, inputSize: 6, hidden: [5, 4], outputSize: 3)
        let initial = NetworkParameters<Double>.glorotNormal(shape: shape, seed: 1)
        func addresses(_ p: NetworkParameters<Double>) -> [UnsafeRawPointer?] {
            p.namedTensors.map { $0.matrix.storage.withUnsafeBytes { $0.baseAddress } }
        }
        var network = ManualNetwork(parameters: initial, learningRate: 0.5)
        let owned = addresses(network.parameters)
        #expect(network.parameters == initial)
        #expect(zip(owned, addresses(initial)).allSatisfy { $0 != $1 }, "no matrix shared with the caller")
        _ = network.trainStep(on: randomBatch(shape, count: 7, seed: 2))
        #expect(addresses(network.parameters) == owned, "the update writes in place: no copy mid-training")
        #expect(network.parameters != initial)
        #expect(initial == .glorotNormal(shape: shape, seed: 1))
    }

    @Test("same seed, same data: identical weights, run after run")
    func determinism() throws {
        let (train, test) = SyntheticRegression.make(seed: 5, trainCount: 2000, testCount: 200, as: Float.self)
        func run() throws -> NetworkParameters<Float> {
            try trainManual(train, test, .glorotNormal(shape: .standard(for: .regression), seed: 5),
                            Recipe(epochs: 2, batchSize: 32, learningRate: 0.1, seed: 5)).parameters
        }
        #expect(try run() == run())
    }

    @Test("regression reaches R² ≥ 0.9 in 3 epochs")
    func regressionGate() throws {
        let (train, test) = SyntheticRegression.make(seed: 42, as: Float.self)
        let result = try trainManual(train, test, .glorotNormal(shape: .standard(for: .regression), seed: 42),
                                     Recipe(epochs: 3, batchSize: 64, learningRate: 0.1, seed: 42)).result
        let r2 = try #require(result.epochs.last?.testR2)
        #expect(r2 >= 0.9, "test R² \(r2)")
    }

    @Test("Fashion-MNIST slice: 20,000 samples, 3 epochs, test accuracy ≥ 0.80 (0.819 when written)")
    func fashionMNISTGate() throws {
        let (train, test) = try MNISTFiles.load(directory: MNISTFiles.defaultDirectory,
                                                trainLimit: 20_000, testLimit: 2_000)
        let result = try trainManual(train, test, .glorotNormal(shape: .standard(for: .classification), seed: 42),
                                     Recipe(epochs: 3, batchSize: 64, learningRate: 0.1, seed: 42)).result
        let accuracy = try #require(result.epochs.last?.testAccuracy)
        #expect(accuracy >= 0.80, "test accuracy \(accuracy)")
        #expect(result.epochs[1].trainLoss < result.epochs[0].trainLoss)
    }

    @Test("a diverging run stops at the step where the loss stops being finite")
    func divergence() throws {
        let (train, test) = SyntheticRegression.make(seed: 42, trainCount: 2000, testCount: 100, as: Float.self)
        let result = try trainManual(train, test, .glorotNormal(shape: .standard(for: .regression), seed: 42),
                                     Recipe(epochs: 5, batchSize: 64, learningRate: 50, seed: 42)).result
        guard case let .diverged(style, epoch, step, _)? = result.stopError else {
            Issue.record("expected divergence, got \(String(describing: result.stopError))")
            return
        }
        #expect(style == "manual")
        #expect(result.stepLosses.count == (epoch - 1) * 32 + step - 1)
        #expect(result.stepLosses.allSatisfy { $0.isFinite })
    }
}
