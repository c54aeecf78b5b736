// StyleGradients.swift — each style's gradient, in Double, the way that style's user gets it.
//
// Teaches: the eight idioms side by side at the one moment they differ most: handing over
// ∂ℓ/∂w. Level 4 reads the buffers its hand-written backward filled; autograd reads each
// parameter's `.grad` after `loss.backward()`; TensorFlow's tape *returns* the gradients; JAX's
// `value_and_grad` returns them from a compiler-derived function; a PyTorch module zeroes,
// backpropagates and leaves them in its parameters; Keras's `trainOnBatch` and Lightning's
// `trainingStep` do it inside the framework. Every entry builds the style's own network in
// Double from the given weights and runs the style's own code for one batch; gradcheck
// (GradientCheck.swift) compares the result with finite differences.
// Leaves out: the update (a gradient check needs the gradient, not the step; where the idiom
// only exists as a whole step, as `trainOnBatch`, the step runs and its gradients are read).
//
// Shape legend: B batch · I inputs · H1, H2 hidden widths · O outputs

import Level1HighLevel
import Level2Modules
import Level3Autograd
import Level3Differentiable
import Level4Manual
import Shared

/// A style's loss and gradient at given weights on a batch, in Double: `ℓ` and `∂ℓ/∂w` for every
/// tensor, in the shared layout (`fc1.weight`, `fc1.bias`, …).
public typealias GradientFunction = @Sendable (_ parameters: NetworkParameters<Double>, _ batch: Batch<Double>) throws
    -> (loss: Double, gradients: NetworkParameters<Double>)

/// Each style's ``GradientFunction``, through its own idiom (the registry, Styles.swift, names
/// one per style).
public enum StyleGradients {
    /// The learning rate the networks are built with; no entry uses it for the gradient, which
    /// is taken at the weights given, before any update.
    static let learningRate = 0.1

    /// Level 4: `forward`, then the hand-written `backward`, which fills `gradients`.
    public static func manual(_ parameters: NetworkParameters<Double>, _ batch: Batch<Double>)
        -> (loss: Double, gradients: NetworkParameters<Double>) {
        var network = ManualNetwork(parameters: parameters, learningRate: learningRate)
        let loss = network.forward(batch)                                  // ℓ, every activation kept
        network.backward(batch)                                            // the chain rule by hand
        return (loss, network.gradients)
    }

    /// Level 3, PyTorch's raw autograd: the forward pass on the tape, `loss.backward()`, and each
    /// parameter's `.grad`.
    public static func autograd(_ parameters: NetworkParameters<Double>, _ batch: Batch<Double>)
        -> (loss: Double, gradients: NetworkParameters<Double>) {
        let network = AutogradNetwork(parameters: parameters, learningRate: learningRate)
        let (loss, _) = network.forward(batch)                             // x: [B, I] → ℓ
        loss.backward()                                                    // every parameter's .grad
        return (loss.scalar, grads(of: network.parameters, shape: parameters.shape))
    }

    /// Level 3, TensorFlow: the forward pass recorded on a `GradientTape`, then
    /// `tape.gradient(loss, variables)`.
    public static func gradientTape(_ parameters: NetworkParameters<Double>, _ batch: Batch<Double>) throws
        -> (loss: Double, gradients: NetworkParameters<Double>) {
        let network = GradientTapeNetwork(parameters)                      // six Variables: tensors that require grad
        let tape = GradientTape()
        let value = try tape.record {
            try network.loss(network.model(Tensor(batch.inputs)), batch).loss
        }
        let gradients = tape.gradient(value, network.variables)            // ∂ℓ/∂w for each, in order
        return (value.scalar, NetworkParameters(shape: parameters.shape, checkpointOrder: gradients))
    }

    /// Level 3, JAX: `value_and_grad` of the loss, derived by the compiler.
    public static func differentiable(_ parameters: NetworkParameters<Double>, _ batch: Batch<Double>)
        -> (loss: Double, gradients: NetworkParameters<Double>) {
        let network = DifferentiableNetwork<Double>(task: parameters.shape.task)
        let (loss, gradient) = network.valueAndGradient(at: parameters, on: batch)
        return (loss, gradient)
    }

    /// Level 2, PyTorch modules: `zeroGrad()`, `criterion(model(x), y)`, `backward()`, and the
    /// parameters' `.grad`, as the loop of ModulesNetwork.swift computes them before `step()`.
    public static func modules(_ parameters: NetworkParameters<Double>, _ batch: Batch<Double>)
        -> (loss: Double, gradients: NetworkParameters<Double>) {
        let model = MLP(parameters)
        let task = parameters.shape.task
        let criterion: any Loss<Double> = task == .classification ? CrossEntropyLoss() : MSELoss()
        let (x, y) = (Tensor(batch.inputs), LossTarget(batch, task: task))      // x: [B, I]
        model.zeroGrad()
        let loss = criterion(model(x), y)                                  // model(x): [B, O]
        loss.backward()
        return (loss.scalar, grads(of: model.parameters, shape: parameters.shape))
    }

    /// Level 1, Keras (`keras` and `keras-functional`): the compiled model's `trainOnBatch`, the
    /// step `fit` takes for every batch, and the gradients that step left in the parameters'
    /// `.grad` (its update does not clear them; the next step's `zeroGrad` would).
    public static func keras(functional: Bool) -> GradientFunction {
        { parameters, batch in
            let model: Model<Double> = functional
                ? try KerasFunctionalNetwork.makeModel(startingFrom: parameters, learningRate: learningRate)
                : try KerasNetwork.makeModel(startingFrom: parameters, learningRate: learningRate)
            let loss = try model.trainOnBatch(batch)                       // loss before the update
            return (loss, grads(of: model.parameters, shape: parameters.shape))
        }
    }

    /// Level 1, Lightning: what the `Trainer` does around the module's hook before it steps the
    /// optimizer: `zeroGrad()`, `trainingStep(batch:)`, `backward()`.
    public static func lightning(_ parameters: NetworkParameters<Double>, _ batch: Batch<Double>)
        -> (loss: Double, gradients: NetworkParameters<Double>) {
        let module = LightningNetwork(parameters, learningRate: learningRate)
        module.zeroGrad()
        let loss = module.trainingStep(batch: batch)                       // the module's hook
        loss.backward()
        return (loss.scalar, grads(of: module.parameters, shape: parameters.shape))
    }

    // MARK: - Helpers

    /// The `.grad` of six parameter tensors in checkpoint order, in the shared layout; a tensor
    /// the loss did not reach has gradient zero.
    static func grads(of tensors: [Tensor<Double>], shape: NetworkShape) -> NetworkParameters<Double> {
        NetworkParameters(shape: shape,
                          checkpointOrder: tensors.map { $0.grad ?? Matrix(rows: $0.value.rows, columns: $0.value.columns) })
    }
}
