// Level2ModulesTests.swift — modules, optimizers and state dicts, and Level 2 against Levels 3
// and 4 bit for bit.

import Foundation
import Testing
@testable import Level2Modules
import Level3Autograd
import Level4Manual
import Shared
import TestSupport

@Suite("Level 2: modules and the hand-written loop")
struct Level2AgreementTests {
    @Test("2 epochs on a 2,000-sample slice: Level 2's own loop ends with the same losses, test numbers and weights as Levels 3 and 4, bit for bit",
          arguments: Task.allCases)
    func agreesWithLowerLevels(task: Task) throws {
        let (train, test) = try slice(task, train: 2000, test: 500)
        let job = TrainingJob(style: "test", train: train, test: test,
                              initialParameters: .glorotNormal(shape: .standard(for: task), seed: 42),
                              recipe: Recipe(epochs: 2, batchSize: 64, learningRate: 0.1, seed: 42))
        let level4 = try ManualNetwork.run(job)
        let level3 = try AutogradNetwork.run(job)
        let level2 = try ModulesNetwork.run(job)
        #expect(level2.result.stopError == nil && level2.result.epochs.count == 2)
        #expect(level2.parameters != job.initialParameters)
        #expect(level2.parameters == level4.parameters)
        #expect(level2.parameters == level3.parameters)
        #expect(level2.result.stepLosses == level4.result.stepLosses)
        #expect(level2.result.epochs == level4.result.epochs.map { var e = $0; e.seconds = level2.result.epochs[$0.epoch - 1].seconds; return e })
    }

    @Test("module tree: names, counts, zeroGrad, train/eval")
    func moduleTree() {
        let model = MLP(NetworkParameters<Float>.glorotNormal(shape: .standard(for: .classification), seed: 1))
        #expect(model.namedParameters.map(\.name) ==
                ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"])
        #expect(model.parameterCount == 109_386)
        #expect(model.fc1.weight.shape == [128, 784] && model.fc1.bias.shape == [1, 128])

        model.eval()
        #expect(!model.isTraining && [model.fc1, model.fc2, model.fc3].allSatisfy { !$0.isTraining })
        model.train()
        #expect([model.fc1, model.fc2, model.fc3].allSatisfy { $0.isTraining })

        let x = Tensor(Matrix<Float>(rows: 2, columns: 784, repeating: 0.5))
        model(x).sum().backward()
        #expect(model.parameters.allSatisfy { $0.grad != nil })
        model.zeroGrad()
        #expect(model.parameters.allSatisfy { $0.grad == nil })
    }

    @Test("Linear from the default seed 42 is the shared fc1; only one generator continues the draws across layers")
    func linearSeeds() {
        let shared = NetworkParameters<Float>.glorotNormal(shape: .standard(for: .classification), seed: 42)
        #expect(Linear<Float>(inputSize: 784, outputSize: 128).currentParameters == shared.fc1)
        #expect(Linear<Float>(inputSize: 128, outputSize: 64).currentParameters != shared.fc2)   // a fresh stream
        var generator = SeededGenerator(seed: 42, stream: .initialWeights)
        let layers = [(784, 128), (128, 64), (64, 10)].map {
            Linear<Float>(inputSize: $0.0, outputSize: $0.1, generator: &generator).currentParameters
        }
        #expect(layers == [shared.fc1, shared.fc2, shared.fc3])
    }
}

// MARK: - Optimizers against their formulas

@Suite("Level 2: optimizers match hand-computed updates")
struct OptimizerTests {
    /// A two-element parameter trained on ℓ = Σ w², so ∂ℓ/∂w = 2w; returns w after each of 3 steps.
    func trajectory(_ makeOptimizer: ([Tensor<Double>]) -> any Optimizer<Double>) -> [[Double]] {
        let w = Tensor(Matrix<Double>([[1.0, -2.0]]), requiresGrad: true)
        let optimizer = makeOptimizer([w])
        var result: [[Double]] = []
        for _ in 0..<3 {
            optimizer.zeroGrad()
            (w * w).sum().backward()
            optimizer.step()
            result.append(w.value.storage)
        }
        return result
    }

    /// PyTorch's SGD, written out in scalars.
    func expectedSGD(lr: Double, momentum: Double, dampening: Double, nesterov: Bool, weightDecay: Double) -> [[Double]] {
        var w = [1.0, -2.0], v = [0.0, 0.0]
        var result: [[Double]] = []
        for step in 0..<3 {
            for i in 0..<2 {
                var g = 2 * w[i] + weightDecay * w[i]
                if momentum != 0 {
                    v[i] = step == 0 ? g : momentum * v[i] + (1 - dampening) * g
                    g = nesterov ? g + momentum * v[i] : v[i]
                }
                w[i] -= lr * g
            }
            result.append(w)
        }
        return result
    }

    func close(_ a: [[Double]], _ b: [[Double]]) -> Bool {
        zip(a.joined(), b.joined()).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) }
    }

    @Test("plain SGD: w ← w − lr·g")
    func plain() {
        let got = trajectory { SGD(parameters: $0, learningRate: 0.1) }
        // w·(1 − 0.2) per step: 0.8, 0.64, 0.512 and −1.6, −1.28, −1.024.
        #expect(close(got, [[0.8, -1.6], [0.64, -1.28], [0.512, -1.024]]))
    }

    @Test("SGD with momentum, dampening and weight decay", arguments: [
        (0.9, 0.0, 0.0), (0.9, 0.1, 0.0), (0.5, 0.0, 0.01), (0.0, 0.0, 0.1),
    ])
    func momentum(momentum: Double, dampening: Double, weightDecay: Double) {
        let got = trajectory {
            SGD(parameters: $0, learningRate: 0.1, momentum: momentum, dampening: dampening, weightDecay: weightDecay)
        }
        let expected = expectedSGD(lr: 0.1, momentum: momentum, dampening: dampening, nesterov: false, weightDecay: weightDecay)
        #expect(close(got, expected), "\(got) vs \(expected)")
    }

    @Test("SGD with Nesterov momentum")
    func nesterov() {
        let got = trajectory { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01) }
        let expected = expectedSGD(lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.01)
        #expect(close(got, expected), "\(got) vs \(expected)")
        // Step 1 by hand: g = 2·1 + 0.01·1 = 2.01, v = 2.01, d = g + 0.9·v = 3.819, w = 1 − 0.3819.
        #expect(abs(got[0][0] - 0.6181) < 1e-12)
    }

    @Test("Adam, with and without weight decay", arguments: [0.0, 0.1])
    func adam(weightDecay: Double) {
        let (lr, b1, b2, eps) = (0.1, 0.9, 0.999, 1e-8)
        let got = trajectory { Adam(parameters: $0, learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, weightDecay: weightDecay) }
        var w = [1.0, -2.0], m = [0.0, 0.0], v = [0.0, 0.0]
        var expected: [[Double]] = []
        for t in 1...3 {
            for i in 0..<2 {
                let g = 2 * w[i] + weightDecay * w[i]
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                let mHat = m[i] / (1 - pow(b1, Double(t))), vHat = v[i] / (1 - pow(b2, Double(t)))
                w[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
            expected.append(w)
        }
        #expect(close(got, expected), "\(got) vs \(expected)")
        // Adam's first step moves every coordinate by about lr, whatever the gradient's size.
        #expect(abs(got[0][0] - 0.9) < 1e-6 && abs(got[0][1] + 1.9) < 1e-6)
    }
}

// MARK: - State dicts and checkpoints

@Suite("Level 2: state dicts")
struct StateDictTests {
    func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("NeuralLevels-\(UUID().uuidString)-\(name)").path
    }

    @Test("save then load gives identical predictions, and the file is the shared checkpoint format")
    func roundTrip() throws {
        let shape = NetworkShape.standard(for: .regression)
        let trained = MLP(NetworkParameters<Float>.glorotNormal(shape: shape, seed: 1))
        let fresh = MLP(NetworkParameters<Float>.glorotNormal(shape: shape, seed: 2))
        let x = Tensor(Matrix<Float>(rows: 5, columns: 3, storage: (0..<15).map { Float($0) / 7 - 1 }))
        #expect(trained(x).value != fresh(x).value)

        let path = temporaryFile("weights.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try trained.save(to: path)
        try fresh.load(from: path)
        #expect(trained(x).value == fresh(x).value)

        // The same file read by Shared's checkpoint loader (biases stored 1-D, as PyTorch does).
        let shared = try NetworkParameters<Float>.load(from: path, shape: shape)
        #expect(shared.fc2.weight == trained.fc2.weight.value)
        #expect(shared.fc3.bias == trained.fc3.bias.value)

        fresh.fc1.weight.value.storage[0] += 1
        try fresh.loadStateDict(trained.stateDict())
        #expect(trained(x).value == fresh(x).value)
    }

    @Test("loadStateDict copies into each parameter's own buffer (PyTorch's copy_), not the state dict's")
    func loadKeepsBuffers() throws {
        let model = MLP(NetworkParameters<Float>.glorotNormal(shape: .standard(for: .regression), seed: 1))
        func addresses() -> [UnsafeRawPointer?] {
            model.namedParameters.map { $0.tensor.value.storage.withUnsafeBytes { $0.baseAddress } }
        }
        let before = addresses()
        let state = MLP(NetworkParameters<Float>.glorotNormal(shape: .standard(for: .regression), seed: 2)).stateDict()
        try model.loadStateDict(state)
        #expect(addresses() == before)
        #expect(model.stateDict() == state)
    }

    @Test("a state dict with a wrong name or shape is refused, naming the tensor, and nothing changes")
    func refusals() throws {
        let model = MLP(NetworkParameters<Float>.glorotNormal(shape: .standard(for: .regression), seed: 1))
        let before = model.stateDict()

        var missing = before
        missing["fc2.bias"] = nil
        #expect(throws: NeuralLevelsError.badCheckpoint(file: "state dict", reason: "missing tensor fc2.bias")) {
            try model.loadStateDict(missing)
        }

        var wrongShape = before
        wrongShape["fc1.weight"] = Matrix(rows: 64, columns: 4)
        wrongShape["fc3.bias"] = Matrix(rows: 1, columns: 1, repeating: 9)
        #expect(throws: NeuralLevelsError.badCheckpoint(
            file: "state dict", reason: "fc1.weight has shape [64, 4], the model expects [64, 3]")) {
            try model.loadStateDict(wrongShape)
        }

        var extra = before
        extra["fc4.weight"] = Matrix(rows: 1, columns: 1)
        #expect(throws: NeuralLevelsError.badCheckpoint(file: "state dict", reason: "unexpected tensor fc4.weight")) {
            try model.loadStateDict(extra)
        }
        #expect(model.stateDict() == before)

        // A checkpoint of the classification network does not fit the regression one.
        let path = temporaryFile("other.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try MLP(NetworkParameters<Float>.glorotNormal(shape: .standard(for: .classification), seed: 1)).save(to: path)
        do {
            try model.load(from: path)
            Issue.record("expected the load to fail")
        } catch let error as NeuralLevelsError {
            #expect(error.description.contains("fc1.weight has shape [128, 784], the model expects [64, 3]"))
            #expect(error.exitCode == 65)
        }
        #expect(model.stateDict() == before)
    }

    @Test("load(from:) refuses a file with a non-finite value, an extra tensor or a stored [1, n] bias, as Shared's checkpoint does")
    func fileRefusals() throws {
        let parameters = NetworkParameters<Float>.glorotNormal(shape: .standard(for: .regression), seed: 1)
        let model = MLP(parameters)
        let before = model.stateDict()
        let path = temporaryFile("refused.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        func refusal(_ edit: (inout [(name: String, dtype: String, shape: [Int], bytes: [UInt8])]) -> Void) throws -> String? {
            var tensors = parameters.namedTensors.map { name, matrix in
                (name: name, dtype: "F32", shape: Safetensors.storedShape(of: matrix.shape, named: name),
                 bytes: matrix.storage.withUnsafeBytes { Array($0) })
            }
            edit(&tensors)
            try AtomicFile.write(Safetensors.encode(tensors, metadata: [:]), to: path)
            do {
                try model.load(from: path)
                return nil
            } catch let NeuralLevelsError.badCheckpoint(file, reason) {
                #expect(file == path)
                return reason
            }
        }
        #expect(try refusal { _ in } == nil)                       // the file as written loads
        #expect(try refusal { $0[3].bytes.replaceSubrange(4..<8, with: withUnsafeBytes(of: Float.nan) { Array($0) }) }
                == "fc2.bias has a non-finite value (nan) at index 1")
        #expect(try refusal { $0.append((name: "fc4.weight", dtype: "F32", shape: [1], bytes: [0, 0, 0, 0])) }
                == "unexpected tensor fc4.weight (the model has fc1.weight, fc1.bias, fc2.weight, fc2.bias, fc3.weight, fc3.bias)")
        #expect(try refusal { $0[1].shape = [1, 64] } == "fc1.bias has shape [1, 64], the model expects [64]")
        // Larger than the model's parameters in F64 and a 1 MiB header: refused by its size, unread.
        #expect(truncate(path, 2 << 20) == 0)
        #expect(throws: NeuralLevelsError.badCheckpoint(
            file: path, reason: "is 2.0 MiB, larger than the 1.0 MiB a checkpoint of this model can take")) {
            try model.load(from: path)
        }
        #expect(model.stateDict() == before)
    }
}
