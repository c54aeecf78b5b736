// Agreement.swift — do the levels compute the same thing? Measured, step by step.
//
// Teaches: "the same computation" is a claim you can check. Every step's batch loss of every
// level is compared with the reference level (the lowest level run, normally Level 4), and at
// the end every parameter tensor. Bitwise identical means every one of those numbers has the
// same 32 bits.
// Leaves out: why they agree (DESIGN.md's shared contract; the "Why the levels agree" notes).

import Shared

/// The comparison of one level with the reference.
public struct LevelAgreement: Sendable, Equatable {
    public var level: Int
    /// Every step loss and every weight has the same bits as the reference's.
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
    /// The tensor whose relative difference `max|w − w_ref| / max|w_ref|` is largest, if that
    /// exceeds the tolerance.
    public var failingTensor: String?

    public var passed: Bool { firstFailingStep == nil && failingTensor == nil }
}

/// Compares a level's step losses and final weights with the reference level's.
///
/// A step fails when `|ℓ − ℓ_ref| > tolerance · |ℓ_ref|`; a tensor fails when
/// `max|w − w_ref| > tolerance · max|w_ref|`. Steps that only one of the two ran (one stopped
/// early) count as failing at the first such step.
public func compare(level: Int, losses: [Double], weights: NetworkParameters<Float>,
                    referenceLosses: [Double], referenceWeights: NetworkParameters<Float>,
                    tolerance: Double) -> LevelAgreement {
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
    return LevelAgreement(level: level, bitwiseIdentical: identical, maxAbsLossDifference: maxAbs,
                          maxRelLossDifference: maxRel, maxAbsWeightDifference: maxWeight,
                          stepDifferences: differences, firstFailingStep: firstFailing,
                          failingTensor: worstTensor?.name)
}
