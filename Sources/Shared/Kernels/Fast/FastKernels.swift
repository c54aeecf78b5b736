// FastKernels.swift — the switch between the readable kernels and their fast forms.
//
// Teaches: how to keep a formula readable and still run it fast. Every kernel in
// Sources/Shared/Kernels/ is written as its formula (`a[i] = tanh(z[i])`, `C = A·Bᵀ`); after its
// shape check and `--trace` record, one line offers the work to a fast form in this folder,
// which computes the same result (bit for bit, within a stated number of ulps where it
// approximates a function, within a stated bound for BLAS's products) by vectorising,
// splitting the work across threads, or both. A learner can read the formula and ignore this
// folder; a sceptic can switch the fast forms off and see that the levels still agree:
//
//     NEURAL_LEVELS_READABLE_KERNELS=1 swift run -c release compare-levels
//
// Leaves out: choosing fast forms per kernel (it is all or nothing, per process or per thread).

import Foundation
import Synchronization

/// Whether the kernels run their fast forms (the default) or only their readable formulas.
///
/// The fast forms are off for the whole process when the environment variable
/// `NEURAL_LEVELS_READABLE_KERNELS` is set to anything but `0` or the empty string when the
/// process starts, and off for one thread inside ``withReadableKernels(_:)`` (tests compare the
/// two forms that way, while other tests run the fast ones).
public enum FastKernels {
    /// The environment's choice, read once.
    @usableFromInline static let allowedByEnvironment: Bool = {
        let value = ProcessInfo.processInfo.environment["NEURAL_LEVELS_READABLE_KERNELS"] ?? ""
        return value.isEmpty || value == "0"
    }()

    /// How many threads are inside ``withReadableKernels(_:)`` right now: while it is 0 (always,
    /// outside tests) no kernel looks at its own thread's setting.
    @usableFromInline static let readableThreads = Atomic<Int>(0)

    /// Whether a kernel called on this thread, now, should use its fast form.
    @inlinable public static var isEnabled: Bool {
        guard allowedByEnvironment else { return false }
        return readableThreads.load(ordering: .relaxed) == 0 || !isReadableThread
    }

    @usableFromInline static var isReadableThread: Bool {
        Thread.current.threadDictionary[readableKey] != nil
    }

    static let readableKey = "NeuralLevels.readableKernels"

    /// Runs `body` with the fast forms off on the calling thread only: every kernel `body` calls
    /// on this thread computes its readable formula, serially.
    public static func withReadableKernels<R>(_ body: () throws -> R) rethrows -> R {
        let dictionary = Thread.current.threadDictionary
        let outer = dictionary[readableKey] != nil
        if !outer {
            dictionary[readableKey] = true
            readableThreads.add(1, ordering: .sequentiallyConsistent)
        }
        defer {
            if !outer {
                readableThreads.subtract(1, ordering: .sequentiallyConsistent)
                dictionary.removeObject(forKey: readableKey)
            }
        }
        return try body()
    }
}
