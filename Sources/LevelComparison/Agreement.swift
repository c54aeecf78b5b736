// Agreement.swift — do the styles compute the same thing? Measured, step by step.
//
// Teaches: "the same computation" is a claim you can check. Every step's batch loss of every
// style is compared with the reference (`manual`), then every epoch's numbers (train loss, test
// loss, test accuracy or R²), and at the end every parameter tensor. Bitwise identical means
// every one of those numbers has the same bits.
// Leaves out: why they agree (Shared's "Why the levels agree" article, docs/design.md).

import Shared

/// The comparison of one style with the reference.
public struct StyleAgreement: Sendable, Equatable {
    /// The style's id.
    public var style: String
    /// Every step loss, every epoch's numbers and every weight has the same bits as the reference's.
    public var bitwiseIdentical: Bool
    /// `max |ℓ − ℓ_ref|` over the steps both levels ran.
    public var maxAbsLossDifference: Double
    /// `max |ℓ − ℓ_ref| / |ℓ_ref|`.
    public var maxRelLossDifference: Double
    /// `max |w − w_ref|` over every parameter.
    public var maxAbsWeightDifference: Double
    /// Per step `|ℓ − ℓ_ref|` (the agreement chart).
    public var stepDifferences: [Double]
    /// The first step (1-based, counted over the whole run) whose relative loss difference
    /// exceeds the tolerance, if any.
    public var firstFailingStep: Int?
    /// The first epoch (from 1) whose test loss or test metric differs from the reference's by
    /// more than the tolerance (relative), or that only one of the two completed.
    public var firstFailingEpoch: Int?
    /// The tensor whose relative difference `max|w − w_ref| / max|w_ref|` is largest, if that
    /// exceeds the tolerance.
    public var failingTensor: String?

    public var passed: Bool { firstFailingStep == nil && firstFailingEpoch == nil && failingTensor == nil }
}

/// Compares a style's run (step losses, epoch records, final weights) with the reference's.
public func compare(_ style: String, _ trained: TrainedLevel, with reference: TrainedLevel,
                    tolerance: Double) -> StyleAgreement {
    var agreement = compare(style: style, losses: trained.result.stepLosses, weights: trained.parameters,
                            referenceLosses: reference.result.stepLosses, referenceWeights: reference.parameters,
                            tolerance: tolerance)
    let (epochs, referenceEpochs) = (trained.result.epochs, reference.result.epochs)
    func bits(_ record: EpochRecord) -> [UInt64] {
        [record.trainLoss, record.trainAccuracy ?? .nan, record.trainR2 ?? .nan, record.testLoss,
         record.testAccuracy ?? .nan, record.testR2 ?? .nan].map(\.bitPattern)
    }
    func relative(_ a: Double?, _ b: Double?) -> Double {
        guard let a, let b else { return a == nil && b == nil ? 0 : .infinity }
        return a == b ? 0 : abs(a - b) / abs(b)
    }
    for (record, referenceRecord) in zip(epochs, referenceEpochs) {
        let worst = max(relative(record.trainLoss, referenceRecord.trainLoss),
                        relative(record.trainAccuracy, referenceRecord.trainAccuracy),
                        relative(record.trainR2, referenceRecord.trainR2),
                        relative(record.testLoss, referenceRecord.testLoss),
                        relative(record.testAccuracy, referenceRecord.testAccuracy),
                        relative(record.testR2, referenceRecord.testR2))
        if !(worst <= tolerance) {
            agreement.firstFailingEpoch = record.epoch
            break
        }
    }
    if agreement.firstFailingEpoch == nil && epochs.count != referenceEpochs.count {
        agreement.firstFailingEpoch = min(epochs.count, referenceEpochs.count) + 1
    }
    agreement.bitwiseIdentical = agreement.bitwiseIdentical && epochs.count == referenceEpochs.count
        && zip(epochs, referenceEpochs).allSatisfy { bits($0) == bits($1) }
    return agreement
}

/// Compares a style's step losses and final weights with the reference's.
///
/// A step fails when `|ℓ − ℓ_ref| > tolerance · |ℓ_ref|`; a tensor fails when
/// `max|w − w_ref| > tolerance · max|w_ref|`. Steps that only one of the two ran (one stopped
/// early) count as failing at the first such step.
public func compare(style: String, losses: [Double], weights: NetworkParameters<Float>,
                    referenceLosses: [Double], referenceWeights: NetworkParameters<Float>,
                    tolerance: Double) -> StyleAgreement {
    var differences: [Double] = []
    var maxAbs = 0.0, maxRel = 0.0
    var firstFailing: Int?
    for (index, (loss, reference)) in zip(losses, referenceLosses).enumerated() {
        let difference = abs(loss - reference)
        let relative = reference == 0 ? (difference == 0 ? 0 : .infinity) : difference / abs(reference)
        differences.append(difference)
        maxAbs = max(maxAbs, difference)
        maxRel = max(maxRel, relative)
        if firstFailing == nil && !(relative <= tolerance) { firstFailing = index + 1 }
    }
    if firstFailing == nil && losses.count != referenceLosses.count {
        firstFailing = min(losses.count, referenceLosses.count) + 1
    }

    var maxWeight = 0.0
    var worstTensor: (name: String, relative: Double)?
    for ((name, matrix), (_, reference)) in zip(weights.namedTensors, referenceWeights.namedTensors) {
        let scale = reference.storage.reduce(0.0) { max($0, abs(Double($1))) }
        let difference = zip(matrix.storage, reference.storage).reduce(0.0) { max($0, abs(Double($1.0) - Double($1.1))) }
        maxWeight = max(maxWeight, difference)
        let relative = scale == 0 ? difference : difference / scale
        if !(relative <= tolerance), relative > (worstTensor?.relative ?? -1) { worstTensor = (name, relative) }
    }
    let identical = losses.count == referenceLosses.count && maxAbs == 0 && weights == referenceWeights
        && zip(losses, referenceLosses).allSatisfy { $0.bitPattern == $1.bitPattern }
    return StyleAgreement(style: style, bitwiseIdentical: identical, maxAbsLossDifference: maxAbs,
                          maxRelLossDifference: maxRel, maxAbsWeightDifference: maxWeight,
                          stepDifferences: differences, firstFailingStep: firstFailing,
                          firstFailingEpoch: nil, failingTensor: worstTensor?.name)
}
