// KernelThreads.swift — one kernel call, split across the machine's cores.
//
// Teaches: where the second core comes from. A training step is a chain of kernel calls, each
// too small (microseconds) for a general task system, so the split is the simplest one that
// works: a large kernel (a product, tanh or sigmoid, the update of a large weight matrix) cuts
// its output into contiguous parts, the calling thread computes part 0 and helper threads the
// others, and the call returns when every part is done.
// Every part is computed by the same code whoever runs it, so the bits do not depend on which
// thread did what, nor on whether helpers were free (a busy pool runs the parts one by one).
// OpenBLAS is kept at one thread: a matrix product is split here, like any other kernel, into
// single-threaded `gemm` calls on parts of the output (FastLinearAlgebra.swift).
//
// The helpers rest when there is nothing to do. A helper is started the first time a call
// needs it, so there are never more than `--threads − 1` of them (none with `--threads 1`;
// a program that lowers the count later keeps the helpers it started, asleep). A
// call wakes only the helpers it gives a part to, and waits only for those. Whoever waits (a
// helper for the next call, the caller for the helpers) first spins for about 200 µs, since
// the next kernel call usually comes sooner than that, and then sleeps on a
// semaphore until it is woken: a process waiting between kernel calls uses no CPU.
// While the first helper spins it can do work offered to it (`offer`, `IdleWork`) in steps of
// about a microsecond, from the call after the offer on, checking for the next call between
// steps: the batch loader has it gather the next batch there (BatchLoader.swift), in time the
// helper would otherwise spend spinning while the caller runs the kernels too small to split.
// Leaves out: work stealing, nested parallelism (a part that itself splits runs serially).

import Foundation
import Synchronization

/// How many parts the kernels split their work into (`--threads`).
public enum KernelThreads {
    /// The number of parts (threads) a large kernel call is split into; 1 means serial.
    public static var count: Int { pool.parts.load(ordering: .relaxed) }

    /// Uses `count` threads from now on (1 … 256): the calling thread and up to `count − 1`
    /// helpers, started when a call first needs them.
    public static func set(_ count: Int) { pool.parts.store(max(1, min(256, count)), ordering: .relaxed) }

    /// Runs `body(part)` for every part in `0..<parts`, at the same time when helpers are free,
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

    /// Hands `work` to a helper, which does it step by step while it waits for kernel calls
    /// (replacing any work handed over before). It starts after the next split call: the caller
    /// usually makes one at once (a step's first product follows the batch being handed out),
    /// which should not wait for a step of this work (measured: Level 4 ~2% faster). Returns
    /// false, and hands nothing over, when there is no helper to do it: one thread, or no call
    /// has split yet.
    public static func offer(_ work: any IdleWork) -> Bool { pool.offer(work) }

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

/// Work that a helper does in small steps between kernel calls, while it would otherwise spin
/// (``KernelThreads/offer(_:)``; the batch loader gathers the next batch this way).
public protocol IdleWork: AnyObject, Sendable {
    /// Does one small step of the work, if any is left, and answers whether there may be more
    /// (false: the work is done, or no longer wanted, and the helper lets go of it). A step
    /// takes about a microsecond (a kernel call that comes meanwhile waits for it to end).
    func step() -> Bool
}

// MARK: - Waiting: spin a little, then sleep

/// One thread's place to wait for a condition another thread makes true: it spins for a while
/// (the condition usually comes within microseconds), then sleeps until ``wake()``.
final class Parker: Sendable {
    private let sleeping = Atomic<Bool>(false)
    private let semaphore = DispatchSemaphore(value: 0)

    /// Spins (about 200 µs on a 2026 x86-64 core) before sleeping. Long enough to span the gap
    /// between two split kernel calls of a training step, tape bookkeeping included: at 50 µs
    /// the helper fell asleep and had to be woken ~3 times per step (Level 4, ~6,600 context
    /// switches in 3 epochs; ~11,000 for Keras's `fit`), and Level 4 ran 25% slower. Waiting one
    /// second still costs a thread only these 200 µs (docs/performance.md).
    static let spins = 400_000

    /// Returns once `ready()` is true. The thread that makes it true must call ``wake()`` after.
    /// While it spins it calls `meanwhile()` now and then (every 64 rounds): work to do while
    /// waiting, in steps of about a microsecond, which answers whether it did any (a step of
    /// work restarts the spin, so the thread does not fall asleep with work left).
    func wait(until ready: () -> Bool, meanwhile: () -> Bool = { false }) {
        while true {
            var round = 0
            while round < Self.spins {
                if ready() { return }
                round += 1
                if round & 63 == 0, meanwhile() { round = 0 }
            }
            sleeping.store(true, ordering: .sequentiallyConsistent)
            if ready() {
                // Ready after all: take back the sleep, unless a waker already did (then it
                // signals, and the signal is taken here so that it cannot wake a later wait).
                if !sleeping.exchange(false, ordering: .sequentiallyConsistent) { semaphore.wait() }
                return
            }
            semaphore.wait()                       // woken: ready now (checked at the top)
        }
    }

    /// Whether the waiting thread sleeps now (for tests: an idle pool sleeps).
    var isSleeping: Bool { sleeping.load(ordering: .relaxed) }

    /// Wakes the waiting thread if it sleeps. Call after making the condition true.
    func wake() {
        if sleeping.exchange(false, ordering: .sequentiallyConsistent) { semaphore.signal() }
    }
}

// MARK: - The pool

/// The calling thread plus helper threads, each of which runs its part of a kernel call.
@usableFromInline
final class WorkerPool: @unchecked Sendable {
    /// One helper: the number of calls handed to it so far, and where it waits for the next.
    final class Helper: Sendable {
        let part: Int
        let calls = Atomic<Int>(0)
        let parker = Parker()
        init(part: Int) { self.part = part }
    }

    @usableFromInline let parts: Atomic<Int>
    private let busy = Atomic<Bool>(false)
    private let helpers = Guarded<[Helper]>([])
    private let remaining = Atomic<Int>(0)
    private let caller = Parker()
    // Work for the first helper while it waits (`offer`), numbered so that finishing one offer
    // cannot clear a newer one, with the number of calls the helper must have taken before it
    // starts; and whether there is any.
    private let idleWork = Guarded<(work: any IdleWork, number: Int, after: Int)?>(nil)
    private let offers = Atomic<Int>(0)
    private let hasIdleWork = Atomic<Bool>(false)
    // The current call, written by the caller before it hands out parts (`calls`, releasing),
    // read by the helpers after they see it (acquiring), cleared after they are all done.
    private var body: ((Int) -> Void)?
    private var threads = 1
    private var requested = 1

    /// Which way parts are handed out: this pool's helpers (the default), or Dispatch's
    /// `concurrentPerform` when `NEURAL_LEVELS_POOL=dispatch` (for comparing the two).
    let usesDispatch = ProcessInfo.processInfo.environment["NEURAL_LEVELS_POOL"] == "dispatch"

    init(parts: Int) {
        self.parts = Atomic(max(1, min(256, parts)))
    }

    /// The helpers started so far.
    var helperCount: Int { helpers.withLock { $0.count } }

    /// The helpers started so far, for tests.
    var startedHelpers: [Helper] { helpers.withLock { $0 } }

    @usableFromInline
    func run(parts requested: Int, _ body: (Int) -> Void) {
        let threads = min(requested, self.parts.load(ordering: .relaxed))
        // Busy (another thread's call, or a part that splits again): the parts one after another.
        guard threads > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<requested { body(part) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        if usesDispatch {
            withoutActuallyEscaping(body) { body in
                let parts = UncheckedParts(body: body)          // runs only while this call waits
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    for part in stride(from: thread, to: requested, by: threads) { parts.body(part) }
                }
            }
            return
        }
        let taking = helpers(count: threads - 1)
        withoutActuallyEscaping(body) { body in
            (self.body, self.threads, self.requested) = (body, threads, requested)
            remaining.store(taking.count, ordering: .relaxed)
            for helper in taking {
                helper.calls.add(1, ordering: .sequentiallyConsistent)    // publishes the call
                helper.parker.wake()
            }
            for part in stride(from: 0, to: requested, by: threads) { body(part) }
            caller.wait { remaining.load(ordering: .sequentiallyConsistent) == 0 }
            self.body = nil
        }
    }

    /// The first `count` helpers, started now if they have not been yet.
    private func helpers(count: Int) -> ArraySlice<Helper> {
        helpers.withLock { list in
            while list.count < count {
                let helper = Helper(part: list.count + 1)
                list.append(helper)
                let thread = Thread { [self] in self.helperLoop(helper) }
                thread.name = "NeuralLevels kernel \(helper.part)"
                thread.start()
            }
            return list[..<count]
        }
    }

    /// See ``KernelThreads/offer(_:)``. The first helper takes the work.
    func offer(_ work: any IdleWork) -> Bool {
        guard parts.load(ordering: .relaxed) > 1, !usesDispatch,
              let helper = helpers.withLock({ $0.first }) else { return false }
        let number = offers.add(1, ordering: .relaxed).newValue
        let after = helper.calls.load(ordering: .sequentiallyConsistent) + 1    // after the next call
        idleWork.withLock { $0 = (work, number, after) }
        hasIdleWork.store(true, ordering: .sequentiallyConsistent)
        return true
    }

    /// One step of the offered work, if there is any and the helper has taken `seen` calls,
    /// enough to start it; whether there was one.
    private func idleStep(seen: Int) -> Bool {
        guard hasIdleWork.load(ordering: .sequentiallyConsistent), let offer = idleWork.withLock({ $0 }),
              seen >= offer.after else { return false }
        if offer.work.step() { return true }
        idleWork.withLock { current in
            if current?.number == offer.number {
                current = nil
                hasIdleWork.store(false, ordering: .sequentiallyConsistent)
            }
        }
        return false
    }

    private func helperLoop(_ helper: Helper) {
        var seen = 0
        while true {
            helper.parker.wait(until: { helper.calls.load(ordering: .sequentiallyConsistent) != seen },
                               meanwhile: { helper.part == 1 && self.idleStep(seen: seen) })
            seen += 1
            if let body, helper.part < threads {           // parts part, part + threads, … of this call
                for index in stride(from: helper.part, to: requested, by: threads) { body(index) }
            }
            if remaining.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 { caller.wake() }
        }
    }
}

/// A kernel call's parts, handed to Dispatch's threads for the length of the call.
struct UncheckedParts: @unchecked Sendable { let body: (Int) -> Void }
