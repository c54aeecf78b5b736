// KerasNetwork.swift — Level 1: the network as a Keras user writes it.
//
// Teaches: at this level the network is a description — three Dense layers with their
// activations — plus three names given to `compile` and a call to `fit`. Everything Levels 2–4
// spell out (the module, the criterion, the optimizer, the loop, the chain rule) happens inside.
// The softmax head and the sparse cross-entropy are fused into Level 2's `CrossEntropyLoss` on
// the logits, as Keras fuses them, so training equals Level 2's bit for bit.
// Leaves out: everything but this network (see Model.swift for the general API).

import Shared

/// The network of DESIGN.md, Keras style: `Sequential` + `compile` + `fit`.
public enum KerasNetwork {
    /// The model for `initial.shape`, starting from the shared initial weights, compiled with
    /// plain SGD and the task's loss and metrics.
    public static func makeModel(startingFrom initial: NetworkParameters<Float>, learningRate: Double) throws -> Sequential {
        let shape = initial.shape
        let classifies = shape.task == .classification
        let model = try Sequential([
            Dense(shape.hidden[0], activation: .tanh),                        // fc1: I → 128
            Dense(shape.hidden[1], activation: .sigmoid),                     // fc2: 128 → 64
            Dense(shape.outputSize, activation: classifies ? .softmax : .linear),   // fc3: 64 → O
        ], inputSize: shape.inputSize)
        try model.setWeights(initial)
        try model.compile(optimizer: .sgd(learningRate: learningRate),
                          loss: classifies ? .sparseCategoricalCrossentropy : .meanSquaredError,
                          metrics: classifies ? [.accuracy] : [.meanSquaredError, .r2])
        return model
    }

    /// Builds the model and fits it with the recipe, validating on `test` after every epoch.
    public static func fit(train: Dataset<Float>, test: Dataset<Float>, initial: NetworkParameters<Float>,
                           recipe: Recipe, callbacks: [any Callback] = [],
                           verbose: Verbosity = .auto) throws -> (model: Sequential, history: History) {
        let model = try makeModel(startingFrom: initial, learningRate: recipe.learningRate)
        let history = try model.fit(train, epochs: recipe.epochs, batchSize: recipe.batchSize,
                                    validationData: test, shuffle: recipe.shuffle, seed: recipe.seed,
                                    callbacks: callbacks, verbose: verbose)
        return (model, history)
    }

    /// Level 1's training job (compare-levels, `level1-high-level`): the compiled model driven by
    /// Shared's epoch loop, which calls the model's `trainStep(on:)`, the very step `fit` takes.
    public static func train(_ job: TrainingJob) throws -> TrainedLevel {
        var model = try makeModel(startingFrom: job.initialParameters, learningRate: job.recipe.learningRate)
        return try job.run(&model)
    }
}
