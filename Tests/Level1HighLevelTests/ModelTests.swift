// ModelTests.swift — summary() against golden text, weights files against the shared checkpoint
// layout, and the module tree Level 1 builds on Level 2.

import Foundation
import Testing
import Level1HighLevel
import Level2Modules
import Level3Autograd
import Shared
import TestSupport

@Suite("Level 1: summary, weights and the module tree")
struct Level1ModelTests {
    @Test("summary() of the 784-128-64-10 Sequential matches Keras's table: 109,386 parameters")
    func sequentialSummary() throws {
        let model = try KerasNetwork.makeModel(startingFrom: initialWeights(.classification), learningRate: 0.1)
        #expect(model.summary() == """
            Model: "sequential"
            ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
            ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
            ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
            │ fc1 (Dense)                     │ (None, 128)            │       100,480 │
            ├─────────────────────────────────┼────────────────────────┼───────────────┤
            │ fc2 (Dense)                     │ (None, 64)             │         8,256 │
            ├─────────────────────────────────┼────────────────────────┼───────────────┤
            │ fc3 (Dense)                     │ (None, 10)             │           650 │
            └─────────────────────────────────┴────────────────────────┴───────────────┘
             Total params: 109,386 (427.29 KB)
             Trainable params: 109,386 (427.29 KB)
             Non-trainable params: 0 (0.00 B)

            """)
        #expect(model.parameterCount == 109_386)
        #expect(model.parameterCount == NetworkShape.standard(for: .classification).parameterCount)
    }

    @Test("summary() of a functional model lists its InputLayer; 3-64-32-1 has 2,369 parameters")
    func functionalSummary() throws {
        let input = Input(3)
        let output = Dense(1)(Dense(32, activation: .sigmoid)(Dense(64, activation: .tanh)(input)))
        let model = try Model(inputs: input, outputs: output)
        #expect(model.summary() == """
            Model: "functional"
            ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
            ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
            ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
            │ input_layer (InputLayer)        │ (None, 3)              │             0 │
            ├─────────────────────────────────┼────────────────────────┼───────────────┤
            │ fc1 (Dense)                     │ (None, 64)             │           256 │
            ├─────────────────────────────────┼────────────────────────┼───────────────┤
            │ fc2 (Dense)                     │ (None, 32)             │         2,080 │
            ├─────────────────────────────────┼────────────────────────┼───────────────┤
            │ fc3 (Dense)                     │ (None, 1)              │            33 │
            └─────────────────────────────────┴────────────────────────┴───────────────┘
             Total params: 2,369 (9.25 KB)
             Trainable params: 2,369 (9.25 KB)
             Non-trainable params: 0 (0.00 B)

            """)
        #expect(model.task == .regression && model.networkShape == .standard(for: .regression))
        #expect("\(output)" == "(None, 1)")
    }

    @Test("saveWeights writes the shared checkpoint byte for byte; loadWeights reads any level's", arguments: Task.allCases)
    func weightsFiles(task: Task) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (train, test) = try slice(task)
        let (model, _) = try kerasFit(train: train.prefix(256), test: test, initial: initialWeights(task),
                                              recipe: Recipe(epochs: 1, batchSize: 64), verbose: 0)
        let path = folder + "/weights.safetensors"
        try model.saveWeights(to: path)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try bytes == model.currentParameters.safetensorsBytes())
        #expect(try NetworkParameters<Float>.load(from: path, shape: .standard(for: task)) == model.currentParameters)

        let fresh = try KerasNetwork.makeModel(startingFrom: initialWeights(task), learningRate: 0.1)
        let shared = folder + "/shared.safetensors"
        try model.currentParameters.save(to: shared)                 // as Levels 2–4 write it
        try fresh.loadWeights(from: shared)
        #expect(try bits(fresh.currentParameters) == bits(model.currentParameters))

        #expect(errorMessage { try fresh.loadWeights(from: folder + "/missing.safetensors") }
                == "error: checkpoint \(folder)/missing.safetensors: no such file")
        // A device or a folder is refused before it is read (/dev/zero would never end).
        #expect(errorMessage { try fresh.loadWeights(from: "/dev/zero") }
                == "error: checkpoint /dev/zero: is not a regular file (a device, a pipe or a socket)")
        #expect(errorMessage { try fresh.loadWeights(from: folder) } == "error: checkpoint \(folder): is a folder, not a file")
    }

    @Test("setWeights copies into each layer's own buffers (Keras's assign): they keep their addresses, not the caller's")
    func setWeightsKeepsBuffers() throws {
        let model = try Sequential<Float>([Dense(5, activation: .tanh), Dense(4, activation: .sigmoid),
                                           Dense(2, activation: .softmax)], inputSize: 3)
        func addresses() -> [UnsafeRawPointer?] {
            model.namedParameters.map { $0.tensor.value.storage.withUnsafeBytes { $0.baseAddress } }
        }
        let before = addresses()
        let weights = NetworkParameters<Float>.glorotNormal(
            shape: NetworkShape(task: .classification, inputSize: 3, hidden: [5, 4], outputSize: 2), seed: 9)
        try model.setWeights(weights)
        #expect(addresses() == before)
        #expect(model.weights == weights.layers)
        #expect(weights.fc1.weight.storage.withUnsafeBytes { $0.baseAddress } != before[0], "not shared with the caller")
    }

    @Test("each Dense is a Level 2 Linear underneath; the model is a Level 2 Module")
    func moduleTree() throws {
        let model = try KerasNetwork.makeModel(startingFrom: initialWeights(.classification), learningRate: 0.1)
        #expect(model.layers.map(\.name) == ["fc1", "fc2", "fc3"])
        #expect(model.linears.map(\.weight.shape) == [[128, 784], [64, 128], [10, 64]])
        #expect(model.checkpointMetadata == ["task": "classification", "sizes": "784,128,64,10",
                                             "activations": "tanh,sigmoid,softmax", "format": "pt"])
        #expect(model.loss == .sparseCategoricalCrossentropy && model.metrics == [.accuracy])

        let named = try Sequential([Dense(4, activation: .tanh, name: "hidden"), Dense(2, activation: .softmax)], inputSize: 3)
        #expect(named.namedParameters.map(\.name) == ["hidden.weight", "hidden.bias", "fc2.weight", "fc2.bias"])
        #expect(named.networkShape == nil)
        #expect(errorMessage { _ = try named.networkParameters() }
                == "error: the shared network has 3 Dense layers, this model has 2; use weights instead")
        #expect(errorMessage { _ = try named.currentParameters }        // Shared's loop gets the error, no trap
                == "error: the shared network has 3 Dense layers, this model has 2; use weights instead")

        // model(x) applies every activation, the softmax head's too (composed from primitives);
        // predict uses the fused kernel: the same probabilities to rounding.
        let x = Matrix<Float>(rows: 2, columns: 3, storage: [0.1, -0.2, 0.3, 0.5, 0.4, -0.6])
        let composed = named(Level3Autograd.Tensor(x)).value
        let fused = try named.predict(x)
        #expect(composed.shape == [2, 2] && fused.shape == [2, 2])       // two rows of two probabilities
        for (a, b) in zip(composed.storage, fused.storage) { #expect(abs(a - b) < 1e-6) }
    }
}
