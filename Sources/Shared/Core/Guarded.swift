// Guarded.swift — a value behind a lock, for state that threads take turns with.
//
// Teaches: nothing about neural networks; it is plumbing for the few places where two threads
// share state: the kernel pool's helpers and the work offered to them (KernelThreads.swift),
// the batch being gathered ahead (BatchLoader.swift), and `--trace`'s per-thread records
// (KernelTrace.swift).
// Leaves out: lock-free structures (the hot paths use atomics directly).

import Foundation

/// A value behind a lock. The lock is an `NSLock`, a pthread mutex, which ThreadSanitizer
/// understands; Synchronization's `Mutex` waits on a futex of its own on Linux, so
/// ThreadSanitizer cannot see that it orders the accesses, and reports them as races.
final class Guarded<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
