// KernelTrace.swift — an optional record of which kernels ran, with which shapes.
//
// Teaches: `compare-levels --trace` shows that `fit`, `loss.backward()` and the hand-written
// backward pass all come down to the same kernel calls. When tracing is off (always, except for
// that one step), a kernel pays one load and one branch.
// Leaves out: timing (the runner measures time per epoch instead).

import Synchronization

/// A process-wide list of kernel calls, recorded only while ``isEnabled`` is true.
public enum KernelTrace {
    /// One recorded call: kernel name and a shape description, e.g. `gemm`, `A[64,784]·Bᵀ[128,784]`.
    public struct Call: Equatable, Sendable, CustomStringConvertible {
        public var kernel: String
        public var shapes: String
        public var description: String { "\(kernel) \(shapes)" }
        @inlinable public init(kernel: String, shapes: String) {
            self.kernel = kernel
            self.shapes = shapes
        }
    }

    @usableFromInline static let enabled = Atomic<Bool>(false)
    static let calls = Mutex<[Call]>([])

    /// Whether calls are being recorded.
    @inlinable public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Records the calls `body` makes and returns them.
    public static func recording<R>(_ body: () throws -> R) rethrows -> (result: R, calls: [Call]) {
        calls.withLock { $0.removeAll() }
        enabled.store(true, ordering: .relaxed)
        defer { enabled.store(false, ordering: .relaxed) }
        let result = try body()
        return (result, calls.withLock { $0 })
    }

    /// Called by every kernel; costs a relaxed load when tracing is off.
    @inlinable
    public static func record(_ kernel: String, _ shapes: @autoclosure () -> String) {
        if isEnabled { append(Call(kernel: kernel, shapes: shapes())) }
    }

    @usableFromInline
    static func append(_ call: Call) { calls.withLock { $0.append(call) } }
}
