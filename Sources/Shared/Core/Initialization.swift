// Initialization.swift — the four ways frameworks draw a dense layer's first weights.
//
// Teaches: "initialise the weights randomly" hides a choice that frameworks make differently,
// and that matters for tanh and sigmoid: too large and the units saturate (|tanh| ≈ 1, σ ≈ 0 or
// 1, gradients ≈ 0); too small and the signal fades layer by layer. Glorot (Xavier) scales the
// spread by `fan_in + fan_out` so that activations and gradients keep their variance through a
// tanh layer; Kaiming (He) scales by `fan_in` alone, for ReLU. The same variance can come from
// different shapes of distribution: Keras truncates its normal at 2σ and rescales it, PyTorch
// does not; Keras's Dense defaults to a uniform.
// Leaves out: orthogonal and LSUV initialisation, per-layer gains other than PyTorch's √5 rule.

/// How the initial weights are drawn (`--init-scheme`). Every scheme draws from
/// ``SeededGenerator`` stream `.initialWeights`, layer by layer (`fc1`, `fc2`, `fc3`), each weight
/// matrix row-major in the `[out, in]` layout, computed in Double and rounded once.
public enum InitializationScheme: String, CaseIterable, Sendable, Codable {
    /// `W ~ N(0, σ²)`, `σ = √(2/(fan_in + fan_out))`, not truncated; biases 0. PyTorch's
    /// `xavier_normal_`; the shared contract's default.
    case glorotNormal = "glorot-normal"
    /// `W ~ U(−l, l)`, `l = √(6/(fan_in + fan_out))` (the same variance, `l²/3 = σ²`); biases 0.
    /// Keras's `Dense` default, `glorot_uniform`.
    case glorotUniform = "glorot-uniform"
    /// Keras's `GlorotNormal`: a normal truncated at ±2 standard deviations (draws beyond are
    /// redrawn), with `σ = √(2/(fan_in + fan_out)) / 0.87962566103423978` so that the truncated
    /// distribution still has variance `2/(fan_in + fan_out)`; biases 0.
    case truncatedNormal = "truncated-normal"
    /// PyTorch's `nn.Linear` default: `kaiming_uniform_(a=√5)`, which comes to
    /// `W ~ U(−1/√fan_in, 1/√fan_in)`, and the bias `b ~ U(−1/√fan_in, 1/√fan_in)` too.
    case kaimingUniform = "kaiming-uniform"
}

extension NetworkParameters {
    /// The initial weights for `shape` drawn with `scheme` from `seed`. With `.glorotNormal` these
    /// are ``glorotNormal(shape:seed:)``'s, the numbers every style starts from by default.
    public static func initialized(shape: NetworkShape, seed: UInt64, scheme: InitializationScheme) -> NetworkParameters {
        guard scheme != .glorotNormal else { return glorotNormal(shape: shape, seed: seed) }
        var generator = SeededGenerator(seed: seed, stream: .initialWeights)
        let s = shape.sizes
        let layers = (0..<3).map { LinearParameters<Scalar>.initialized(inputSize: s[$0], outputSize: s[$0 + 1],
                                                                        scheme: scheme, using: &generator) }
        return NetworkParameters(shape: shape, fc1: layers[0], fc2: layers[1], fc3: layers[2])
    }
}

extension LinearParameters {
    /// One layer drawn with `scheme` (see ``InitializationScheme``): the weight `[out, in]`, then,
    /// for `.kaimingUniform` only, the bias; other schemes' biases are zero.
    public static func initialized(inputSize: Int, outputSize: Int, scheme: InitializationScheme,
                                   using generator: inout SeededGenerator) -> LinearParameters {
        let count = inputSize * outputSize
        let glorotSigma = (2.0 / Double(inputSize + outputSize)).squareRoot()
        let weights: [Double]
        var bias = [Double](repeating: 0, count: outputSize)
        switch scheme {
        case .glorotNormal:
            weights = generator.normals(count: count).map { $0 * glorotSigma }
        case .glorotUniform:
            let limit = (6.0 / Double(inputSize + outputSize)).squareRoot()          // σ·√3
            weights = (0..<count).map { _ in (2 * generator.nextUnitInterval() - 1) * limit }
        case .truncatedNormal:
            let sigma = glorotSigma / 0.879_625_661_034_239_78
            weights = (0..<count).map { _ in
                var z = generator.nextNormalPair().0                                 // one normal per pair
                while abs(z) > 2 { z = generator.nextNormalPair().0 }               // redraw beyond ±2σ
                return z * sigma
            }
        case .kaimingUniform:
            let limit = 1 / Double(inputSize).squareRoot()
            weights = (0..<count).map { _ in (2 * generator.nextUnitInterval() - 1) * limit }
            bias = (0..<outputSize).map { _ in (2 * generator.nextUnitInterval() - 1) * limit }
        }
        return LinearParameters(weight: Matrix(rows: outputSize, columns: inputSize, storage: weights.map { Scalar($0) }),
                                bias: Matrix(rows: 1, columns: outputSize, storage: bias.map { Scalar($0) }))
    }
}
