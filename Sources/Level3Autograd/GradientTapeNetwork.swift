// GradientTapeNetwork.swift — Level 3: the network as a TensorFlow user writes it with a tape.
//
// Teaches: TensorFlow's low-level training loop. The parameters are six variables; the network is
// a function, its products written with `einsum` ("bi,oi->bo": for every sample b and output o,
// sum over the inputs i, which is x·Wᵀ); each step runs the forward pass in a `GradientTape`'s
// `record { }` (recording is on anyway here, unlike in TensorFlow: GradientTape.swift), asks the
// tape for the gradients of the loss with respect to the variables, and subtracts them,
// `w.assign_sub(lr * g)`. There is no `.grad` to zero: the tape returns the gradients, and the
// next step takes a new tape. Same kernels, same order, same bits as Level 4.
// Leaves out: `tf.function` graph tracing, Keras optimizers (`apply_gradients`), `tf.data`.
//
// Shape legend: B batch · I inputs (784 or 3) · H1, H2 hidden widths (128, 64) · O outputs (10 or 1)

import Shared

/// The network, TensorFlow `GradientTape` style (the `gradient-tape` style): six variables and
/// two functions, `model` and `loss`, as a TensorFlow script defines them at its top level.
/// Generic over the scalar type, as the other levels are; ``run(_:)`` trains in Float.
public struct GradientTapeNetwork<T: NeuralScalar> {
    public let w1, b1: Tensor<T>                 // fc1: [H1, I], [1, H1]
    public let w2, b2: Tensor<T>                 // fc2: [H2, H1], [1, H2]
    public let w3, b3: Tensor<T>                 // fc3: [O, H2], [1, O]
    public let shape: NetworkShape

    /// The variables, holding `initial` (`tf.Variable(initial_value)` for each tensor).
    public init(_ initial: NetworkParameters<T>) {
        (w1, b1) = (Variable(initial.fc1.weight), Variable(initial.fc1.bias))
        (w2, b2) = (Variable(initial.fc2.weight), Variable(initial.fc2.bias))
        (w3, b3) = (Variable(initial.fc3.weight), Variable(initial.fc3.bias))
        shape = initial.shape
    }

    /// All six, in checkpoint order: what `tape.gradient` is asked about.
    public var variables: [Tensor<T>] { [w1, b1, w2, b2, w3, b3] }

    /// `x: [B, I]` → logits or ŷ `[B, O]`.
    public func model(_ x: Tensor<T>) throws -> Tensor<T> {
        let h1 = try (einsum("bi,oi->bo", x, w1) + b1).tanh()             // [B, H1]
        let h2 = try (einsum("bi,oi->bo", h1, w2) + b2).sigmoid()         // [B, H2]
        return try einsum("bi,oi->bo", h2, w3) + b3                       // [B, O]
    }

    /// The batch-mean loss (`tf.nn.sparse_softmax_cross_entropy_with_logits`, or the mean
    /// squared error) and the outputs it reports: probabilities, or ŷ.
    public func loss(_ output: Tensor<T>, _ batch: Batch<T>) -> (loss: Tensor<T>, outputs: Matrix<T>) {
        switch shape.task {
        case .classification:
            let (loss, probabilities) = output.softmaxCrossEntropy(labels: batch.labels)
            return (loss, probabilities)
        case .regression: return (output.meanSquaredError(target: Tensor(batch.targets)), output.value)
        }
    }

    /// The current weights, in the shared layout.
    public var currentParameters: NetworkParameters<T> {
        NetworkParameters(shape: shape, checkpointOrder: variables.map(\.value))
    }
}

// MARK: - The training loop

extension GradientTapeNetwork where T == Float {
    /// Trains the network of `job`: the variables, and the tape loop.
    public static func run(_ job: TrainingJob) throws -> TrainedLevel {
        let network = GradientTapeNetwork(job.initialParameters)              // six Variables: tensors that require grad
        let variables = network.variables
        let learningRate = Float(job.recipe.learningRate)
        let trainLoader = job.makeTrainLoader()                               // the batches every style sees
        let log = TrainingLog(job)                                            // step losses, history, NaN, Ctrl-C
        try log.run {
            for epoch in job.epochs {
                for batch in trainLoader.batches(epoch: epoch) {
                    let tape = GradientTape()
                    let (logits, value) = try tape.record {
                        let logits = try network.model(Tensor(batch.inputs))         // [B, O]
                        return (logits, network.loss(logits, batch).loss)
                    }
                    let gradients = tape.gradient(value, variables)          // ∂ℓ/∂w for each, in order
                    for (variable, gradient) in zip(variables, gradients) {
                        variable.assignSub(gradient, scaledBy: learningRate)  // w ← w − lr·∂ℓ/∂w
                    }
                    try log.step(value.scalar, outputs: logits.value, batch: batch)
                }
                var test = EvaluationTotals()                                 // withNoGrad: nothing recorded
                try withNoGrad {
                    for batch in job.test.chunks(of: 1000) {
                        let (value, outputs) = try network.loss(network.model(Tensor(batch.inputs)), batch)
                        test.add(loss: value.scalar, outputs: outputs, batch: batch)
                    }
                }
                try log.epochEnded(test)
            }
        }
        return TrainedLevel(result: log.result, parameters: network.currentParameters)
    }
}
