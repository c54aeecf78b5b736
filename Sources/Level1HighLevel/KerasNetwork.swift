// KerasNetwork.swift — Level 1: the network as a Keras user writes it, with `Sequential`.
//
// Teaches: at this level the network is a description — three Dense layers with their
// activations — plus three names given to `compile` and a call to `fit`. Everything Levels 2–4
// spell out (the module, the criterion, the optimizer, the loop, the chain rule) happens inside
// `fit` (Fit.swift). The softmax head and the sparse cross-entropy are fused into Level 2's
// `CrossEntropyLoss` on the logits, as Keras fuses them, so training equals Level 2's bit for bit.
// The model is built in the scalar type of the weights it starts from: Float to train, Double
// for gradcheck.
// Leaves out: everything but this network (see Model.swift for the general API).
// Shape legend: I inputs (784 or 3) · H1, H2 hidden widths (128, 64; regression 64, 32) · O outputs (10 or 1)

import Shared

/// The network, Keras style: `Sequential` + `compile` + `fit` (the `keras` style).
public enum KerasNetwork {
    /// The model for `initial.shape`, starting from the shared initial weights, compiled with
    /// plain SGD and the task's loss and metrics.
    public static func makeModel<Scalar>(startingFrom initial: NetworkParameters<Scalar>,
                                         learningRate: Double) throws -> Sequential<Scalar> {
        let shape = initial.shape
        let classifies = shape.task == .classification
        let model = try Sequential<Scalar>([
            Dense(shape.hidden[0], activation: .tanh),                        // fc1: I → H1
            Dense(shape.hidden[1], activation: .sigmoid),                     // fc2: H1 → H2
            Dense(shape.outputSize, activation: classifies ? .softmax : .linear),   // fc3: H2 → O
        ], inputSize: shape.inputSize)
        return try compiled(model, startingFrom: initial, learningRate: learningRate)
    }

    /// `model` started from the shared initial weights and compiled with plain SGD and the
    /// task's loss and metrics (both Keras styles compile this way).
    static func compiled<Scalar, M: Model<Scalar>>(_ model: M, startingFrom initial: NetworkParameters<Scalar>,
                                                   learningRate: Double) throws -> M {
        let classifies = initial.shape.task == .classification
        try model.setWeights(initial)
        try model.compile(optimizer: .sgd(learningRate: learningRate),
                          loss: classifies ? .sparseCategoricalCrossentropy : .meanSquaredError,
                          metrics: classifies ? [.accuracy] : [.meanSquaredError, .r2])
        return model
    }

    /// Trains the `keras` style on `job`: the model above, and `fit`.
    public static func run(_ job: TrainingJob) throws -> TrainedLevel {
        try fit(makeModel(startingFrom: job.initialParameters, learningRate: job.recipe.learningRate), job)
    }

    /// `model.fit` on the job's data and recipe, validating on the test set after every epoch.
    /// A callback writes every step and epoch to the job's `TrainingLog`; `callbacks` run after it.
    public static func fit(_ model: Model<Float>, _ job: TrainingJob, callbacks: [any Callback] = []) throws -> TrainedLevel {
        let log = TrainingLog(job)
        try log.run {
            try model.fit(job.train, epochs: job.recipe.epochs, batchSize: job.recipe.batchSize,
                          validationData: job.test, shuffle: job.recipe.shuffle, seed: job.recipe.seed,
                          callbacks: [TrainingLogCallback(log, job)] + callbacks, verbose: .silent)
        }
        return TrainedLevel(result: log.result, parameters: try model.networkParameters())
    }
}
