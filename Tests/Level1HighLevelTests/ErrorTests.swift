// ErrorTests.swift — bad use of the Level 1 API throws one clear message, never traps.

import Testing
import Level1HighLevel
import Level2Modules
import Shared

/// A fresh, uncompiled 784-128-64-10 classifier.
private func classifier() throws -> Level1HighLevel.Sequential<Float> {
    try Sequential([Dense(128, activation: .tanh), Dense(64, activation: .sigmoid), Dense(10, activation: .softmax)],
                   inputSize: 784)
}

@Suite("Level 1: bad use throws clear errors")
struct Level1ErrorTests {
    let x = Matrix<Float>(rows: 10, columns: 784, repeating: 0.5)
    let labels: [Int32] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]

    @Test("fit, evaluate or trainOnBatch before compile")
    func notCompiled() throws {
        let model = try classifier()
        #expect(throws: HighLevelError.notCompiled(call: "fit")) { try model.fit(x: x, y: labels, verbose: 0) }
        #expect(errorMessage { try model.fit(x: x, y: labels, verbose: 0) }
                == "error: fit needs a compiled model: call compile(optimizer:loss:metrics:) first")
        #expect(errorMessage { _ = try model.evaluate(x: x, y: labels) }
                == "error: evaluate needs a compiled model: call compile(optimizer:loss:metrics:) first")
        #expect(errorMessage { _ = try model.trainOnBatch(Batch(inputs: x, labels: labels, targets: Matrix(rows: 0, columns: 0))) }
                == "error: trainOnBatch(_:) needs a compiled model: call compile(optimizer:loss:metrics:) first")
        #expect(try model.predict(x).shape == [10, 10])                  // predict needs no compile
    }

    @Test("wrong input width, mismatched counts, labels out of range")
    func dataThatDoesNotFit() throws {
        let model = try classifier()
        try model.compile(optimizer: .sgd(learningRate: 0.1), loss: .sparseCategoricalCrossentropy, metrics: [.accuracy])
        let narrow = Matrix<Float>(rows: 10, columns: 100)
        #expect(throws: HighLevelError.inputWidth(argument: "fit(x:y:)", expected: 784, got: 100)) {
            try model.fit(x: narrow, y: labels, verbose: 0)
        }
        #expect(errorMessage { try model.fit(x: narrow, y: labels, verbose: 0) }
                == "error: fit(x:y:) has 100 features per sample, the model's input is 784 wide")
        #expect(errorMessage { try model.fit(x: x, y: Array(labels.prefix(9)), verbose: 0) }
                == "error: fit(x:y:) has 10 samples of x but 9 of y; they must match one to one")
        #expect(errorMessage { try model.fit(x: x, y: labels, validationData: (x, Array(labels.prefix(3))), verbose: 0) }
                == "error: validationData has 10 samples of x but 3 of y; they must match one to one")
        var bad = labels
        bad[3] = 12
        #expect(errorMessage { try model.fit(x: x, y: bad, verbose: 0) }
                == "error: fit(x:y:): label 12 of sample 3 is outside 0..<10 (the model's outputs)")
        #expect(errorMessage { _ = try model.predict(narrow) }
                == "error: predict(_:) has 100 features per sample, the model's input is 784 wide")
        #expect(errorMessage { _ = try model.trainOnBatch(Batch(inputs: narrow, labels: labels, targets: Matrix(rows: 0, columns: 0))) }
                == "error: batch has 100 features per sample, the model's input is 784 wide")
        let regression = Dataset<Float>.regression(inputs: x, targets: Matrix(rows: 10, columns: 1))
        #expect(errorMessage { try model.fit(regression, verbose: 0) }
                == "error: fit: sparseCategoricalCrossentropy needs class labels, this data holds target values")
    }

    @Test("arguments out of range: validationSplit outside [0, 1), batch size, epochs")
    func argumentsOutOfRange() throws {
        let model = try classifier()
        try model.compile(optimizer: .sgd(learningRate: 0.1), loss: .sparseCategoricalCrossentropy)
        #expect(throws: HighLevelError.invalidArgument(name: "validationSplit", reason: "must be in [0, 1), got 1.0")) {
            try model.fit(x: x, y: labels, validationSplit: 1, verbose: 0)
        }
        #expect(errorMessage { try model.fit(x: x, y: labels, validationSplit: 1, verbose: 0) }
                == "error: validationSplit must be in [0, 1), got 1.0")
        #expect(errorMessage { try model.fit(x: x, y: labels, validationSplit: -0.1, verbose: 0) }
                == "error: validationSplit must be in [0, 1), got -0.1")
        #expect(errorMessage { try model.fit(x: x, y: labels, validationSplit: 0.95, verbose: 0) }
                == "error: fit has no training samples after validationSplit 0.95")
        #expect(errorMessage { try model.fit(x: x, y: labels, validationSplit: 1e-17, verbose: 0) }
                == "error: validationSplit 1e-17 of 10 samples leaves no validation samples")
        #expect(errorMessage { try model.fit(x: x, y: labels, batchSize: 0, verbose: 0) }
                == "error: batchSize must be at least 1, got 0")
        #expect(errorMessage { try model.fit(x: x, y: labels, epochs: -1, verbose: 0) }
                == "error: epochs must be at least 0, got -1")
        #expect(errorMessage { _ = try DataLoader(Dataset.classification(inputs: x, labels: labels, classCount: 10), batchSize: 0) }
                == "error: batchSize must be at least 1, got 0")
    }

    @Test("loss, head, metrics and targets that do not go together")
    func incompatibleChoices() throws {
        let linearHead = try Sequential([Dense(8, activation: .tanh), Dense(10)], inputSize: 784)
        #expect(errorMessage { try linearHead.compile(loss: .sparseCategoricalCrossentropy) }
                == "error: sparseCategoricalCrossentropy needs a softmax output layer; the last layer, fc2, has activation "
                    + "linear (use Dense(10, activation: .softmax))")
        #expect(errorMessage { try linearHead.compile(loss: .meanSquaredError, metrics: [.accuracy]) }
                == "error: metric accuracy needs class labels, so a cross-entropy loss, not meanSquaredError")

        let model = try classifier()
        #expect(errorMessage { try model.compile(loss: .sparseCategoricalCrossentropy, metrics: [.r2]) }
                == "error: metric r2 needs target values, so meanSquaredError, not sparseCategoricalCrossentropy")
        try model.compile(loss: .categoricalCrossentropy)
        #expect(errorMessage { try model.fit(x: x, y: labels, verbose: 0) }
                == "error: fit(x:y:): categoricalCrossentropy expects one-hot rows [N, 10]; "
                    + "for integer class labels use .sparseCategoricalCrossentropy")
        #expect(errorMessage { try model.fit(x: x, y: Matrix<Float>(rows: 10, columns: 10, repeating: 0.1), verbose: 0) }
                == "error: fit(x:y:): row 0 of y is not one-hot (one 1, the rest 0); soft labels are left out at this level")
        try model.compile(loss: .sparseCategoricalCrossentropy)
        #expect(errorMessage { try model.fit(x: x, y: Matrix<Float>(rows: 10, columns: 10), verbose: 0) }
                == "error: fit(x:y:): sparseCategoricalCrossentropy expects integer class labels [Int32]; "
                    + "for one-hot rows use .categoricalCrossentropy")
    }

    @Test("optimizer settings out of range")
    func optimizerSettings() throws {
        let model = try classifier()
        #expect(errorMessage { try model.compile(optimizer: .sgd(learningRate: 0.1, nesterov: true), loss: .sparseCategoricalCrossentropy) }
                == "error: nesterov needs a momentum above 0")
        #expect(errorMessage { try model.compile(optimizer: .sgd(learningRate: 0), loss: .sparseCategoricalCrossentropy) }
                == "error: learningRate must be a finite number above 0, got 0.0")
        #expect(errorMessage { try model.compile(optimizer: .adam(beta1: 1), loss: .sparseCategoricalCrossentropy) }
                == "error: beta1 must be in [0, 1), got 1.0")
        #expect(!model.isCompiled)
    }

    @Test("models that cannot be built")
    func invalidModels() throws {
        #expect(errorMessage { _ = try Sequential([], inputSize: 784) } == "error: a model needs at least one Dense layer")
        #expect(errorMessage { _ = try Sequential([Dense(0)], inputSize: 784) }
                == "error: layer fc1 has 0 units; a Dense layer needs at least 1")
        #expect(errorMessage { _ = try Sequential([Dense(3)], inputSize: 0) } == "error: the input size must be at least 1, got 0")
        #expect(errorMessage { _ = try Sequential([Dense(3, name: "fc2"), Dense(3)], inputSize: 4) }
                == "error: layer name \"fc2\" must be non-empty, without dots, and unique in the model")
        let shared = Dense(3)
        #expect(errorMessage { _ = try Sequential([shared, shared], inputSize: 4) }
                == "error: layer fc2 appears twice; shared layers are left out")
        _ = try Sequential([shared], inputSize: 4)
        #expect(errorMessage { _ = try Sequential([shared], inputSize: 4) }
                == "error: layer fc1 already belongs to another model; make a new Dense (shared layers are left out)")

        let input = Input(784)
        let elsewhere = Dense(10, activation: .softmax)(Dense(64)(Input(784)))
        #expect(errorMessage { _ = try Model(inputs: input, outputs: elsewhere) }
                == "error: outputs (None, 10) were not computed from inputs (None, 784): follow the layers back from "
                    + "outputs and they reach another Input")
        #expect(errorMessage { _ = try Model(inputs: input, outputs: input) } == "error: no layer between inputs and outputs")
    }
}
