// Guarded.swift — a value behind a lock, for state that threads take turns with.
//
// Teaches: nothing about neural networks; it is plumbing for the few places where two threads
// share state: the kernel pool's helpers and the work offered to them (KernelThreads.swift),
// the batch being gathered ahead (BatchLoader.swift), and `--trace`'s per-thread records
// (KernelTrace.swift).
// Leaves out: lock-free structures (the hot paths use atomics directly).

import Foundation

/// A value behind a lock. `Value` must be `Sendable` itself: `withLock { $0 }` hands a copy of
/// it to whichever thread asks, so the lock alone would not make a class inside it safe. The
/// lock is an `NSLock`, a pthread mutex, which ThreadSanitizer understands; Synchronization's
/// `Mutex` waits on a futex of its own on Linux, so ThreadSanitizer cannot see that it orders
/// the accesses, and reports them as races.
final class Guarded<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }

    /// Runs `body` with the lock held. A thread that finds the lock taken tries again, up to
    /// 1,000 times, before it sleeps on it: the holders here keep it for a microsecond or so,
    /// and a thread that sleeps on a lock is woken by the kernel after the holder lets go, which
    /// on a 2-vCPU virtual machine cost the batch loader several microseconds per batch
    /// (docs/performance.md, "Taking the gathered batch").
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        var tries = 0
        while !lock.try() {
            tries += 1
            if tries == Self.tries { lock.lock(); break }
        }
        defer { lock.unlock() }
        return try body(&value)
    }

    /// How often ``withLock(_:)`` tries before it sleeps.
    static var tries: Int { 1_000 }

    /// Runs `body` if the lock is free, and returns nil at once if it is not.
    func withLockIfAvailable<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result? {
        guard lock.try() else { return nil }
        defer { lock.unlock() }
        return try body(&value)
    }
}
