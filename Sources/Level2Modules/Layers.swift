// Layers.swift — Level 2: the layers of this network as `torch.nn` writes them.
//
// Teaches: `nn.Linear` is two parameter tensors and one line of Level 3
// (`x.matmul(weight, transposeB: true) + bias`). The activations are plain tensor functions
// (`torch.tanh(x)`, here `x.tanh()`), as this network's `callAsFunction` (PyTorch's `forward`)
// calls them.
// Leaves out: every other layer (convolutions, dropout, normalisation), activation modules
// (`nn.Tanh`) and `nn.Sequential`: this network names its layers `fc1`…`fc3` instead.
//
// Shape legend: B batch · I inputs · O outputs

import Level3Autograd
import Shared

/// A dense layer, `y = x·Wᵀ + b` (PyTorch's `nn.Linear`).
///
/// Shapes: `x: [B, I]`, `weight: [O, I]`, `bias: [1, O]`, `y: [B, O]`.
public final class Linear<Scalar: NeuralScalar>: Module {
    public let weight: Tensor<Scalar>
    public let bias: Tensor<Scalar>
    public var isTraining = true

    /// A layer with the given initial values (e.g. the shared initial weights).
    public init(_ parameters: LinearParameters<Scalar>) {
        weight = Tensor(parameters.weight, requiresGrad: true)
        bias = Tensor(parameters.bias, requiresGrad: true)
    }

    /// A layer `inputSize → outputSize` with Glorot-normal weights drawn from `generator` and a
    /// zero bias (the shared initialisation; PyTorch's own default is Kaiming-uniform).
    public convenience init(inputSize: Int, outputSize: Int, generator: inout SeededGenerator) {
        self.init(.glorotNormal(inputSize: inputSize, outputSize: outputSize, using: &generator))
    }

    /// As above, from a seed (default 42, as everywhere in NeuralLevels): the first draws of that
    /// seed's `.initialWeights` stream, so `Linear(inputSize: 784, outputSize: 128)` is the
    /// shared `fc1`. Each layer made this way starts the stream afresh; to draw a network's
    /// layers one after another, as Shared's `NetworkParameters.glorotNormal(shape:seed:)` does, give
    /// them one generator (the form above).
    public convenience init(inputSize: Int, outputSize: Int, seed: UInt64 = 42) {
        var generator = SeededGenerator(seed: seed, stream: .initialWeights)
        self.init(inputSize: inputSize, outputSize: outputSize, generator: &generator)
    }

    public var inputSize: Int { weight.value.columns }
    public var outputSize: Int { weight.value.rows }

    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        x.matmul(weight, transposeB: true) + bias                        // [B,I]·[I,O] + [1,O]
    }

    public var namedOwnParameters: [(name: String, tensor: Tensor<Scalar>)] {
        [("weight", weight), ("bias", bias)]
    }

    /// The current values, in the shared layout.
    public var currentParameters: LinearParameters<Scalar> {
        LinearParameters(weight: weight.value, bias: bias.value)
    }
}
