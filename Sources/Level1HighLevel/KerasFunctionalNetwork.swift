// KerasFunctionalNetwork.swift — Level 1: the same network with Keras's functional API.
//
// Teaches: the other way Keras builds a model. Instead of a list of layers, you call each layer
// on a symbolic tensor — `Input` → `Dense(…)(input)` → … — and hand the first and last tensors to
// `Model(inputs:outputs:)`, which follows the calls back and builds the same three layers
// `Sequential` builds. `compile` and `fit` are unchanged, and so is every number.
// Leaves out: what the functional API exists for beyond this network (branches, several inputs
// or outputs, shared layers).
// Shape legend: I inputs (784 or 3) · H1, H2 hidden widths (128, 64; regression 64, 32) · O outputs (10 or 1)

import Shared

/// The network, Keras functional style: `Input` → layers → `Model(inputs:outputs:)`, `compile`,
/// `fit` (the `keras-functional` style).
public enum KerasFunctionalNetwork {
    /// The model for `initial.shape`, starting from the shared initial weights, compiled as
    /// ``KerasNetwork/makeModel(startingFrom:learningRate:)`` compiles it.
    public static func makeModel<Scalar>(startingFrom initial: NetworkParameters<Scalar>,
                                         learningRate: Double) throws -> Model<Scalar> {
        let shape = initial.shape
        let classifies = shape.task == .classification
        let inputs = Input(shape.inputSize)                                          // (None, I)
        let h1 = Dense(shape.hidden[0], activation: .tanh)(inputs)                   // (None, H1)
        let h2 = Dense(shape.hidden[1], activation: .sigmoid)(h1)                    // (None, H2)
        let outputs = Dense(shape.outputSize, activation: classifies ? .softmax : .linear)(h2)   // (None, O)
        let model = try Model<Scalar>(inputs: inputs, outputs: outputs)
        return try KerasNetwork.compiled(model, startingFrom: initial, learningRate: learningRate)
    }

    /// Trains the `keras-functional` style on `job`: the model above, and `fit`.
    public static func run(_ job: TrainingJob) throws -> TrainedLevel {
        try KerasNetwork.fit(makeModel(startingFrom: job.initialParameters, learningRate: job.recipe.learningRate), job)
    }
}
