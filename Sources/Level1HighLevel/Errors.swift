// Errors.swift — Level 1: what `compile`, `fit`, `evaluate` and `predict` say when used wrongly.
//
// Teaches: a high-level API earns its keep by catching mistakes before any arithmetic runs, and
// by saying what to do instead ("use .sparseCategoricalCrossentropy for integer labels"). Every
// check here happens on the whole input up front; nothing at this level traps on bad input.
// Leaves out: warnings (Keras prints some, e.g. for a monitored metric that is missing; here
// they are errors).

/// A misuse of the Level 1 API, with a one-line message saying what is wrong and what to do.
public enum HighLevelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `fit`, `evaluate` or a training step before `compile(optimizer:loss:metrics:)`.
    case notCompiled(call: String)
    /// The inputs are not as wide as the model's input layer.
    case inputWidth(argument: String, expected: Int, got: Int)
    /// x and y hold different numbers of samples.
    case sampleCountMismatch(argument: String, inputs: Int, targets: Int)
    /// An argument is out of range (`validationSplit`, `batchSize`, `epochs`, a learning rate, …).
    case invalidArgument(name: String, reason: String)
    /// Pieces that do not fit together: loss and output layer, metric and loss, targets and loss.
    case incompatible(String)
    /// The layers do not make a model (no layers, zero units, a duplicate name, a broken chain).
    case invalidModel(String)

    public var description: String {
        switch self {
        case let .notCompiled(call):
            return "error: \(call) needs a compiled model: call compile(optimizer:loss:metrics:) first"
        case let .inputWidth(argument, expected, got):
            return "error: \(argument) has \(got) features per sample, the model's input is \(expected) wide"
        case let .sampleCountMismatch(argument, inputs, targets):
            return "error: \(argument) has \(inputs) samples of x but \(targets) of y; they must match one to one"
        case let .invalidArgument(name, reason):
            return "error: \(name) \(reason)"
        case let .incompatible(message), let .invalidModel(message):
            return "error: \(message)"
        }
    }
}
