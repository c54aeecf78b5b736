// Module.swift — Level 2: what `torch.nn.Module` is.
//
// Teaches: a module is an object that owns parameter tensors and child modules, and maps an
// input tensor to an output tensor. Everything else `torch.nn` offers — `parameters()`,
// `named_parameters()`, `zero_grad()`, `train()`/`eval()`, `state_dict()` — is a walk over that
// tree, written here in a few lines each.
// Leaves out: hooks, buffers that are not parameters (batch-norm statistics), devices, dtypes.

import Foundation
import Level3Autograd
import Shared

/// A layer or a model: owns parameters and children, and maps an input to an output.
///
/// A conforming class lists what it owns in ``namedChildren`` and ``namedOwnParameters``; the
/// extension below derives everything else from those two lists.
public protocol Module<Scalar>: AnyObject {
    associatedtype Scalar: NeuralScalar

    /// The forward pass: `output = module(input)`.
    func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar>

    /// Child modules, by attribute name (`fc1`, `fc2`, …).
    var namedChildren: [(name: String, module: any Module<Scalar>)] { get }

    /// Parameters this module holds itself (not its children's): `weight`, `bias`.
    var namedOwnParameters: [(name: String, tensor: Tensor<Scalar>)] { get }

    /// Training or evaluation mode (`model.train()` / `model.eval()`). No layer of this network
    /// behaves differently in the two modes; dropout or batch norm would read it.
    var isTraining: Bool { get set }
}

extension Module {
    public var namedChildren: [(name: String, module: any Module<Scalar>)] { [] }
    public var namedOwnParameters: [(name: String, tensor: Tensor<Scalar>)] { [] }

    /// Every parameter of this module and its descendants, named by path (`fc1.weight`): PyTorch's
    /// `named_parameters()`, in declaration order.
    public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] {
        namedOwnParameters + namedChildren.flatMap { child in
            child.module.namedParameters.map { (child.name + "." + $0.name, $0.tensor) }
        }
    }

    /// Every parameter, for an optimizer: `model.parameters()`.
    public var parameters: [Tensor<Scalar>] { namedParameters.map(\.tensor) }

    /// Forgets every parameter's gradient (`model.zero_grad()`); without it, gradients of
    /// successive `backward()` calls add up.
    public func zeroGrad() {
        for parameter in parameters { parameter.zeroGrad() }
    }

    /// Training mode, for this module and all its children (`model.train()`).
    public func train() {
        isTraining = true
        for child in namedChildren { child.module.train() }
    }

    /// Evaluation mode, for this module and all its children (`model.eval()`).
    public func eval() {
        isTraining = false
        for child in namedChildren { child.module.eval() }
    }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

// MARK: - State dicts

/// A module's weights by name: PyTorch's `state_dict()`.
public typealias StateDict<Scalar: NeuralScalar> = [String: Matrix<Scalar>]

extension Module {
    /// A copy of every parameter's value, by name.
    public func stateDict() -> StateDict<Scalar> {
        Dictionary(uniqueKeysWithValues: namedParameters.map { ($0.name, $0.tensor.value) })
    }

    /// Replaces every parameter's value with the one of the same name in `state`.
    ///
    /// - Throws: Shared's `NeuralLevelsError.badCheckpoint(file:reason:)` (with `source` as the file)
    ///   naming the first tensor that is missing, unexpected, or of another shape. Nothing is
    ///   changed unless everything matches.
    public func loadStateDict(_ state: StateDict<Scalar>, source: String = "state dict") throws {
        let named = namedParameters
        for (name, tensor) in named {
            guard let value = state[name] else {
                throw NeuralLevelsError.badCheckpoint(file: source, reason: "missing tensor \(name)")
            }
            guard value.shape == tensor.value.shape else {
                throw NeuralLevelsError.badCheckpoint(
                    file: source, reason: "\(name) has shape \(value.shape), the model expects \(tensor.value.shape)")
            }
        }
        let expected = Set(named.map(\.name))
        if let extra = state.keys.sorted().first(where: { !expected.contains($0) }) {
            throw NeuralLevelsError.badCheckpoint(file: source, reason: "unexpected tensor \(extra)")
        }
        for (name, tensor) in named { tensor.assign(state[name]!) }   // present and of its shape: checked above
    }

    /// Writes the state dict as safetensors (atomically). A `[1, n]` bias is stored as `[n]`,
    /// as PyTorch stores biases, so the file loads into a PyTorch module with the same names.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        let tensors = namedParameters.map { name, tensor in
            let value = tensor.value
            let bytes = value.storage.withUnsafeBytes { Array($0) }
            return (name: name, dtype: Scalar.safetensorsDType,
                    shape: Safetensors.storedShape(of: value.shape, named: name), bytes: bytes)
        }
        try AtomicFile.write(Safetensors.encode(tensors, metadata: metadata), to: path)
    }

    /// Reads a safetensors file written by ``save(to:metadata:)`` (or by PyTorch) into this
    /// module: every parameter's tensor, of its shape (a bias as `[n]`) and finite, and no
    /// other tensor (Shared's `Safetensors.matrices(from:for:file:owner:)`), then
    /// ``loadStateDict(_:source:)``. The file may be at most the parameters in F64 and a 1 MiB
    /// header.
    ///
    /// - Throws: Shared's `NeuralLevelsError.badCheckpoint(file:reason:)` naming the file and
    ///   the first problem; nothing is changed then.
    public func load(from path: String) throws {
        let bytes = try Safetensors.readCheckpoint(at: path, parameterCount: parameterCount, owner: "this model")
        let (tensors, _) = try Safetensors.decode(bytes, file: path)
        let state: StateDict<Scalar> = try Safetensors.matrices(
            from: tensors, for: namedParameters.map { ($0.name, $0.tensor.value.shape) }, file: path, owner: "the model")
        try loadStateDict(state, source: path)
    }
}
