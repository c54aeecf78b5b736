// DifferentiableNetwork.swift — Level 3, the compiler's way: the network as a pure function of
// its parameters, and its gradient derived by the Swift compiler, as JAX's `grad` derives it.
//
// Teaches: a gradient can be a *function transform*. The loss is an ordinary function,
// `loss(parameters, batch) → ℓ`; `valueWithGradient(at:of:)` (JAX's `value_and_grad`) returns
// ℓ and ∂ℓ/∂parameters (and, as with `has_aux=True`, the outputs ℓ came from). There is no
// tape and no `.grad` to zero: the compiler reads the function when it compiles it, and emits a
// second function, its pullback, which runs the registered derivatives of the building blocks
// (Primitives.swift) in reverse order. Those run the same Shared kernels as Level 4's
// hand-written backward pass, in the same order, so the gradients, and every step of training,
// are the same bits. The update is functional too: it returns new parameters instead of
// changing the old ones.
// Leaves out: `jit` and `vmap` (Swift compiles ahead of time, and the kernels take whole batches
// already; see the article "Gradients as a function transform"), optimizers other than SGD,
// layers (Level 2) and `fit` (Level 1).
//
// Shape legend: B batch · I inputs (784 or 3) · H1, H2 hidden widths (128, 64) · O outputs (10 or 1)

import _Differentiation
import Shared

/// The network of the other levels as pure functions: ``loss(_:_:)`` and ``predict(_:_:)`` take
/// the parameters (``Parameters``) as an argument, and the network itself holds none, only what
/// its task makes it compute (in Flax's terms, the module; the parameters are passed to `apply`).
public struct DifferentiableNetwork<T: DifferentiableScalar> {
    /// Classification (softmax head, cross-entropy) or regression (identity head, MSE).
    public let task: Task

    public init(task: Task) {
        self.task = task
    }

    // MARK: - The parameters

    /// The six tensors of the network as one value the compiler can differentiate: JAX's params
    /// pytree. Weights are `[out, in]` (PyTorch's layout, `y = x·Wᵀ + b`), biases `[1, out]`.
    ///
    /// `Differentiable` is synthesized: the compiler writes the gradient's type,
    /// `Parameters.TangentVector`, a struct with the same six fields, each a `Matrix`.
    public struct Parameters: Differentiable {
        public var w1: Matrix<T>                   // fc1.weight  [H1, I]
        public var b1: Matrix<T>                   // fc1.bias    [1, H1]
        public var w2: Matrix<T>                   // fc2.weight  [H2, H1]
        public var b2: Matrix<T>                   // fc2.bias    [1, H2]
        public var w3: Matrix<T>                   // fc3.weight  [O, H2]
        public var b3: Matrix<T>                   // fc3.bias    [1, O]

        /// The shared initial weights (or any checkpoint) as the six tensors.
        public init(_ parameters: NetworkParameters<T>) {
            var parameters = parameters
            parameters.makeStorageUnique()                 // copies of their own, before any gradient
            (w1, b1) = (parameters.fc1.weight, parameters.fc1.bias)
            (w2, b2) = (parameters.fc2.weight, parameters.fc2.bias)
            (w3, b3) = (parameters.fc3.weight, parameters.fc3.bias)
        }

        /// The six tensors in the shared layout (`fc1`, `fc2`, `fc3`), for checkpoints and
        /// for comparison with the other levels.
        public func networkParameters(shape: NetworkShape) -> NetworkParameters<T> {
            NetworkParameters(shape: shape,
                              fc1: LinearParameters(weight: w1, bias: b1),
                              fc2: LinearParameters(weight: w2, bias: b2),
                              fc3: LinearParameters(weight: w3, bias: b3))
        }
    }

    // MARK: - The network: pure functions of the parameters

    /// The forward pass, `x → fc1 → tanh → fc2 → σ → fc3`: the logits (classification) or the
    /// predictions ŷ (regression), `[B, O]`.
    ///
    ///     a1 = tanh(x·W1ᵀ + b1)     a2 = σ(a1·W2ᵀ + b2)     z3 = a2·W3ᵀ + b3
    @differentiable(reverse, wrt: parameters)
    public func predict(_ parameters: Parameters, _ x: Matrix<T>) -> Matrix<T> {
        let a1 = tanh(dense(x, parameters.w1, parameters.b1))          // a1: [B, H1]
        let a2 = sigmoid(dense(a1, parameters.w2, parameters.b2))      // a2: [B, H2]
        return dense(a2, parameters.w3, parameters.b3)                 // z3: [B, O]
    }

    /// The batch-mean loss, `ℓ(parameters; batch)`: mean cross-entropy of the softmax of the
    /// logits (classification) or mean squared error of the predictions (regression).
    ///
    /// `@differentiable(reverse, wrt: parameters)` asks the compiler to derive, when it compiles
    /// this function, its pullback `1 ↦ ∂ℓ/∂parameters`. It checks then that everything on the
    /// path from `parameters` to ℓ is differentiable; the batch is data, not differentiated.
    @differentiable(reverse, wrt: parameters)
    public func loss(_ parameters: Parameters, _ batch: Batch<T>) -> T {
        let z3 = predict(parameters, batch.inputs)                     // x: [B, I] → z3: [B, O]
        return loss(outputs: z3, batch)
    }

    /// The head's loss of the network's outputs `z3: [B, O]` on `batch`.
    @differentiable(reverse, wrt: z3)
    public func loss(outputs z3: Matrix<T>, _ batch: Batch<T>) -> T {
        switch task {
        case .classification:                                          // ℓ = CE(softmax(z3), y)
            return softmaxCrossEntropy(logits: z3, labels: batch.labels)
        case .regression:                                              // ℓ = MSE(z3, y)
            return meanSquaredError(predictions: z3, targets: batch.targets)
        }
    }

    /// The loss, and beside it the outputs it was computed from, which the training loop
    /// counts its accuracy (or R²) from: what a JAX loss function returns for
    /// `value_and_grad(loss_fn, has_aux=True)`.
    public struct LossAndOutputs: Differentiable {
        /// ℓ, the value the gradient is taken of.
        public var loss: T
        /// `z3: [B, O]`, logits or predictions: carried out of the function, not differentiated.
        @noDerivative public var outputs: Matrix<T>
    }

    /// ``loss(_:_:)`` with the outputs `z3` it was computed from.
    @differentiable(reverse, wrt: parameters)
    public func lossAndOutputs(_ parameters: Parameters, _ batch: Batch<T>) -> LossAndOutputs {
        let z3 = predict(parameters, batch.inputs)                     // x: [B, I] → z3: [B, O]
        return LossAndOutputs(loss: loss(outputs: z3, batch), outputs: z3)
    }
}

// MARK: - The update: a function that returns new parameters

extension DifferentiableNetwork {
    /// Plain SGD, `w ← w − η·∂ℓ/∂w` for all six tensors, through Shared's `sgdUpdate`, as at every
    /// level. JAX writes it `tree_map(lambda w, g: w - η * g, params, grads)`: a new value.
    ///
    /// A caller that is done with the old parameters can give them away, `update(consume
    /// parameters, …)`: the update then writes into their buffers instead of copying all six
    /// (437 KB for the classifier) every step, as JAX's `donate_argnums` lets a `jit`ted update
    /// reuse the old parameters' memory. A caller that keeps the old value gets a copy, and the
    /// old value is unchanged: either way, a function from old parameters to new ones.
    public func update(_ parameters: consuming Parameters, along gradient: Parameters.TangentVector,
                       learningRate: T) -> Parameters {
        sgdUpdate(&parameters.w1, gradient: gradient.w1, learningRate: learningRate)
        sgdUpdate(&parameters.b1, gradient: gradient.b1, learningRate: learningRate)
        sgdUpdate(&parameters.w2, gradient: gradient.w2, learningRate: learningRate)
        sgdUpdate(&parameters.b2, gradient: gradient.b2, learningRate: learningRate)
        sgdUpdate(&parameters.w3, gradient: gradient.w3, learningRate: learningRate)
        sgdUpdate(&parameters.b3, gradient: gradient.b3, learningRate: learningRate)
        return parameters
    }
}

// MARK: - Evaluation

extension DifferentiableNetwork {
    /// The batch-mean loss and the network's outputs, `[B, O]`: softmax probabilities
    /// (classification) or predictions (regression). No derivative: the same kernels as the
    /// forward pass of ``loss(_:_:)``, keeping the probabilities it discards.
    public func evaluate(_ parameters: Parameters, _ batch: Batch<T>) -> (loss: T, outputs: Matrix<T>) {
        let z3 = predict(parameters, batch.inputs)                     // [B, O]
        switch task {
        case .classification:
            var p = Matrix<T>.uninitialized(rows: z3.rows, columns: z3.columns)
            let loss = softmaxCrossEntropyForward(logits: z3, labels: batch.labels, probabilities: &p)
            return (loss, p)
        case .regression:
            return (meanSquaredErrorForward(predictions: z3, targets: batch.targets), z3)
        }
    }

    /// The test loss and accuracy (or R²) of `parameters` on `data`, over chunks of 1,000 samples.
    public func evaluate(_ parameters: Parameters, on data: Dataset<T>) -> EvaluationTotals {
        var totals = EvaluationTotals()
        for batch in data.chunks(of: 1000) {
            let (loss, outputs) = evaluate(parameters, batch)
            totals.add(loss: loss, outputs: outputs, batch: batch)
        }
        return totals
    }
}

// MARK: - The training loop

extension DifferentiableNetwork where T == Float {
    /// Trains the network of `job` with plain SGD, in JAX's idiom: for every epoch, for every
    /// batch in the shared order, the loss, the outputs it came from and its gradient from
    /// `valueWithGradient` (JAX's `value_and_grad(loss_fn, has_aux=True)`), then new parameters
    /// from the old ones; then the test set. Returns the history and the final weights (also
    /// when divergence or Ctrl-C stopped it early).
    public static func run(_ job: TrainingJob) throws -> TrainedLevel {
        let network = DifferentiableNetwork(task: job.initialParameters.shape.task)
        let learningRate = Float(job.recipe.learningRate)
        var parameters = Parameters(job.initialParameters)     // params = init(…)
        let trainLoader = job.makeTrainLoader()                 // the batches every style sees
        let log = TrainingLog(job)                              // step losses, history, NaN, Ctrl-C
        try log.run {
            for epoch in job.epochs {
                for batch in trainLoader.batches(epoch: epoch) {   // x: [B, I], labels or y: [B, O]
                    let (loss, z3, gradient) = valueWithGradient(at: parameters) { p in network.lossAndOutputs(p, batch) }
                    parameters = network.update(consume parameters, along: gradient, learningRate: learningRate)
                    try log.step(loss, outputs: z3, batch: batch)   // z3 from before the update
                }
                try log.epochEnded(network.evaluate(parameters, on: job.test))
            }
        }
        return TrainedLevel(result: log.result, parameters: parameters.networkParameters(shape: job.initialParameters.shape))
    }
}

// MARK: - value_and_grad in the shared layout

extension DifferentiableNetwork {
    /// ℓ and ∂ℓ/∂ every tensor at `parameters` on `batch`, as the training loop's
    /// `valueWithGradient` computes them (JAX's `value_and_grad(loss_fn)(params, batch)`), with
    /// the gradient in the shared layout (`fc1.weight`, …): what `gradcheck` checks, in Double.
    public func valueAndGradient(at parameters: NetworkParameters<T>, on batch: Batch<T>)
        -> (value: T, gradient: NetworkParameters<T>) {
        let (loss, _, g) = valueWithGradient(at: Parameters(parameters)) { p in lossAndOutputs(p, batch) }
        return (loss, NetworkParameters(shape: parameters.shape,
                                        fc1: LinearParameters(weight: g.w1, bias: g.b1),
                                        fc2: LinearParameters(weight: g.w2, bias: g.b2),
                                        fc3: LinearParameters(weight: g.w3, bias: g.b3)))
    }
}

// MARK: - value_and_grad with an auxiliary output

/// `valueWithGradient(at:of:)` for a function that returns its loss with the outputs it was
/// computed from: JAX's `value_and_grad(f, has_aux=True)`. Returns ℓ, the outputs, and
/// `∂ℓ/∂x`, the gradient of the loss alone: the pullback is seeded with `∂ℓ/∂ℓ = 1`, and the
/// outputs, being `@noDerivative`, have no gradient to seed.
public func valueWithGradient<P: Differentiable, T: DifferentiableScalar>(
    at x: P, of f: @differentiable(reverse) (P) -> DifferentiableNetwork<T>.LossAndOutputs
) -> (value: T, outputs: Matrix<T>, gradient: P.TangentVector) {
    let origin = KernelTrace.enter("valueWithGradient"); defer { origin.leave() }   // for compare-levels --trace
    let (result, pullback) = valueWithPullback(at: x, of: f)
    return (result.loss, result.outputs, pullback(.init(loss: 1)))
}
