// AgreementTests.swift — the checker behind "bitwise identical", on runs made by hand to
// disagree in one chosen way: a loss off by a known relative amount at a known step, one tensor
// nudged, a run cut short, a NaN, an epoch's test accuracy. Each must be found where it was put,
// and a difference inside the tolerance must pass without being called bitwise identical.
//
// Teaches: test a comparison on inputs whose answer you built, not only on runs that agree.
// Also the saturation measure, on weights whose shares are known (0, and nearly 1).
// Leaves out: real runs (StyleTests compares every style with `manual`).

import Level4Manual
import LevelComparison
import Shared
import Testing

@Suite("Agreement: the checker finds each kind of difference where it was put")
struct AgreementTests {
    let shape = NetworkShape.standard(for: .regression, hidden: [4, 3])
    var weights: NetworkParameters<Float> { .glorotNormal(shape: shape, seed: 7) }
    let losses = [0.9, 0.7, 0.5, 0.4, 0.35, 0.3]

    /// `weights` with `delta` added to element 0 of the tensor `name`.
    func nudged(_ name: String, by delta: Float) -> NetworkParameters<Float> {
        let tensors = weights.namedTensors.map { entry -> Matrix<Float> in
            var matrix = entry.matrix
            if entry.name == name { matrix.storage[0] += delta }
            return matrix
        }
        return NetworkParameters(shape: shape, checkpointOrder: tensors)
    }

    func check(_ losses: [Double], _ weights: NetworkParameters<Float>, tolerance: Double) -> StyleAgreement {
        compare(style: "s", losses: losses, weights: weights, referenceLosses: self.losses,
                referenceWeights: self.weights, tolerance: tolerance)
    }

    @Test("the same run is bitwise identical, with zero differences, even at tolerance 0")
    func identical() {
        let agreement = check(losses, weights, tolerance: 0)
        #expect(agreement.bitwiseIdentical && agreement.passed)
        #expect(agreement.maxAbsLossDifference == 0 && agreement.maxAbsWeightDifference == 0)
        #expect(agreement.stepDifferences == Array(repeating: 0, count: losses.count))
    }

    @Test("a loss off by 1e-6 (relative) at step 3 passes at tolerance 1e-5, fails at 1e-7 on step 3")
    func lossWithinAndBeyond() {
        var changed = losses
        changed[2] *= 1 + 1e-6                                        // step 3 (1-based)
        let loose = check(changed, weights, tolerance: 1e-5)
        #expect(loose.passed && !loose.bitwiseIdentical)
        #expect(abs(loose.maxRelLossDifference - 1e-6) < 1e-12)
        #expect(loose.stepDifferences.firstIndex { $0 != 0 } == 2)
        let strict = check(changed, weights, tolerance: 1e-7)
        #expect(strict.firstFailingStep == 3 && !strict.passed)
    }

    @Test("a NaN loss fails at its step, whatever the tolerance")
    func notANumber() {
        var changed = losses
        changed[4] = .nan
        #expect(check(changed, weights, tolerance: 1e9).firstFailingStep == 5)
    }

    @Test("a run cut short fails at the first step it did not run")
    func cutShort() {
        let agreement = check(Array(losses.prefix(4)), weights, tolerance: 1)
        #expect(agreement.firstFailingStep == 5 && !agreement.bitwiseIdentical)
    }

    @Test("the tensor that differs most (relative to its largest weight) is named; within tolerance, none")
    func failingTensor() throws {
        let fc2 = try #require(weights.namedTensors.first { $0.name == "fc2.weight" }).matrix
        let scale = try #require(fc2.storage.map { abs($0) }.max())                 // Glorot: not zero
        let agreement = check(losses, nudged("fc2.weight", by: 1e-3 * scale), tolerance: 1e-4)
        #expect(agreement.failingTensor == "fc2.weight" && agreement.firstFailingStep == nil && !agreement.passed)
        #expect(abs(agreement.maxAbsWeightDifference - Double(1e-3 * scale)) < 1e-6 * Double(scale))
        #expect(check(losses, nudged("fc2.weight", by: 1e-3 * scale), tolerance: 1e-2).failingTensor == nil)
        // Two tensors beyond the tolerance: the larger relative difference is named.
        var both = nudged("fc2.weight", by: 1e-3 * scale)
        both.fc1.weight.storage[0] += 0.5
        #expect(check(losses, both, tolerance: 1e-4).failingTensor == "fc1.weight")
    }

    @Test("epochs: a test accuracy off beyond the tolerance names its epoch; a missing epoch fails after the last shared one")
    func epochs() {
        func record(_ epoch: Int, accuracy: Double) -> EpochRecord {
            EpochRecord(epoch: epoch, trainLoss: 0.5, trainAccuracy: 0.8, testLoss: 0.6, testAccuracy: accuracy,
                        testR2: nil, seconds: 1)
        }
        func trained(_ records: [EpochRecord]) -> TrainedLevel {
            var result = TrainingResult()
            result.stepLosses = losses
            result.epochs = records
            return TrainedLevel(result: result, parameters: weights)
        }
        let reference = trained([record(1, accuracy: 0.80), record(2, accuracy: 0.82), record(3, accuracy: 0.84)])
        let same = compare("s", trained([record(1, accuracy: 0.80), record(2, accuracy: 0.82), record(3, accuracy: 0.84)]),
                           with: reference, tolerance: 0)
        #expect(same.bitwiseIdentical && same.passed)
        let changed = compare("s", trained([record(1, accuracy: 0.80), record(2, accuracy: 0.8201), record(3, accuracy: 0.84)]),
                              with: reference, tolerance: 1e-5)
        #expect(changed.firstFailingEpoch == 2 && !changed.passed && changed.firstFailingStep == nil)
        #expect(compare("s", trained([record(1, accuracy: 0.80), record(2, accuracy: 0.8201), record(3, accuracy: 0.84)]),
                        with: reference, tolerance: 1e-3).passed)
        let short = compare("s", trained([record(1, accuracy: 0.80)]), with: reference, tolerance: 1)
        #expect(short.firstFailingEpoch == 2 && !short.bitwiseIdentical)
    }
}

@Suite("Saturation: the shares measured on weights whose answer is known")
struct SaturationTests {
    /// The regression slice's first 64 test samples and the standard network with `fill` in
    /// every weight and zero biases.
    func record(weights fill: Float) throws -> SaturationRecord {
        let (_, test) = try slice(.regression)
        let shape = NetworkShape.standard(for: .regression)
        let layers = zip(shape.sizes.dropFirst(), shape.sizes).map { out, input in
            LinearParameters(weight: Matrix<Float>(rows: out, columns: input, repeating: fill),
                             bias: Matrix<Float>(rows: 1, columns: out))
        }
        var network = ManualNetwork(parameters: NetworkParameters(shape: shape, fc1: layers[0], fc2: layers[1], fc3: layers[2]),
                                    learningRate: 0)
        return SaturationRecord.measure(&network, on: test.batch(rows: 0..<64), epoch: 1)
    }

    @Test("zero weights: tanh(0) = 0 and σ(0) = ½, nothing saturated")
    func zeroWeights() throws {
        let zero = try record(weights: 0)
        #expect(zero.tanhSaturated == 0 && zero.sigmoidSaturated == 0 && zero.epoch == 1)
    }

    @Test("huge weights: almost every unit of both layers saturated")
    func hugeWeights() throws {
        // z1 = 1000·(x1 + x2 + x3): |tanh| > 0.99 unless the inputs sum to within 0.003 of 0;
        // then z2 = 1000·Σ a1, far outside σ's [0.01, 0.99] band.
        let huge = try record(weights: 1000)
        #expect(huge.tanhSaturated > 0.95 && huge.tanhSaturated <= 1, "\(huge)")
        #expect(huge.sigmoidSaturated > 0.95 && huge.sigmoidSaturated <= 1, "\(huge)")
    }
}
