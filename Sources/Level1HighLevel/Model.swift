// Model.swift — Level 1: `Sequential` and the functional `Model`, built on Level 2 modules.
//
// Teaches: a Keras model is a list of layers plus bookkeeping. Building it gives each `Dense` a
// Level 2 `Linear`, drawing every layer's Glorot-normal weights from one seeded generator in
// order (fc1, fc2, fc3), so a default model starts from exactly the shared initial weights.
// The model is generic over its scalar type as Levels 2–4 are: `Sequential([…])` is a
// `Sequential<Float>` (float32, Keras's default dtype, what every style trains in), and
// `Sequential<Double>` computes the same model in Double (gradcheck's finite differences).
// The model *is* a Level 2 `Module` (children `fc1`, `fc2`, `fc3`), which is where `parameters`,
// `zeroGrad()`, `stateDict()` and safetensors save/load come from. `summary()` is the table
// Keras prints: layer, output shape `(None, 128)`, parameter count `I·O + O`.
// Leaves out: models that branch, models of models, non-trainable weights, mixed precision;
// `fit` and the callbacks run in Float only (Fit.swift, Callbacks.swift).
//
// Shape legend: B batch · I inputs · O outputs

import Foundation
import Level2Modules
import Level3Autograd
import Shared

/// A trainable model: layers in a chain from an input of `inputSize` features (Keras's `Model`).
///
/// Make one with ``Sequential`` or with the functional API:
///
///     let input = Input(784)
///     let h1 = Dense(128, activation: .tanh)(input)
///     let h2 = Dense(64, activation: .sigmoid)(h1)
///     let output = Dense(10, activation: .softmax)(h2)
///     let model = try Model(inputs: input, outputs: output)
///
/// then `compile(optimizer:loss:metrics:)`, `fit(x:y:…)`, `evaluate(x:y:)` and `predict(_:)`.
///
/// `Scalar` is the number type of the weights and of every computation: `Model(inputs:outputs:)`
/// and `Sequential([…])` without a type are `Float` (Keras's default dtype, float32);
/// `Model<Double>(inputs:outputs:)` builds the same layers in Double.
public class Model<Scalar: NeuralScalar>: Module {
    /// The model's name in ``summary()`` (`"sequential"`, `"functional"`).
    public let name: String
    /// Features per sample, `I`.
    public let inputSize: Int
    /// The layers, in order: what each is (width, activation, name).
    public let layers: [Dense]
    /// Each layer's Level 2 `Linear`, in order: the weights, in this model's scalar type.
    public let linears: [Linear<Scalar>]
    /// Training or evaluation mode (Level 2's `model.train()` / `model.eval()`).
    public var isTraining = true
    /// The functional API's input, shown as the first row of ``summary()``; nil for Sequential.
    let inputLayerName: String?
    /// What ``compile(optimizer:loss:metrics:)`` set up; nil before.
    var compilation: Compilation<Scalar>?

    /// Builds `layers` on an input of `inputSize` features: checks them, names them (`fc1`,
    /// `fc2`, … where not named) and makes each a Level 2 `Linear` with Glorot-normal weights,
    /// `W ~ N(0, 2/(in + out))`, biases zero, drawn in layer order from
    /// `SeededGenerator(seed:stream: .initialWeights)`: the draws of
    /// `NetworkParameters.glorotNormal(shape:seed:)`.
    init(building layers: [Dense], inputSize: Int, name: String, inputLayerName: String?, seed: UInt64) throws {
        let names = try Self.checkedNames(of: layers, inputSize: inputSize)   // the checks: "Checking a model's layers", below
        var generator = SeededGenerator(seed: seed, stream: .initialWeights)
        var width = inputSize
        var linears: [Linear<Scalar>] = []
        for (layer, name) in zip(layers, names) {
            layer.name = name
            layer.isBuilt = true
            linears.append(Linear(.glorotNormal(inputSize: width, outputSize: layer.units, using: &generator)))
            width = layer.units
        }
        self.name = name
        self.inputSize = inputSize
        self.layers = layers
        self.linears = linears
        self.inputLayerName = inputLayerName
    }

    /// A functional model: the layers that lead from `inputs` to `outputs` (Keras's
    /// `keras.Model(inputs=…, outputs=…)`), built as ``Sequential`` builds its layers.
    ///
    /// - Throws: ``HighLevelError/invalidModel(_:)`` when `outputs` was not computed from
    ///   `inputs`, when no layer lies between them, or as `Sequential(_:inputSize:)`.
    public convenience init(inputs: KerasTensor, outputs: KerasTensor, name: String = "functional",
                            seed: UInt64 = 42) throws {
        try self.init(building: Self.layers(from: inputs, to: outputs), inputSize: inputs.width, name: name,
                      inputLayerName: inputs.name, seed: seed)
    }

    /// The layers met following the calls back from `outputs` to `inputs`, first to last.
    static func layers(from inputs: KerasTensor, to outputs: KerasTensor) throws -> [Dense] {
        var chain: [Dense] = []
        var node = outputs
        while let layer = node.layer, let input = node.input {
            chain.append(layer)
            node = input
        }
        guard node === inputs else {
            throw HighLevelError.invalidModel(
                "outputs \(outputs) were not computed from inputs \(inputs): follow the layers back from outputs and they reach another Input")
        }
        guard !chain.isEmpty else {
            throw HighLevelError.invalidModel("no layer between inputs and outputs")
        }
        return chain.reversed()
    }

    // MARK: Forward

    /// Outputs `O`, the width of the last layer.
    public var outputSize: Int { layers[layers.count - 1].units }

    /// The forward pass with every activation, the head's too (`model(x)` in Keras and Level 2):
    /// `x: [B, I] → [B, O]`. A softmax head is computed from primitives here; ``predict(_:batchSize:)``
    /// gives the fused kernel's probabilities instead.
    public final func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        forward(x, applyingHeadActivation: true)
    }

    /// `aₗ = activationₗ(aₗ₋₁·Wₗᵀ + bₗ)`, `a₀ = x`; the last activation only if asked (a softmax
    /// head whose softmax the loss fuses).
    final func forward(_ x: Tensor<Scalar>, applyingHeadActivation: Bool) -> Tensor<Scalar> {
        var a = x
        for (index, (layer, linear)) in zip(layers, linears).enumerated() {
            let z = linear(a)                                     // [B, I]·[I, O] + [1, O]
            a = applyingHeadActivation || index < layers.count - 1 ? layer.activation(z) : z
        }
        return a
    }

    /// Level 2's module tree: one `Linear` child per layer, by the layer's name, so the
    /// parameters are `fc1.weight`, `fc1.bias`, … as in the shared checkpoint.
    public var namedChildren: [(name: String, module: any Module<Scalar>)] {
        zip(layers, linears).map { ($0.name ?? "", $1) }
    }

    // MARK: Weights

    /// Each layer's current weight `[O, I]` and bias `[1, O]` (Keras's `get_weights()`, with
    /// PyTorch's layout).
    public var weights: [LinearParameters<Scalar>] {
        linears.map(\.currentParameters)
    }

    /// Replaces every layer's weights (Keras's `set_weights`): one `LinearParameters` per layer,
    /// weight `[O, I]`, bias `[1, O]`.
    ///
    /// - Throws: ``HighLevelError/incompatible(_:)`` naming the first layer whose shapes differ;
    ///   nothing changes unless all fit.
    public func setWeights(_ weights: [LinearParameters<Scalar>]) throws {
        guard weights.count == layers.count else {
            throw HighLevelError.incompatible("setWeights: \(weights.count) layers of weights for a model of \(layers.count) layers")
        }
        for ((layer, linear), value) in zip(zip(layers, linears), weights) {
            guard value.weight.shape == linear.weight.shape, value.bias.shape == linear.bias.shape else {
                throw HighLevelError.incompatible(
                    "setWeights: layer \(layer.name ?? "") has weight \(linear.weight.shape) and bias \(linear.bias.shape), "
                    + "got \(value.weight.shape) and \(value.bias.shape)")
            }
        }
        for (linear, value) in zip(linears, weights) {
            linear.weight.assign(value.weight)                // into the layer's own buffers
            linear.bias.assign(value.bias)
        }
    }

    /// Starts from given weights, e.g. the shared initial weights (see `setWeights(_:)` above).
    public func setWeights(_ parameters: NetworkParameters<Scalar>) throws {
        try setWeights(parameters.layers)
    }

    /// What the model does: from the compiled loss, or before compiling, from the head
    /// (softmax → classification).
    public var task: Task {
        if let compilation { return compilation.task }
        return layers[layers.count - 1].activation == .softmax ? .classification : .regression
    }

    /// The shared network's shape, when this model has its three Dense layers; nil otherwise.
    public var networkShape: NetworkShape? {
        guard layers.count == 3 else { return nil }
        return NetworkShape(task: task, inputSize: inputSize, hidden: [layers[0].units, layers[1].units],
                            outputSize: outputSize)
    }

    /// The weights in the shared layout (`fc1`, `fc2`, `fc3`).
    ///
    /// - Throws: ``HighLevelError/incompatible(_:)`` unless the model has three Dense layers.
    public func networkParameters() throws -> NetworkParameters<Scalar> {
        guard let shape = networkShape else {
            throw HighLevelError.incompatible(
                "the shared network has 3 Dense layers, this model has \(layers.count); use weights instead")
        }
        let w = weights
        return NetworkParameters(shape: shape, fc1: w[0], fc2: w[1], fc3: w[2])
    }

    /// The `__metadata__` of a weights file, as the shared checkpoint writes it: `task`,
    /// `sizes` (`"784,128,64,10"`), `activations` (`"tanh,sigmoid,softmax"`), `format` `"pt"`.
    public var checkpointMetadata: [String: String] {
        ["task": task.rawValue,
         "sizes": ([inputSize] + layers.map(\.units)).map(String.init).joined(separator: ","),
         "activations": layers.map(\.activation.rawValue).joined(separator: ","),
         "format": "pt"]
    }

    /// Writes the weights as safetensors (atomically), with Level 2's module `save`: tensors
    /// `fc1.weight [O, I]`, `fc1.bias [O]`, …, the shared checkpoint's names and layout, so
    /// `NetworkParameters.load(from:shape:)` and PyTorch read the file too (Keras's `save_weights`).
    public func saveWeights(to path: String) throws {
        try save(to: path, metadata: checkpointMetadata)
    }

    /// Reads weights written by ``saveWeights(to:)`` (or by any level, or PyTorch, with the same
    /// names), with Level 2's module `load`.
    ///
    /// - Throws: `NeuralLevelsError.badCheckpoint` naming the file and the first tensor that is
    ///   missing, unexpected, of another shape or not finite; nothing changes then.
    public func loadWeights(from path: String) throws {
        try load(from: path)
    }
}

// MARK: - Sequential

/// A plain stack of layers (Keras's `keras.Sequential`): each layer's output is the next one's
/// input.
///
///     let model = try Sequential([
///         Dense(128, activation: .tanh),
///         Dense(64, activation: .sigmoid),
///         Dense(10, activation: .softmax),
///     ], inputSize: 784)
///
/// Without a type it is a `Sequential<Float>`; `Sequential<Double>([…], inputSize: 784)` is the
/// same model in Double.
public final class Sequential<Scalar: NeuralScalar>: Model<Scalar> {
    /// Builds `layers` on an input of `inputSize` features.
    ///
    /// - Parameters:
    ///   - layers: the layers, first to last; each must be new (not in another model).
    ///   - inputSize: features per sample (Keras: `Input(shape=(784,))` as the first layer).
    ///   - name: shown by ``Model/summary()``.
    ///   - seed: the initial weights are Glorot normal from this seed, drawn as the shared initial
    ///     weights are: with the default, the 784-128-64-10 model starts from
    ///     `NetworkParameters.glorotNormal(shape:seed: 42)`.
    /// - Throws: ``HighLevelError/invalidModel(_:)`` for no layers, a layer of zero units, an input
    ///   size below 1, a layer used twice or already in a model, or a duplicate or dotted name.
    public convenience init(_ layers: [Dense], inputSize: Int, name: String = "sequential", seed: UInt64 = 42) throws {
        try self.init(building: layers, inputSize: inputSize, name: name, inputLayerName: nil, seed: seed)
    }
}

// MARK: - Summary

extension Model {
    /// The table Keras's `model.summary()` prints: each layer's name and type, output shape and
    /// parameter count (`I·O + O` for a Dense layer), then the totals (4 bytes per Float32
    /// parameter, 8 per Float64). For 784-128-64-10:
    ///
    ///     │ fc1 (Dense)                     │ (None, 128)            │       100,480 │
    ///     …
    ///      Total params: 109,386 (427.29 KB)
    public func summary() -> String {
        var rows: [(String, String, Int)] = []
        if let inputLayerName { rows.append(("\(inputLayerName) (InputLayer)", "(None, \(inputSize))", 0)) }
        var width = inputSize
        for layer in layers {
            rows.append(("\(layer.name ?? "") (Dense)", "(None, \(layer.units))", layer.parameterCount(inputSize: width)))
            width = layer.units
        }
        let total = rows.reduce(0) { $0 + $1.2 }
        let headers = ("Layer (type)", "Output Shape", "Param #")
        let w0 = max(33, rows.map { $0.0.count + 2 }.max() ?? 0)
        let w1 = max(24, rows.map { $0.1.count + 2 }.max() ?? 0)
        let w2 = max(15, rows.map { grouped($0.2).count + 2 }.max() ?? 0)
        func cell(_ text: String, _ width: Int, right: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(0, width - 2 - text.count))
            return " " + (right ? padding + text : text + padding) + " "
        }
        func rule(_ left: String, _ fill: String, _ middle: String, _ right: String) -> String {
            left + [w0, w1, w2].map { String(repeating: fill, count: $0) }.joined(separator: middle) + right
        }
        var lines = ["Model: \"\(name)\""]
        lines.append(rule("┏", "━", "┳", "┓"))
        lines.append("┃" + cell(headers.0, w0) + "┃" + cell(headers.1, w1) + "┃" + cell(headers.2, w2, right: true) + "┃")
        lines.append(rule("┡", "━", "╇", "┩"))
        for (index, row) in rows.enumerated() {
            if index > 0 { lines.append(rule("├", "─", "┼", "┤")) }
            lines.append("│" + cell(row.0, w0) + "│" + cell(row.1, w1) + "│" + cell(grouped(row.2), w2, right: true) + "│")
        }
        lines.append(rule("└", "─", "┴", "┘"))
        let bytes = total * MemoryLayout<Scalar>.size
        lines.append(" Total params: \(grouped(total)) (\(readableSize(bytes)))")
        lines.append(" Trainable params: \(grouped(total)) (\(readableSize(bytes)))")
        lines.append(" Non-trainable params: 0 (0.00 B)")
        return lines.joined(separator: "\n") + "\n"
    }
}

// MARK: - Checking a model's layers

extension Model {
    /// The layers' names (`fc1`, `fc2`, … where not named), once `layers` and `inputSize` are
    /// checked.
    ///
    /// - Throws: ``HighLevelError/invalidModel(_:)`` for no layers, an input size below 1, a
    ///   layer of zero units, a layer used twice or already in a model, or a name that is empty,
    ///   dotted or not unique.
    static func checkedNames(of layers: [Dense], inputSize: Int) throws -> [String] {
        guard !layers.isEmpty else { throw HighLevelError.invalidModel("a model needs at least one Dense layer") }
        guard inputSize >= 1 else {
            throw HighLevelError.invalidModel("the input size must be at least 1, got \(inputSize)")
        }
        let names = layers.enumerated().map { $0.element.name ?? "fc\($0.offset + 1)" }
        for (index, layer) in layers.enumerated() {
            guard layer.units >= 1 else {
                throw HighLevelError.invalidModel("layer \(names[index]) has \(layer.units) units; a Dense layer needs at least 1")
            }
            guard !layer.isBuilt else {
                throw HighLevelError.invalidModel(
                    "layer \(names[index]) already belongs to another model; make a new Dense (shared layers are left out)")
            }
            guard layers[..<index].allSatisfy({ $0 !== layer }) else {
                throw HighLevelError.invalidModel("layer \(names[index]) appears twice; shared layers are left out")
            }
            let name = names[index]
            guard !name.isEmpty, !name.contains("."), names[..<index].allSatisfy({ $0 != name }) else {
                throw HighLevelError.invalidModel(
                    "layer name \"\(name)\" must be non-empty, without dots, and unique in the model")
            }
        }
        return names
    }
}

// MARK: - Float unless said otherwise

extension Model where Scalar == Float {
    /// `Model(inputs:outputs:)` in Float, Keras's default dtype: what
    /// `Model(inputs:outputs:)` without a type builds.
    public convenience init(inputs: KerasTensor, outputs: KerasTensor, name: String = "functional",
                            seed: UInt64 = 42) throws {
        try self.init(building: Self.layers(from: inputs, to: outputs), inputSize: inputs.width, name: name,
                      inputLayerName: inputs.name, seed: seed)
    }
}

extension Sequential where Scalar == Float {
    /// `Sequential(_:inputSize:)` in Float, Keras's default dtype: what
    /// `Sequential([…], inputSize:)` without a type builds.
    public convenience init(_ layers: [Dense], inputSize: Int, name: String = "sequential", seed: UInt64 = 42) throws {
        try self.init(building: layers, inputSize: inputSize, name: name, inputLayerName: nil, seed: seed)
    }
}

// MARK: - Formatting helpers

/// `109386` → `"109,386"`.
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, character) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(character)
    }
    return (value < 0 ? "-" : "") + result
}

/// Bytes as Keras prints them: `437544` → `"427.29 KB"` (powers of 1024, two decimals).
func readableSize(_ bytes: Int) -> String {
    var size = Double(bytes)
    for unit in ["B", "KB", "MB", "GB"] {
        if size < 1024 { return fixed(size, 2) + " " + unit }
        size /= 1024
    }
    return fixed(size, 2) + " TB"
}

/// `value` with `digits` decimals (`%.*f`).
func fixed(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}
