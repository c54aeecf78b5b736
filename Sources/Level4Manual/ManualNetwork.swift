// ManualNetwork.swift — Level 4: the network trained with the chain rule written out by hand.
//
// Teaches: everything a framework does for one training step, with nothing hidden. The forward
// pass keeps the activations the backward pass needs; the backward pass walks the layers in
// reverse, each `xxxBackward` beside its `xxxForward`; the update subtracts `lr · gradient`.
// Every line is a call to one Shared kernel, so it is also exactly what Levels 1–3 end up doing.
// The training loop at the end is NumPy-from-scratch style: two `for` loops, the three calls of
// a step, the test set after each epoch.
// Leaves out: any automation. No tape, no modules, no optimizer objects (those are Levels 3–1).
//
// The network:  x → fc1 → tanh → fc2 → sigmoid → fc3 → head (softmax | identity)
// Shape legend:  B batch size · I inputs (784 or 3) · H1, H2 hidden widths (128, 64) ·
//                O outputs (10 classes, or 1)
//
// The chain rule, layer by layer (ℓ is the batch-mean loss, ⊙ elementwise):
//     z1 = x·W1ᵀ + b1     a1 = tanh(z1)        dz1 = da1 ⊙ (1 − a1²)
//     z2 = a1·W2ᵀ + b2    a2 = σ(z2)           dz2 = da2 ⊙ a2 ⊙ (1 − a2)
//     z3 = a2·W3ᵀ + b3    head: p = softmax(z3) with dz3 = (p − y)/B, or ŷ = z3 with dz3 = 2(ŷ − y)/(B·O)
//     dWk = dzkᵀ·a(k−1)   dbk = Σ_rows dzk     da(k−1) = dzk·Wk
// (MSE is the mean over all B·O elements; regression here has O = 1, so that is /B as well.)

import Shared

// MARK: - One dense layer, forward and backward

/// `y = x·Wᵀ + b`.  Shapes: `x: [B, I]`, `W: [O, I]`, `b: [1, O]`, `y: [B, O]`.
@inlinable
public func linearForward<T: NeuralScalar>(_ x: Matrix<T>, _ layer: LinearParameters<T>,
                                           into y: inout Matrix<T>) {
    gemm(x, layer.weight, transposeB: true, into: &y)      // y = x·Wᵀ     [B,I]·[I,O]
    addBias(layer.bias, to: &y)                            // y += b       broadcast over rows
}

/// Given `dy = ∂ℓ/∂y`: the parameter gradients `db = Σ_rows dy` and `dW = dyᵀ·x`.
/// Shapes: `dy: [B, O]`, `x: [B, I]`, `dW: [O, I]`, `db: [1, O]`.
@inlinable
public func linearBackward<T: NeuralScalar>(
    _ dy: Matrix<T>, input x: Matrix<T>, gradient: inout LinearParameters<T>
) {
    columnSums(of: dy, into: &gradient.bias)               // db = Σ_rows dy
    gemm(dy, transposeA: true, x, into: &gradient.weight)  // dW = dyᵀ·x   [O,B]·[B,I]
}

/// As above, and also the gradient for the layer's input, `dx = dy·W`, which the layer below
/// needs. Shapes: `W: [O, I]`, `dx: [B, I]`. (The order — bias, input, weight — is the order in
/// which Level 3's tape happens to visit them; the three are independent, so any order gives
/// the same bits, and `compare-levels --trace` can show identical call lists.)
@inlinable
public func linearBackward<T: NeuralScalar>(
    _ dy: Matrix<T>, input x: Matrix<T>, layer: LinearParameters<T>,
    gradient: inout LinearParameters<T>, inputGradient dx: inout Matrix<T>
) {
    columnSums(of: dy, into: &gradient.bias)               // db = Σ_rows dy
    gemm(dy, layer.weight, into: &dx)                      // dx = dy·W    [B,O]·[O,I]
    gemm(dy, transposeA: true, x, into: &gradient.weight)  // dW = dyᵀ·x   [O,B]·[B,I]
}

// MARK: - The network

/// The network with hand-written forward and backward passes, and the buffers they reuse.
///
/// All buffers are allocated once; each step resizes them to the batch (the last, partial
/// batch of an epoch shrinks them without freeing memory), so the training loop does not
/// allocate.
public struct ManualNetwork<T: NeuralScalar> {
    /// `fc1`, `fc2`, `fc3`: the weights being trained.
    public var parameters: NetworkParameters<T>
    /// `∂ℓ/∂` every parameter, same shapes, filled by ``backward(_:)``.
    public var gradients: NetworkParameters<T>
    public var learningRate: T

    // Forward activations, kept for the backward pass (readable from outside, to look at).
    public internal(set) var z1, a1: Matrix<T>     // [B, H1]
    public internal(set) var z2, a2: Matrix<T>     // [B, H2]
    public internal(set) var z3: Matrix<T>         // [B, O]   logits (classification) or predictions ŷ (regression)
    public internal(set) var p: Matrix<T>          // [B, O]   softmax probabilities (classification only)
    // Backward buffers.
    public internal(set) var dz3: Matrix<T>        // [B, O]
    public internal(set) var da2, dz2: Matrix<T>   // [B, H2]
    public internal(set) var da1, dz1: Matrix<T>   // [B, H1]

    /// Forward pass; returns the batch-mean loss and leaves every activation in place.
    public mutating func forward(_ batch: Batch<T>) -> T {
        resizeBuffers(rows: batch.count)
        let x = batch.inputs                                     // x: [B, I]
        linearForward(x, parameters.fc1, into: &z1)              // z1 = x·W1ᵀ + b1   [B, H1]
        tanhForward(z1, into: &a1)                               // a1 = tanh(z1)
        linearForward(a1, parameters.fc2, into: &z2)             // z2 = a1·W2ᵀ + b2  [B, H2]
        sigmoidForward(z2, into: &a2)                            // a2 = σ(z2)
        linearForward(a2, parameters.fc3, into: &z3)             // z3 = a2·W3ᵀ + b3  [B, O]
        switch parameters.shape.task {
        case .classification:                                    // p = softmax(z3), ℓ = CE(p, y)
            return softmaxCrossEntropyForward(logits: z3, labels: batch.labels, probabilities: &p)
        case .regression:                                        // ŷ = z3, ℓ = MSE(ŷ, y)
            return meanSquaredErrorForward(predictions: z3, targets: batch.targets)
        }
    }

    /// Backward pass: fills ``gradients`` from the activations ``forward(_:)`` left.
    public mutating func backward(_ batch: Batch<T>) {
        switch parameters.shape.task {                           // dz3 = ∂ℓ/∂z3      [B, O]
        case .classification:
            softmaxCrossEntropyBackward(probabilities: p, labels: batch.labels, into: &dz3)
        case .regression:
            meanSquaredErrorBackward(predictions: z3, targets: batch.targets, into: &dz3)
        }
        linearBackward(dz3, input: a2, layer: parameters.fc3, gradient: &gradients.fc3, inputGradient: &da2)
        sigmoidBackward(output: a2, outputGradient: da2, into: &dz2)   // dz2 = da2 ⊙ a2(1 − a2)
        linearBackward(dz2, input: a1, layer: parameters.fc2, gradient: &gradients.fc2, inputGradient: &da1)
        tanhBackward(output: a1, outputGradient: da1, into: &dz1)      // dz1 = da1 ⊙ (1 − a1²)
        linearBackward(dz1, input: batch.inputs, gradient: &gradients.fc1)  // dx is not needed
    }

    /// SGD: `w ← w − lr·∂ℓ/∂w` for all six tensors.
    public mutating func update() {
        sgdUpdate(&parameters.fc1.weight, gradient: gradients.fc1.weight, learningRate: learningRate)
        sgdUpdate(&parameters.fc1.bias, gradient: gradients.fc1.bias, learningRate: learningRate)
        sgdUpdate(&parameters.fc2.weight, gradient: gradients.fc2.weight, learningRate: learningRate)
        sgdUpdate(&parameters.fc2.bias, gradient: gradients.fc2.bias, learningRate: learningRate)
        sgdUpdate(&parameters.fc3.weight, gradient: gradients.fc3.weight, learningRate: learningRate)
        sgdUpdate(&parameters.fc3.bias, gradient: gradients.fc3.bias, learningRate: learningRate)
    }
}

// MARK: - The buffers, allocated once

extension ManualNetwork {
    /// A network that trains its own copy of `parameters` with plain SGD at `learningRate`.
    /// The gradients start at zero; every activation and gradient buffer starts empty and is
    /// sized by the first batch.
    public init(parameters: NetworkParameters<T>, learningRate: T) {
        self.parameters = parameters
        self.parameters.makeStorageUnique()                    // its own weights, before the gradients
        self.learningRate = learningRate
        let s = parameters.shape
        gradients = NetworkParameters(
            shape: s,
            fc1: LinearParameters(zerosIn: s.sizes[0], out: s.sizes[1]),
            fc2: LinearParameters(zerosIn: s.sizes[1], out: s.sizes[2]),
            fc3: LinearParameters(zerosIn: s.sizes[2], out: s.sizes[3]))
        func buffer(_ width: Int) -> Matrix<T> { Matrix(rows: 0, columns: width) }
        (z1, a1, da1, dz1) = (buffer(s.sizes[1]), buffer(s.sizes[1]), buffer(s.sizes[1]), buffer(s.sizes[1]))
        (z2, a2, da2, dz2) = (buffer(s.sizes[2]), buffer(s.sizes[2]), buffer(s.sizes[2]), buffer(s.sizes[2]))
        (z3, p, dz3) = (buffer(s.sizes[3]), buffer(s.sizes[3]), buffer(s.sizes[3]))
    }

    /// Sizes every activation and gradient buffer for a batch of `rows` (the last, partial batch
    /// of an epoch shrinks them without freeing memory).
    private mutating func resizeBuffers(rows: Int) {
        guard z1.rows != rows else { return }
        for keyPath in [\ManualNetwork.z1, \.a1, \.da1, \.dz1, \.z2, \.a2, \.da2, \.dz2, \.z3, \.p, \.dz3] {
            self[keyPath: keyPath].resize(rows: rows)
        }
    }
}

// MARK: - The training loop

extension ManualNetwork where T == Float {
    /// Trains the network of `job` with plain SGD: for every epoch, for every batch in the shared
    /// order, forward → backward → update; then the test set. Returns the history and the final
    /// weights (also when divergence or Ctrl-C stopped it early). `afterEpoch` is shown the
    /// network after each epoch (compare-levels measures saturation with it).
    public static func run(_ job: TrainingJob,
                           afterEpoch: (_ epoch: Int, _ network: inout ManualNetwork) -> Void = { _, _ in }) throws -> TrainedLevel {
        var network = ManualNetwork(parameters: job.initialParameters, learningRate: Float(job.recipe.learningRate))
        let trainLoader = job.makeTrainLoader()                 // the batches every style sees
        let log = TrainingLog(job)                              // step losses, history, NaN, Ctrl-C
        try log.run {
            for epoch in job.epochs {
                for batch in trainLoader.batches(epoch: epoch) {   // x: [B, I], labels or y: [B, O]
                    let loss = network.forward(batch)           // ℓ, with every activation kept
                    network.backward(batch)                     // every ∂ℓ/∂w, by the chain rule
                    network.update()                            // w ← w − lr·∂ℓ/∂w
                    try log.step(loss, outputs: network.z3, batch: batch)   // z3 from before the update
                }
                try log.epochEnded(network.evaluate(on: job.test))
                afterEpoch(epoch, &network)
            }
        }
        return TrainedLevel(result: log.result, parameters: network.parameters)
    }
}

extension ManualNetwork {
    /// One training step: forward → backward → update; returns the loss before the update.
    public mutating func trainStep(on batch: Batch<T>) -> T {
        let loss = forward(batch)
        backward(batch)
        update()
        return loss
    }

    /// The test loss and accuracy (or R²) of the current weights: the forward pass alone, over
    /// chunks of 1,000 samples.
    public mutating func evaluate(on data: Dataset<T>) -> EvaluationTotals {
        var totals = EvaluationTotals()
        for batch in data.chunks(of: 1000) {
            let loss = forward(batch)
            totals.add(loss: loss, outputs: outputs, batch: batch)
        }
        return totals
    }

    /// What the last ``forward(_:)`` computed: the probabilities `p` (classification) or the
    /// predictions `ŷ = z3` (regression), `[B, O]`.
    public var outputs: Matrix<T> { parameters.shape.task == .classification ? p : z3 }
}
