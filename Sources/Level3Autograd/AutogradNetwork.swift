// AutogradNetwork.swift — Level 3: the network written the way a user of autograd writes it.
//
// Teaches: with a tape, training code shrinks to three things: parameter tensors that require
// grad, a forward pass written as maths, and `loss.backward()`. Compare with Level 4's
// ManualNetwork: no activation buffers, no backward pass, no bookkeeping; the tape keeps what
// backward needs and runs the same Shared kernels in the same order, so the gradients are the
// same bits. The update stays by hand (w ← w − lr·∂ℓ/∂w, under no-grad), as in a
// "PyTorch from scratch" loop.
// Leaves out: layers and optimizer objects (Level 2), `fit` (Level 1).
//
// Shape legend: B batch · I inputs (784 or 3) · H1, H2 hidden widths (128, 64) · O outputs (10 or 1)

import Shared

/// The network as six parameter tensors and a forward pass.
public final class AutogradNetwork<T: NeuralScalar> {
    public let shape: NetworkShape
    /// `fc1`, `fc2`, `fc3`: weights `[out, in]` and biases `[1, out]`, all requiring grad.
    public let w1, b1, w2, b2, w3, b3: Tensor<T>
    public var learningRate: T

    /// Parameter tensors holding the shared initial weights. `NetworkParameters` is a value,
    /// so training these tensors leaves the caller's copy as it was.
    public init(parameters: NetworkParameters<T>, learningRate: T) {
        shape = parameters.shape
        (w1, b1) = (Tensor(parameters.fc1.weight, requiresGrad: true), Tensor(parameters.fc1.bias, requiresGrad: true))
        (w2, b2) = (Tensor(parameters.fc2.weight, requiresGrad: true), Tensor(parameters.fc2.bias, requiresGrad: true))
        (w3, b3) = (Tensor(parameters.fc3.weight, requiresGrad: true), Tensor(parameters.fc3.bias, requiresGrad: true))
        self.learningRate = learningRate
    }

    /// All six, in checkpoint order.
    public var parameters: [Tensor<T>] { [w1, b1, w2, b2, w3, b3] }

    /// The network, `x: [B, I] → z3: [B, O]`: logits (classification) or predictions ŷ
    /// (regression). `x.matmul(w1, transposeB: true)` is `x·W1ᵀ`: `try einsum("bi,oi->bo", x, w1)`.
    public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
        let h1 = (x.matmul(w1, transposeB: true) + b1).tanh()            // [B, H1]
        let h2 = (h1.matmul(w2, transposeB: true) + b2).sigmoid()        // [B, H2]
        return h2.matmul(w3, transposeB: true) + b3                      // [B, O]
    }

    /// The batch-mean loss of outputs `z3` (with the graph that made it), and what the network
    /// reports: softmax probabilities (from the fused loss) or predictions ŷ, `[B, O]`.
    public func loss(_ z3: Tensor<T>, _ batch: Batch<T>) -> (loss: Tensor<T>, outputs: Matrix<T>) {
        switch shape.task {
        case .classification:                                            // softmax + cross-entropy
            let (loss, probabilities) = z3.softmaxCrossEntropy(labels: batch.labels)
            return (loss, probabilities)
        case .regression:                                                // identity + MSE
            return (z3.meanSquaredError(target: Tensor(batch.targets)), z3.value)
        }
    }

    /// The forward pass of a batch: ``loss(_:_:)`` of ``callAsFunction(_:)``.
    public func forward(_ batch: Batch<T>) -> (loss: Tensor<T>, outputs: Matrix<T>) {
        let x = Tensor(batch.inputs)                                     // [B, I]  data: no grad
        return loss(self(x), batch)
    }

    /// The current weights, in the shared layout.
    public var currentParameters: NetworkParameters<T> {
        NetworkParameters(shape: shape, checkpointOrder: parameters.map(\.value))
    }
}

// MARK: - The training loop

extension AutogradNetwork where T == Float {
    /// Trains the network of `job` the way a "PyTorch from scratch" notebook does: for every
    /// batch, the forward pass on the tape, `loss.backward()`, and the update by hand under
    /// no-grad; after every epoch, the test set without a tape.
    public static func run(_ job: TrainingJob) throws -> TrainedLevel {
        let network = AutogradNetwork(parameters: job.initialParameters, learningRate: Float(job.recipe.learningRate))
        let trainLoader = job.makeTrainLoader()                          // the batches every style sees
        let log = TrainingLog(job)                                       // step losses, history, NaN, Ctrl-C
        try log.run {
            for epoch in job.epochs {
                for batch in trainLoader.batches(epoch: epoch) {
                    let z3 = network(Tensor(batch.inputs))               // x: [B, I] → z3: [B, O]
                    let (loss, _) = network.loss(z3, batch)              // ℓ, and the graph that made it
                    loss.backward()                                      // every parameter's .grad
                    network.update()                                     // w ← w − lr·w.grad, under no-grad
                    try log.step(loss.scalar, outputs: z3.value, batch: batch)
                }
                try log.epochEnded(network.evaluate(on: job.test))
            }
        }
        return TrainedLevel(result: log.result, parameters: network.currentParameters)
    }
}

extension AutogradNetwork {
    /// SGD by hand: `w ← w − lr·w.grad` for every parameter, then `w.grad = nil` (else the next
    /// `backward()` adds to it). Under no-grad: the update is not part of any graph.
    public func update() {
        withNoGrad {
            for parameter in parameters {
                if let gradient = parameter.grad {
                    sgdUpdate(&parameter.value, gradient: gradient, learningRate: learningRate)
                }
                parameter.zeroGrad()
            }
        }
    }

    /// One SGD step (forward, `loss.backward()`, ``update()``); returns the loss before the update.
    public func trainStep(on batch: Batch<T>) -> T {
        let (loss, _) = forward(batch)
        loss.backward()
        update()
        return loss.scalar
    }

    /// The test loss and accuracy (or R²): the forward pass without a tape, in chunks of 1,000.
    public func evaluate(on data: Dataset<T>) -> EvaluationTotals {
        withNoGrad {
            var totals = EvaluationTotals()
            for batch in data.chunks(of: 1000) {
                let (loss, outputs) = forward(batch)
                totals.add(loss: loss.scalar, outputs: outputs, batch: batch)
            }
            return totals
        }
    }
}
