// Random.swift — the one random number generator every level shares.
//
// Teaches: reproducibility is a contract, not luck. Every random number in a run (initial
// weights, synthetic data, the shuffle of every epoch) comes from this generator, keyed by the
// seed and a named stream, so the same seed gives the same numbers on every machine.
// Leaves out: cryptographic quality (not needed) and hardware entropy (never used).

/// xoshiro256** (Blackman & Vigna, 2018), seeded through SplitMix64.
///
/// State: four 64-bit words. Step:
/// `result = rotl(s1 · 5, 7) · 9`, `t = s1 << 17`, `s2 ^= s0`, `s3 ^= s1`, `s1 ^= s2`,
/// `s0 ^= s3`, `s2 ^= t`, `s3 = rotl(s3, 45)`.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    @usableFromInline var s0, s1, s2, s3: UInt64

    /// Named streams, so that drawing initial weights never changes the shuffle, and so on.
    public enum Stream: Sendable {
        case initialWeights
        case regressionData
        case shuffle(epoch: Int)
        case custom(UInt64)

        var key: UInt64 {
            switch self {
            case .initialWeights: return 1
            case .regressionData: return 2
            case .shuffle(let epoch): return 0x1000 &+ UInt64(truncatingIfNeeded: epoch)
            case .custom(let value): return value
            }
        }
    }

    /// The generator for `seed` and `stream`: SplitMix64 started at
    /// `seed ⊕ (stream · 0x9E3779B97F4A7C15)` fills the four state words.
    public init(seed: UInt64, stream: Stream = .custom(0)) {
        var splitMix = SplitMix64(state: seed ^ (stream.key &* 0x9E37_79B9_7F4A_7C15))
        s0 = splitMix.next(); s1 = splitMix.next(); s2 = splitMix.next(); s3 = splitMix.next()
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform double in [0, 1): the top 53 bits of `next()`, times 2⁻⁵³.
    @inlinable
    public mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's multiply-and-reject).
    @inlinable
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// Standard normal samples by the Box–Muller transform, two at a time:
    /// `r = √(−2 ln u₁)`, `z₀ = r cos 2πu₂`, `z₁ = r sin 2πu₂`, with `u₁ ∈ (0, 1]`, `u₂ ∈ [0, 1)`.
    public mutating func nextNormalPair() -> (Double, Double) {
        let u1 = 1 - nextUnitInterval()          // (0, 1]: log never sees 0
        let u2 = nextUnitInterval()
        let r = (-2 * Double.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        return (r * Double.cos(theta), r * Double.sin(theta))
    }

    /// `count` standard normal samples (both values of each Box–Muller pair are used, in order).
    public mutating func normals(count: Int) -> [Double] {
        var result: [Double] = []
        result.reserveCapacity(count + 1)
        while result.count < count {
            let (z0, z1) = nextNormalPair()
            result.append(z0)
            result.append(z1)
        }
        result.removeLast(result.count - count)
        return result
    }

    /// A random permutation of `0..<count` by Fisher–Yates: for `i` from `count − 1` down to 1,
    /// swap element `i` with a uniform element of `0...i`.
    public mutating func permutation(count: Int) -> [Int] {
        var order = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                order.swapAt(i, nextInt(below: i + 1))
            }
        }
        return order
    }
}

@inlinable
func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

/// SplitMix64 (Steele, Lea & Flood, 2014): `z = (state += 0x9E3779B97F4A7C15)`, then
/// `z = (z ⊕ z≫30)·0xBF58476D1CE4E5B9`, `z = (z ⊕ z≫27)·0x94D049BB133111EB`, `z ⊕ z≫31`.
/// Used only to expand a seed into xoshiro's state.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
