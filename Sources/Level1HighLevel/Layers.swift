// Layers.swift — Level 1: `Dense`, activations by name, and the symbolic `Input` of the
// functional API.
//
// Teaches: a Keras `Dense(128, activation: .tanh)` is a *description* until a model builds it:
// it knows its width but not its input width, so it has no weights yet, and no number type.
// The model that builds it makes a Level 2 `Linear` for it (weights `[out, in]`, bias `[1, out]`,
// in the model's scalar type) and the forward pass becomes `activation(linear(x))`, exactly
// Level 2's `fc1(x).tanh()`. In the functional API, calling a
// layer on an `Input(784)` runs no arithmetic: it records a graph node with a shape, `(None, 128)`,
// so that `Model(inputs:outputs:)` can later find the layers and their order.
// Leaves out: every layer but Dense (Keras has dozens), layers shared between models, graphs
// that branch or merge (the functional API here builds chains), regularisers and constraints.
//
// Shape legend: B batch · I inputs · O outputs (units)

import Level2Modules
import Level3Autograd
import Shared

// MARK: - Activations

/// The activation after a dense layer, by the name Keras gives it (`activation="tanh"`).
public enum Activation: String, Sendable, CaseIterable {
    /// The identity, `a = z` (Keras's default, `None` / `"linear"`).
    case linear
    /// `a = tanh z`.
    case tanh
    /// The logistic sigmoid, `a = 1 / (1 + e^(−z))`.
    case sigmoid
    /// `aᵢⱼ = e^(zᵢⱼ) / Σₖ e^(zᵢₖ)`, along each row. As the output layer of a classifier
    /// trained with cross-entropy it is never applied in training: the loss takes the logits
    /// (see ``LossFunction``).
    case softmax

    /// Applies the activation with Level 3 tensor ops (recorded on the tape when gradients are),
    /// in the model's scalar type.
    ///
    /// Softmax here is composed from primitives, `e^(z − max z) / Σ e^(z − max z)`; it only runs
    /// where nothing fuses it (a softmax in a hidden layer, or before mean squared error).
    public func callAsFunction<Scalar: NeuralScalar>(_ z: Tensor<Scalar>) -> Tensor<Scalar> {
        switch self {
        case .linear: return z
        case .tanh: return z.tanh()                               // as Level 2's MLP: fc1(x).tanh()
        case .sigmoid: return z.sigmoid()                         // as Level 2's MLP: fc2(h1).sigmoid()
        case .softmax:
            let e = (z - z.max(axis: 1).detached()).exp()         // [B, O], each ≤ 1
            return e / e.sum(axis: 1)                             // [B, O] / [B, 1]
        }
    }
}

// MARK: - Dense

/// A fully connected layer, `a = activation(x·Wᵀ + b)` (Keras's `Dense`).
///
/// Shapes: `x: [B, I]`, `W: [O, I]` (PyTorch's layout, as the shared checkpoint stores it),
/// `b: [1, O]`, `a: [B, O]`. Keras stores `W` as `[I, O]` (`kernel`); the numbers are the same,
/// transposed.
///
/// A new layer has no weights; the model it is given to builds it (see ``Model``), from one
/// seeded generator for all its layers, in order, so a default-seeded model starts from the
/// shared initial weights: the shared Glorot normal (`W ~ N(0, 2/(fan_in + fan_out))`, not
/// truncated, PyTorch's `xavier_normal_`), not Keras's own `Dense` default, `glorot_uniform`
/// (Shared's `InitializationScheme.glorotUniform`, `--init-scheme glorot-uniform`). The weights
/// belong to the model (``Model/linears``), in its scalar type: the same `Dense` describes a
/// layer of a `Sequential<Float>` or of a `Sequential<Double>`.
public final class Dense {
    /// The layer's width, `O`.
    public let units: Int
    /// What follows the affine map.
    public let activation: Activation
    /// The name the layer was given, or, once built, the name its model gave it (`fc1`, `fc2`,
    /// … by position: the names of the shared checkpoint). Keras would say `dense`, `dense_1`, ….
    public internal(set) var name: String?
    /// Whether a model has built this layer (a layer belongs to one model).
    public internal(set) var isBuilt = false

    /// A dense layer of `units` outputs.
    ///
    /// - Parameters:
    ///   - units: the output width.
    ///   - activation: applied after `x·Wᵀ + b` (default linear, as in Keras).
    ///   - name: the layer's name in ``Model/summary()`` and in weight files (default: `fc1`,
    ///     `fc2`, … by position). It prefixes the tensor names, `fc1.weight`, so it has no dots.
    public init(_ units: Int, activation: Activation = .linear, name: String? = nil) {
        self.units = units
        self.activation = activation
        self.name = name
    }

    /// Number of trainable scalars once built with input width `inputSize`: `I·O + O`.
    public func parameterCount(inputSize: Int) -> Int { inputSize * units + units }

    // MARK: The functional API

    /// Connects this layer to `input` in a functional model: records a node of shape
    /// `(None, units)`. No arithmetic runs, and no weights are made until `Model(inputs:outputs:)`.
    public func callAsFunction(_ input: KerasTensor) -> KerasTensor {
        KerasTensor(width: units, layer: self, input: input)
    }
}

// MARK: - Symbolic tensors (the functional API)

/// A placeholder for a batch in a functional model definition (Keras's `KerasTensor`): a width
/// and the layer that produced it. Its shape prints as Keras prints it, `(None, 784)`: `None` is
/// the batch size, unknown until data arrives.
public final class KerasTensor: CustomStringConvertible {
    /// Features per sample.
    public let width: Int
    /// The layer that produced this tensor; nil for an ``Input(_:name:)``.
    public let layer: Dense?
    /// The tensor the layer was applied to; nil for an ``Input(_:name:)``.
    public let input: KerasTensor?
    /// For an input: its name in ``Model/summary()``.
    public let name: String

    init(width: Int, layer: Dense?, input: KerasTensor?, name: String = "") {
        self.width = width
        self.layer = layer
        self.input = input
        self.name = name
    }

    /// `(None, width)`.
    public var description: String { "(None, \(width))" }
}

/// The input of a functional model (Keras's `keras.Input(shape=(size,))`): returns a
/// ``KerasTensor``, a symbolic batch of `size` features per sample that no layer produced.
/// There is no `Input` type; the function is capitalized, against Swift's convention, as
/// Keras's `Input` is (a function there too), so that a model definition reads as Keras's.
///
///     let input = Input(784)
///     let h = Dense(128, activation: .tanh)(input)             // (None, 128)
public func Input(_ size: Int, name: String = "input_layer") -> KerasTensor {
    KerasTensor(width: size, layer: nil, input: nil, name: name)
}
