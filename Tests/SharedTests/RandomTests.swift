// RandomTests.swift — the generator against published test vectors, and the statistics of the
// normals, the permutations and the Glorot initial weights.

import Foundation
import Testing
@testable import Shared

@Suite("Seeded randomness and Glorot initialisation")
struct RandomTests {
    @Test("SplitMix64 matches its reference output for seed 1234567")
    func splitMixVector() {
        var generator = SplitMix64(state: 1_234_567)
        let outputs = (0..<5).map { _ in generator.next() }
        #expect(outputs == [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                            4_593_380_528_125_082_431, 16_408_922_859_458_223_821])
    }

    @Test("xoshiro256** matches its reference output from state (1, 2, 3, 4)")
    func xoshiroVector() {
        var generator = SeededGenerator(seed: 0)
        (generator.s0, generator.s1, generator.s2, generator.s3) = (1, 2, 3, 4)
        let outputs = (0..<4).map { _ in generator.next() }
        #expect(outputs == [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240])
    }

    @Test("same seed and stream, same numbers; another stream or seed, other numbers")
    func determinism() {
        var a = SeededGenerator(seed: 42, stream: .shuffle(epoch: 1))
        var b = SeededGenerator(seed: 42, stream: .shuffle(epoch: 1))
        var c = SeededGenerator(seed: 42, stream: .shuffle(epoch: 2))
        var d = SeededGenerator(seed: 43, stream: .shuffle(epoch: 1))
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
        #expect(first != (0..<8).map { _ in d.next() })
    }

    @Test("unit interval and bounded integers stay in range and are roughly uniform")
    func uniform() {
        var generator = SeededGenerator(seed: 7)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 {
            let u = generator.nextUnitInterval()
            #expect(u >= 0 && u < 1)
            counts[generator.nextInt(below: 10)] += 1
        }
        // χ² with 9 degrees of freedom: 27.9 is the 0.999 quantile.
        let chiSquared = counts.reduce(0.0) { $0 + pow(Double($1) - 10_000, 2) / 10_000 }
        #expect(chiSquared < 27.9)
    }

    @Test("Box–Muller normals have mean 0, variance 1, and Gaussian tails")
    func normals() {
        var generator = SeededGenerator(seed: 11)
        let z = generator.normals(count: 200_000)
        let mean = z.reduce(0, +) / Double(z.count)
        let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(z.count - 1)
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.015)
        let beyondTwo = Double(z.filter { abs($0) > 2 }.count) / Double(z.count)
        #expect(abs(beyondTwo - 0.0455) < 0.003)                 // P(|Z| > 2) = 4.55 %
    }

    @Test("permutations contain every index once")
    func permutation() {
        var generator = SeededGenerator(seed: 3)
        let order = generator.permutation(count: 1000)
        #expect(order.sorted() == Array(0..<1000))
        #expect(order != Array(0..<1000))
        #expect(generator.permutation(count: 1) == [0])
        #expect(generator.permutation(count: 0) == [])
    }

    @Test("Glorot normal: σ = √(2/(fan_in+fan_out)), mean 0, zero biases, not truncated")
    func glorot() {
        let shape = NetworkShape.standard(for: .classification)
        let parameters = NetworkParameters<Float>.glorotNormal(shape: shape, seed: 42)
        #expect(parameters.fc1.weight.shape == [128, 784])
        #expect(parameters.fc2.weight.shape == [64, 128])
        #expect(parameters.fc3.weight.shape == [10, 64])
        for layer in parameters.layers {
            #expect(layer.bias.storage.allSatisfy { $0 == 0 })
        }
        let w = parameters.fc1.weight.storage.map(Double.init)
        let sigma = (2.0 / Double(784 + 128)).squareRoot()
        let mean = w.reduce(0, +) / Double(w.count)
        let std = (w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(w.count)).squareRoot()
        // The mean of n = 100,352 draws has a standard error of σ/√n (σ/317): within 4 of them
        // (seed 42's is 0.23 of one). The bound on `std` is 4.5 of its standard errors (σ/√(2n) ≈ 0.0022σ).
        #expect(abs(mean) < 4 * sigma / Double(w.count).squareRoot())
        #expect(abs(std / sigma - 1) < 0.01)
        // A truncated normal (Keras) never goes past 2σ; the plain normal does, ~4.55 % of draws.
        let beyond = Double(w.filter { abs($0) > 2 * sigma }.count) / Double(w.count)
        #expect(beyond > 0.04 && beyond < 0.051)

        #expect(parameters == NetworkParameters<Float>.glorotNormal(shape: shape, seed: 42))
        #expect(parameters != NetworkParameters<Float>.glorotNormal(shape: shape, seed: 43))
        #expect(shape.parameterCount == 109_386)
    }
}

@Suite("Batches and the synthetic regression set")
struct BatchTests {
    @Test("60,000 samples at batch 64 give 938 steps, the last of 32")
    func schedule() {
        let schedule = BatchSchedule(sampleCount: 60_000, batchSize: 64, shuffle: true, seed: 42)
        #expect(schedule.stepsPerEpoch == 938)
        #expect(schedule.range(ofStep: 937) == 59_968..<60_000)
        let first = schedule.order(epoch: 1)
        #expect(first.sorted() == Array(0..<60_000))
        #expect(first != schedule.order(epoch: 2))
        #expect(first == schedule.order(epoch: 1))
        let fileOrder = BatchSchedule(sampleCount: 10, batchSize: 4, shuffle: false, seed: 42)
        #expect(fileOrder.order(epoch: 3) == Array(0..<10))
    }

    @Test("gather copies the chosen rows and reuses the batch buffers")
    func gather() {
        let inputs = Matrix<Float>(rows: 5, columns: 2, storage: (0..<10).map(Float.init))
        let data = Dataset.classification(inputs: inputs, labels: [0, 1, 2, 3, 4], classCount: 10)
        var batch = data.makeBatch(capacity: 3)
        data.gather([4, 0, 2], into: &batch)
        #expect(batch.inputs.storage == [8, 9, 0, 1, 4, 5])
        #expect(batch.labels == [4, 0, 2])
        data.gather([1], into: &batch)
        #expect(batch.inputs.shape == [1, 2])
        #expect(batch.inputs.storage == [2, 3])
        #expect(data.prefix(2).labels == [0, 1])
    }

    @Test("images kept as bytes gather to byte / 255, exactly as the same set stored as Float")
    func pixelStorage() {
        let (rows, columns) = (40, 13)                              // 13 bytes a row: rows are not aligned
        let bytes = (0..<(rows * columns)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 7) }
        let labels = (0..<rows).map { Int32($0 % 10) }
        let compact = Dataset<Float>.classification(pixels: bytes, rows: rows, columns: columns, labels: labels, classCount: 10)
        let expanded = Dataset.classification(
            inputs: Matrix(rows: rows, columns: columns, storage: bytes.map { Float($0) / 255 }),
            labels: labels, classCount: 10)
        #expect(compact.count == rows && compact.featureCount == columns)
        #expect(compact.inputs == expanded.inputs)                 // materialised whole
        #expect(Set(bytes).count == 256)                            // every byte value is checked

        var a = compact.makeBatch(capacity: 8), b = expanded.makeBatch(capacity: 8)
        for indices in [[39, 0, 17, 17, 5, 38, 1, 22], [3], [39], []] {
            compact.prefetch(indices)                               // a hint: changes nothing, never faults
            compact.gather(indices, into: &a)
            expanded.gather(indices, into: &b)
            #expect(a.inputs == b.inputs && a.labels == b.labels, "rows \(indices)")
            #expect(a.inputs.shape == [indices.count, columns])
        }
        #expect(compact.prefix(7).inputs == expanded.prefix(7).inputs)
        #expect(compact.prefix(7).count == 7 && compact.prefix(nil).count == rows && compact.prefix(0).count == 0)
        // Double sees the bytes exactly divided in Double, as `x / 255.0` would.
        #expect(compact.converted(to: Double.self).inputs.storage == bytes.map { Double($0) / 255 })
        // Assigning real inputs replaces the bytes.
        var replaced = compact
        replaced.inputs = Matrix(rows: rows, columns: 1, repeating: 0.5)
        #expect(replaced.featureCount == 1 && replaced.batch(rows: 0..<2).inputs.storage == [0.5, 0.5])
    }

    @Test("synthetic regression follows y = sin(πx₁)·x₂ + x₃² + noise, inputs in [−1, 1]")
    func regression() {
        let (train, test) = SyntheticRegression.make(seed: 42, trainCount: 5000, testCount: 1000, as: Double.self)
        #expect(train.count == 5000 && test.count == 1000)
        #expect(train.inputs.storage.allSatisfy { $0 >= -1 && $0 <= 1 })
        var residuals: [Double] = []
        for i in 0..<train.count {
            let (x1, x2, x3) = (train.inputs[i, 0], train.inputs[i, 1], train.inputs[i, 2])
            let f = sin(.pi * x1) * x2 + x3 * x3                     // the formula, not the code under test
            #expect(abs(SyntheticRegression.function(x1, x2, x3) - f) <= 1e-12)
            residuals.append(train.targets[i, 0] - f)
        }
        let noiseStd = (residuals.reduce(0) { $0 + $1 * $1 } / Double(residuals.count)).squareRoot()
        #expect(abs(noiseStd - SyntheticRegression.noise) < 0.005)
        let again = SyntheticRegression.make(seed: 42, trainCount: 5000, testCount: 1000, as: Double.self)
        #expect(again.train.targets == train.targets)
        #expect(test.inputs[0, 0] != train.inputs[0, 0])          // the test split follows, not repeats
    }
}
