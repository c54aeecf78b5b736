// Network.swift — the network every level trains, and the initial weights they all start from.
//
// Teaches: the whole model is six arrays. `inputs → Dense(h1, tanh) → Dense(h2, sigmoid) →
// Dense(outputs, head)`, weights in PyTorch's layout `[out, in]` (so `y = x·Wᵀ + b`), initialised
// once with Glorot-normal values from the seed, so every level starts from the same numbers.
// Leaves out: other depths and activations; the contract is this one network.

/// What the network is trained to do, and so its head and loss.
public enum Task: String, CaseIterable, Sendable, Codable {
    /// 10 classes, softmax head, mean categorical cross-entropy (Fashion-MNIST / MNIST).
    case classification
    /// One real output, identity head, mean squared error (the synthetic regression set).
    case regression

    /// The head's activation as the checkpoint metadata names it (Keras's names; "linear" is the
    /// identity head of docs/design.md).
    public var headActivation: String { self == .classification ? "softmax" : "linear" }
}

/// The layer sizes: `inputSize → hidden[0] (tanh) → hidden[1] (sigmoid) → outputSize (head)`.
public struct NetworkShape: Equatable, Sendable, Codable {
    public var task: Task
    public var inputSize: Int
    public var hidden: [Int]
    public var outputSize: Int

    public init(task: Task, inputSize: Int, hidden: [Int], outputSize: Int) {
        precondition(hidden.count == 2, "The network has exactly two hidden layers")
        self.task = task
        self.inputSize = inputSize
        self.hidden = hidden
        self.outputSize = outputSize
    }

    /// The defaults of docs/design.md: 784 → 128 → 64 → 10 (classification), 3 → 64 → 32 → 1 (regression).
    public static func standard(for task: Task, hidden: [Int]? = nil) -> NetworkShape {
        switch task {
        case .classification:
            return NetworkShape(task: task, inputSize: 784, hidden: hidden ?? [128, 64], outputSize: 10)
        case .regression:
            return NetworkShape(task: task, inputSize: 3, hidden: hidden ?? [64, 32], outputSize: 1)
        }
    }

    /// Layer widths including input and output, e.g. `[784, 128, 64, 10]`.
    public var sizes: [Int] { [inputSize] + hidden + [outputSize] }

    /// The activation after each layer: tanh, sigmoid, then the head.
    public var activations: [String] { ["tanh", "sigmoid", task.headActivation] }

    /// Number of trainable scalars: Σ (in·out + out); 109,386 for 784-128-64-10.
    public var parameterCount: Int {
        zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
    }
}

/// One dense layer's parameters, PyTorch layout: `weight: [out, in]`, `bias: [1, out]`.
public struct LinearParameters<Scalar: NeuralScalar>: Equatable, Sendable {
    public var weight: Matrix<Scalar>
    public var bias: Matrix<Scalar>

    public init(weight: Matrix<Scalar>, bias: Matrix<Scalar>) {
        precondition(bias.rows == 1 && bias.columns == weight.rows, "bias must be [1, out]")
        self.weight = weight
        self.bias = bias
    }

    /// Zero weight and bias for a layer `in → out` (the shape of a gradient buffer).
    public init(zerosIn inputSize: Int, out outputSize: Int) {
        self.init(weight: Matrix(rows: outputSize, columns: inputSize),
                  bias: Matrix(rows: 1, columns: outputSize))
    }

    public var inputSize: Int { weight.columns }
    public var outputSize: Int { weight.rows }

    public func converted<Other: NeuralScalar>(to _: Other.Type = Other.self) -> LinearParameters<Other> {
        LinearParameters<Other>(weight: weight.converted(), bias: bias.converted())
    }
}

/// All parameters of the network: `fc1`, `fc2`, `fc3`, as a PyTorch module would name them.
public struct NetworkParameters<Scalar: NeuralScalar>: Equatable, Sendable {
    public var shape: NetworkShape
    public var fc1, fc2, fc3: LinearParameters<Scalar>

    public init(shape: NetworkShape, fc1: LinearParameters<Scalar>, fc2: LinearParameters<Scalar>,
                fc3: LinearParameters<Scalar>) {
        self.shape = shape
        self.fc1 = fc1
        self.fc2 = fc2
        self.fc3 = fc3
    }

    /// Six matrices in checkpoint order — `fc1.weight`, `fc1.bias`, `fc2.weight`, … — as the
    /// network's parameters (the matrices of ``namedTensors``, put back).
    public init(shape: NetworkShape, checkpointOrder matrices: [Matrix<Scalar>]) {
        precondition(matrices.count == 6, "six matrices: fc1.weight, fc1.bias, …, fc3.bias")
        func layer(_ i: Int) -> LinearParameters<Scalar> { LinearParameters(weight: matrices[2 * i], bias: matrices[2 * i + 1]) }
        self.init(shape: shape, fc1: layer(0), fc2: layer(1), fc3: layer(2))
    }

    /// The three layers in order.
    public var layers: [LinearParameters<Scalar>] { [fc1, fc2, fc3] }

    /// Gives every matrix a copy of its elements of its own now, if it shares them (see
    /// ``Matrix/makeStorageUnique()``). A network that will update these parameters in place calls
    /// it before it allocates its gradient buffers: left to copy-on-write, the first update
    /// would copy fc1's weights into memory placed right after its gradient, where the update
    /// was measured to run twice as slowly (docs/performance.md).
    public mutating func makeStorageUnique() {
        fc1.weight.makeStorageUnique(); fc1.bias.makeStorageUnique()
        fc2.weight.makeStorageUnique(); fc2.bias.makeStorageUnique()
        fc3.weight.makeStorageUnique(); fc3.bias.makeStorageUnique()
    }

    /// `(name, matrix)` for every tensor, in checkpoint order: `fc1.weight`, `fc1.bias`, ….
    public var namedTensors: [(name: String, matrix: Matrix<Scalar>)] {
        [("fc1.weight", fc1.weight), ("fc1.bias", fc1.bias),
         ("fc2.weight", fc2.weight), ("fc2.bias", fc2.bias),
         ("fc3.weight", fc3.weight), ("fc3.bias", fc3.bias)]
    }

    public func converted<Other: NeuralScalar>(to _: Other.Type = Other.self) -> NetworkParameters<Other> {
        NetworkParameters<Other>(shape: shape, fc1: fc1.converted(), fc2: fc2.converted(),
                                 fc3: fc3.converted())
    }
}

// MARK: - Glorot-normal initialisation

extension NetworkParameters {
    /// The initial weights every level starts from.
    ///
    /// Glorot/Xavier normal, *not* truncated (Keras's `GlorotNormal` truncates; PyTorch's
    /// `xavier_normal_` does not): `W ~ N(0, σ²)`, `σ = √(2 / (fan_in + fan_out))`; biases zero.
    /// Draws come from ``SeededGenerator`` stream `.initialWeights`, in the order
    /// `fc1.weight, fc2.weight, fc3.weight`, each row-major in the `[out, in]` layout; they are
    /// computed in Double and rounded once to `Scalar`.
    public static func glorotNormal(shape: NetworkShape, seed: UInt64) -> NetworkParameters {
        var generator = SeededGenerator(seed: seed, stream: .initialWeights)
        let s = shape.sizes
        let fc1 = LinearParameters<Scalar>.glorotNormal(inputSize: s[0], outputSize: s[1], using: &generator)
        let fc2 = LinearParameters<Scalar>.glorotNormal(inputSize: s[1], outputSize: s[2], using: &generator)
        let fc3 = LinearParameters<Scalar>.glorotNormal(inputSize: s[2], outputSize: s[3], using: &generator)
        return NetworkParameters(shape: shape, fc1: fc1, fc2: fc2, fc3: fc3)
    }
}

extension LinearParameters {
    /// One layer's Glorot-normal weights, `W: [out, in] ~ N(0, 2/(in + out))` row-major from
    /// `generator` (computed in Double, rounded once), and a zero bias.
    public static func glorotNormal(inputSize: Int, outputSize: Int,
                                    using generator: inout SeededGenerator) -> LinearParameters {
        let sigma = (2.0 / Double(inputSize + outputSize)).squareRoot()
        let values = generator.normals(count: inputSize * outputSize).map { Scalar($0 * sigma) }
        return LinearParameters(weight: Matrix(rows: outputSize, columns: inputSize, storage: values),
                                bias: Matrix(rows: 1, columns: outputSize))
    }
}
