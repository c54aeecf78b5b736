// KernelThreads.swift — one kernel call, split across the machine's cores.
//
// Teaches: where the second core comes from. A large kernel (a product, tanh or sigmoid, the
// update of a large weight matrix) cuts its output into contiguous parts and runs them at the
// same time with Dispatch's `concurrentPerform`: the calling thread takes parts too, the call
// returns when every part is done, and at most `--threads` threads take part.
// Every part is computed by the same code whoever runs it, so the bits do not depend on which
// thread did what, nor on whether other threads were free (a busy pool runs the parts one by
// one). OpenBLAS is kept at one thread: a matrix product is split here, like any other kernel,
// into single-threaded `gemm` calls on parts of the output (FastLinearAlgebra.swift).
// Dispatch starts its worker threads when first needed (none with `--threads 1`, which never
// splits), and they sleep when there is nothing to do, so a process waiting between kernel
// calls uses no CPU. A hand-written pool of spinning helpers was measured against it and was
// slower on a loaded machine, never clearly faster (docs/performance.md).
// Leaves out: work stealing, nested parallelism (a part that itself splits runs serially).

import Foundation
import Synchronization

/// How many parts the kernels split their work into (`--threads`).
public enum KernelThreads {
    /// The number of parts (threads) a large kernel call is split into; 1 means serial.
    public static var count: Int { pool.parts.load(ordering: .relaxed) }

    /// Uses `count` threads from now on (1 … 256): the calling thread and up to `count − 1`
    /// of Dispatch's worker threads.
    public static func set(_ count: Int) { pool.parts.store(max(1, min(256, count)), ordering: .relaxed) }

    /// Runs `body(part)` for every part in `0..<parts`, at the same time when threads are free,
    /// and returns when all are done. At most ``count`` threads take part.
    @inlinable
    public static func run(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { body(0); return }
        pool.run(parts: parts, body)
    }

    /// How many parts a kernel with `work` units (elements, or multiply-adds) should use:
    /// 1 below `minimum` per extra part (the hand-over costs about a microsecond).
    @inlinable
    public static func parts(forWork work: Int, minimumPerPart minimum: Int) -> Int {
        let n = count
        if n <= 1 || work < 2 * minimum { return 1 }
        return min(n, work / minimum)
    }

    /// Splits `0..<count` into contiguous ranges, one per part (starts multiples of `alignment`),
    /// and runs `body` on each, at the same time when there is enough work (`minimumPerPart`).
    @inlinable
    public static func forEachRange(count total: Int, minimumPerPart minimum: Int, alignment: Int = 16,
                                    _ body: (Range<Int>) -> Void) {
        let n = parts(forWork: total, minimumPerPart: minimum)
        if n == 1 { body(0..<total); return }
        run(parts: n) { part in body(range(part, of: n, count: total, alignment: alignment)) }
    }

    /// Part `part` of `n` of `0..<count`: equal shares, rounded up to a multiple of `alignment`.
    @inlinable
    public static func range(_ part: Int, of n: Int, count total: Int, alignment: Int) -> Range<Int> {
        let share = ((total + n - 1) / n + alignment - 1) / alignment * alignment
        return min(total, part * share)..<min(total, (part + 1) * share)
    }

    @usableFromInline static let pool = WorkerPool(parts: ProcessInfo.processInfo.activeProcessorCount)
}

/// Elements per part below which a kernel that does little per element (a sum, an update) is
/// not split: handing half of it to another core costs about a microsecond, more than such a
/// kernel saves on this network's [64, 128] activations (measured: tanh's backward 1.1 → 2.2 ms
/// per epoch when split).
@usableFromInline let cheapKernelMinimumPerPart = 16_384

/// The same for a kernel that is costly per element (tanh and sigmoid: a polynomial and a
/// division each): tanh's forward on [64, 128] gains from the split (3.7 → 2.3 ms per epoch).
@usableFromInline let costlyKernelMinimumPerPart = 4_096

// MARK: - The pool

/// Runs the parts of one kernel call at a time on Dispatch's threads; other calls made
/// meanwhile (from other threads, or from inside a part) run their parts one after another.
@usableFromInline
final class WorkerPool: Sendable {
    @usableFromInline let parts: Atomic<Int>
    private let busy = Atomic<Bool>(false)

    init(parts: Int) {
        self.parts = Atomic(max(1, min(256, parts)))
    }

    @usableFromInline
    func run(parts requested: Int, _ body: (Int) -> Void) {
        let threads = min(requested, self.parts.load(ordering: .relaxed))
        // Busy (another thread's call, or a part that splits again): the parts one after another.
        guard threads > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<requested { body(part) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            let call = KernelCall(body: body)                // used only until concurrentPerform returns
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                for part in stride(from: thread, to: requested, by: threads) { call.body(part) }
            }
        }
    }
}

/// A kernel call's parts, handed to Dispatch's threads for the length of the call (the parts
/// write disjoint ranges of the output, so they may run at the same time).
struct KernelCall: @unchecked Sendable { let body: (Int) -> Void }
