// BLASCeiling.swift — how fast could an epoch possibly be?
//
// Teaches: nearly all of the arithmetic of training is matrix products. Running exactly the
// `gemm` calls one epoch needs — the same shapes and transposes, nothing else, by OpenBLAS split
// across the threads as training splits them (OpenBLAS even when NEURAL_LEVELS_READABLE_KERNELS=1
// makes the levels run gemm's loops) — gives a floor on the time per epoch (a ceiling on speed).
// Each level's time is then shown as a fraction of it: what is left over is the cost of
// everything that is not a matrix product, including the abstractions.
// Leaves out: the elementwise work (activations, losses, updates), which a real epoch must do.

import Foundation
import Shared

/// The in-run BLAS ceiling.
public struct BLASCeiling: Sendable, Codable, Equatable {
    /// Median seconds for one epoch's `gemm` calls alone.
    public var secondsPerEpoch: Double
    /// Floating-point operations of those calls, `Σ 2·m·n·k`.
    public var flopsPerEpoch: Double
    /// `flopsPerEpoch / secondsPerEpoch / 1e9`.
    public var gflops: Double { flopsPerEpoch / secondsPerEpoch / 1e9 }

    /// Runs one epoch's products `repeats` times and keeps the median.
    ///
    /// Per step, with batch `B` and the layer sizes `I → H1 → H2 → O`, the eight products of
    /// Level 4: forward `x·W1ᵀ`, `a1·W2ᵀ`, `a2·W3ᵀ`; backward `dz3ᵀ·a2`, `dz3·W3`, `dz2ᵀ·a1`,
    /// `dz2·W2`, `dz1ᵀ·x` (the input's own gradient is never needed).
    public static func measure(shape: NetworkShape, sampleCount: Int, batchSize: Int,
                               repeats: Int = 3) -> BLASCeiling {
        let s = shape.sizes
        let weights = (1...3).map { Matrix<Float>(rows: s[$0], columns: s[$0 - 1], repeating: 0.01) }
        var gradients = weights
        let capacity = min(batchSize, max(1, sampleCount))
        var activations = (0...3).map { Matrix<Float>(rows: capacity, columns: s[$0], repeating: 0.5) }
        var deltas = activations

        var flops = 0.0
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            flops = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var first = 0
            while first < sampleCount {
                let rows = min(batchSize, sampleCount - first)
                for k in 0...3 {
                    activations[k].resize(rows: rows)
                    deltas[k].resize(rows: rows)
                }
                for k in 1...3 {                                   // a_k = a_(k−1)·W_kᵀ
                    _ = FastKernels.blasGemm(activations[k - 1], transposeA: false, weights[k - 1], transposeB: true,
                                             into: &activations[k])
                    flops += 2 * Double(rows * s[k] * s[k - 1])
                }
                for k in stride(from: 3, through: 1, by: -1) {
                    _ = FastKernels.blasGemm(deltas[k], transposeA: true, activations[k - 1], transposeB: false,
                                             into: &gradients[k - 1])  // dW_k
                    flops += 2 * Double(rows * s[k] * s[k - 1])
                    if k > 1 {                                     // dz_(k−1) = dz_k·W_k
                        _ = FastKernels.blasGemm(deltas[k], transposeA: false, weights[k - 1], transposeB: false,
                                                 into: &deltas[k - 1])
                        flops += 2 * Double(rows * s[k] * s[k - 1])
                    }
                }
                first += rows
            }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return BLASCeiling(secondsPerEpoch: median(times), flopsPerEpoch: flops)
    }
}

/// The median of `values` (the mean of the middle two for an even count).
public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
