// InitializationTests.swift — the four initialisation schemes against their definitions: the
// spread each promises, the truncation, PyTorch's bias, and the default equal to the shared
// Glorot-normal draws.

import Testing
@testable import Shared

@Suite("Initialisation schemes")
struct InitializationTests {
    let shape = NetworkShape(task: .classification, inputSize: 784, hidden: [128, 64], outputSize: 10)

    func moments(_ values: [Float]) -> (mean: Double, variance: Double) {
        let doubles = values.map(Double.init)
        let mean = doubles.reduce(0, +) / Double(doubles.count)
        return (mean, doubles.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(doubles.count))
    }

    @Test("glorot-normal is the shared initial weights, bit for bit")
    func defaultIsShared() {
        #expect(NetworkParameters<Float>.initialized(shape: shape, seed: 42, scheme: .glorotNormal)
                == .glorotNormal(shape: shape, seed: 42))
    }

    @Test("every Glorot scheme has variance 2/(fan_in + fan_out) in fc1 (100,352 weights), biases zero",
          arguments: [InitializationScheme.glorotNormal, .glorotUniform, .truncatedNormal])
    func glorotVariance(scheme: InitializationScheme) {
        let parameters = NetworkParameters<Float>.initialized(shape: shape, seed: 7, scheme: scheme)
        let (mean, variance) = moments(parameters.fc1.weight.storage)
        let expected = 2.0 / Double(784 + 128)
        #expect(abs(mean) < 0.0005, "mean \(mean)")
        #expect(abs(variance / expected - 1) < 0.02, "variance \(variance), expected \(expected)")
        #expect(parameters.namedTensors.filter { $0.name.hasSuffix("bias") }.allSatisfy { $0.matrix.storage.allSatisfy { $0 == 0 } })
    }

    @Test("glorot-uniform stays within ±√(6/(fan_in + fan_out)); truncated-normal within ±2σ′, σ′ = σ/0.8796")
    func bounds() {
        let uniform = NetworkParameters<Float>.initialized(shape: shape, seed: 3, scheme: .glorotUniform)
        let limit = Float((6.0 / Double(784 + 128)).squareRoot())
        #expect(uniform.fc1.weight.storage.allSatisfy { abs($0) <= limit })
        #expect((uniform.fc1.weight.storage.map { abs($0) }.max() ?? 0) > 0.99 * limit)   // it reaches the edges
        let truncated = NetworkParameters<Float>.initialized(shape: shape, seed: 3, scheme: .truncatedNormal)
        let sigma = (2.0 / Double(784 + 128)).squareRoot() / 0.879_625_661_034_239_78
        #expect(truncated.fc1.weight.storage.allSatisfy { abs(Double($0)) <= 2 * sigma * (1 + 1e-6) })
        #expect((truncated.fc1.weight.storage.map { abs(Double($0)) }.max() ?? 0) > 1.95 * sigma)
    }

    @Test("kaiming-uniform: weights and biases within ±1/√fan_in, variance 1/(3·fan_in), as nn.Linear")
    func kaimingUniform() {
        let parameters = NetworkParameters<Float>.initialized(shape: shape, seed: 5, scheme: .kaimingUniform)
        for (layer, fanIn) in [(parameters.fc1, 784), (parameters.fc2, 128), (parameters.fc3, 64)] {
            let limit = Float(1 / Double(fanIn).squareRoot())
            #expect(layer.weight.storage.allSatisfy { abs($0) <= limit })
            #expect(layer.bias.storage.allSatisfy { abs($0) <= limit } && layer.bias.storage.contains { $0 != 0 })
        }
        let (_, variance) = moments(parameters.fc1.weight.storage)
        #expect(abs(variance / (1.0 / (3 * 784)) - 1) < 0.02, "variance \(variance)")
    }

    @Test("the same seed gives the same weights; another seed, others", arguments: InitializationScheme.allCases)
    func deterministic(scheme: InitializationScheme) {
        let a = NetworkParameters<Float>.initialized(shape: shape, seed: 11, scheme: scheme)
        #expect(a == NetworkParameters<Float>.initialized(shape: shape, seed: 11, scheme: scheme))
        #expect(a != NetworkParameters<Float>.initialized(shape: shape, seed: 12, scheme: scheme))
    }
}
