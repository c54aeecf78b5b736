// Parallel.swift — one kernel call, split across the machine's cores.
//
// Teaches: where the second core comes from. A training step is a chain of kernel calls, each
// too small (microseconds) for a general task system, so the split is the simplest one that
// works: every large kernel (the products, tanh and sigmoid, the update of a large weight
// matrix) cuts its output into `KernelThreads.count` contiguous parts, the calling thread
// computes part 0 and helper threads, kept spinning between calls, the others.
// Every part is computed by the same code whoever runs it, so the bits do not depend on which
// thread did what, nor on whether helpers were free (a busy pool runs the parts one by one).
// OpenBLAS is kept at one thread: a matrix product is split here, like any other kernel, into
// two single-threaded `gemm` calls on halves of the output. Measured on this network, that is
// faster than OpenBLAS's own threads (0.143–0.148 against 0.152–0.164 s for one epoch's
// products), and it lets the costly elementwise kernels and the update use both cores too,
// instead of one core working while the other waits.
// Between kernel calls a helper has nothing to do, so it also takes small chunks of background
// work (the next batch's gather, see BatchLoader) while the calling thread runs the kernels that
// are too small to split; whoever started that work finishes what is left of it.
// Leaves out: work stealing, nested parallelism (a part that itself splits runs serially).

import CBLAS
import Foundation
import Synchronization

/// How many parts the kernels split their work into (`--threads`).
public enum KernelThreads {
    /// The number of parts (threads) a large kernel call is split into; 1 means serial.
    public static var count: Int { pool.parts.load(ordering: .relaxed) }

    /// Uses `count` threads from now on (1 … 256): the calling thread and `count − 1` helpers.
    public static func set(_ count: Int) { pool.setParts(max(1, min(256, count))) }

    /// Runs `body(part)` for every part in `0..<parts`, at the same time when helpers are free,
    /// and returns when all are done. `parts` may be less than ``count`` (small work).
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

    /// Starts `body(chunk)` for every chunk in `0..<chunks` on the helpers, in the time they
    /// spend waiting between kernel calls, and returns at once. Call ``BackgroundWork/finish()``
    /// before using what the chunks write. Returns nil, and runs nothing, when there are no
    /// helpers (`--threads 1`) or another background job is running: do the work yourself.
    ///
    /// Each chunk should take well under a microsecond or two: a kernel call waits for a helper
    /// to finish its chunk before the helper takes its part. A kernel a chunk calls runs serially.
    public static func startBackground(chunks: Int, _ body: @escaping @Sendable (Int) -> Void) -> BackgroundWork? {
        pool.startBackground(chunks: chunks, body)
    }

    @usableFromInline static let pool = WorkerPool(parts: ProcessInfo.processInfo.activeProcessorCount)
}

/// Background work started by ``KernelThreads/startBackground(chunks:_:)``: chunks that idle
/// helpers run while the calling thread goes on.
public final class BackgroundWork: Sendable {
    private let pool: WorkerPool
    private let finished = Atomic<Bool>(false)

    init(pool: WorkerPool) { self.pool = pool }

    /// Runs the chunks no helper has started on the calling thread, waits for the others, and
    /// returns when every chunk is done. Calling it again does nothing.
    public func finish() {
        if finished.exchange(true, ordering: .acquiringAndReleasing) { return }
        pool.finishBackground()
    }

    deinit { finish() }
}

/// Elements per part below which a kernel that does little per element (a product, a sum, an
/// update) is not split: handing half of it to another core costs about a microsecond, more
/// than such a kernel saves on this network's [64, 128] activations (measured: tanh's backward
/// 1.1 → 2.2 ms per epoch when split).
@usableFromInline let cheapKernelMinimumPerPart = 16_384

/// The same for a kernel that is costly per element (tanh and sigmoid: a polynomial and a
/// division each): tanh's forward on [64, 128] gains from the split (3.7 → 2.3 ms per epoch).
@usableFromInline let costlyKernelMinimumPerPart = 4_096

/// The calling thread plus helper threads that wait for parts of one kernel call.
@usableFromInline
final class WorkerPool: @unchecked Sendable {
    /// A job: the body of the current call, readable by the helpers between `generation`
    /// being raised (release) and `remaining` reaching 0 (acquire).
    final class Job: @unchecked Sendable { var body: ((Int) -> Void)? }

    @usableFromInline let parts: Atomic<Int>
    private let job = Job()
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let helpers = Mutex<[Helper]>([])

    // Background work: one job at a time, owned by whoever started it until it finishes.
    // `background` packs (job number, chunk count, next chunk to claim); a chunk is claimed by
    // raising `next` with a compare-exchange, so a stale claim on an older job fails.
    private let backgroundOwned = Atomic<Bool>(false)
    private let background = Atomic<Int>(0)
    private let backgroundDone = Atomic<Int>(0)
    private var backgroundBody: (@Sendable (Int) -> Void)?   // written before its job is published
    private var backgroundJobs = 0
    /// Set (non-nil) on the helper threads: a chunk of background work that splits a kernel
    /// runs its parts itself, instead of waiting for helpers that include its own thread.
    private let onHelper: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// One helper thread's wake-up channel: it spins for a while after each part, then parks.
    final class Helper: Sendable {
        let parked = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    init(parts: Int) {
        self.parts = Atomic(max(1, parts))
        setParts(max(1, parts))
    }

    func setParts(_ count: Int) {
        openblas_set_num_threads(1)                  // products are split here instead
        helpers.withLock { list in
            while list.count < count - 1 {          // helpers are added, never removed
                let helper = Helper()
                let index = list.count + 1
                list.append(helper)
                // A new helper starts at the current call's number, so that it never joins a
                // call already running (that call counts only the helpers it started with).
                let start = generation.load(ordering: .acquiring)
                let thread = Thread { [self] in self.helperLoop(part: index, helper, from: start) }
                thread.name = "NeuralLevels kernel \(index)"
                thread.start()
            }
        }
        parts.store(count, ordering: .relaxed)
    }

    private func helperLoop(part: Int, _ helper: Helper, from start: Int) {
        pthread_setspecific(onHelper, UnsafeRawPointer(bitPattern: 1))
        var seen = start
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if runBackgroundChunk() {            // nothing to compute: a chunk of background work
                    spins = 0
                } else if spins == 200_000 {         // ~100 µs of spinning: park until the next call
                    helper.parked.store(true, ordering: .sequentiallyConsistent)
                    if generation.load(ordering: .sequentiallyConsistent) == seen {
                        helper.wake.wait()           // `run` clears `parked` and signals
                    } else if !helper.parked.exchange(false, ordering: .sequentiallyConsistent) {
                        helper.wake.wait()           // `run` cleared it first: take its signal
                    }
                    spins = 0
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if let body = job.body, part < activeThreads {   // parts part, part + threads, … of this call
                for index in stride(from: part, to: requestedParts, by: activeThreads) { body(index) }
            }
            remaining.subtract(1, ordering: .releasing)
        }
    }

    // Written before `generation` is raised, read by the helpers after they see it.
    private var activeThreads = 1
    private var requestedParts = 1

    @usableFromInline
    func run(parts requested: Int, _ body: (Int) -> Void) {
        // setParts adds the helpers before it raises `parts`, so there are at least parts − 1.
        let threads = min(requested, self.parts.load(ordering: .relaxed))
        // Busy (another thread's call, or a part that splits again), or called from a helper (a
        // background chunk that splits): the parts one after another.
        guard threads > 1, pthread_getspecific(onHelper) == nil,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<requested { body(part) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            job.body = body
            (activeThreads, requestedParts) = (threads, requested)
            // Under the lock that adds helpers: every helper counted here sees this call, and a
            // helper added later starts after it (setParts reads `generation` under the lock).
            helpers.withLock { list in
                remaining.store(list.count, ordering: .relaxed)
                generation.add(1, ordering: .sequentiallyConsistent)
                for helper in list where helper.parked.exchange(false, ordering: .sequentiallyConsistent) {
                    helper.wake.signal()
                }
            }
            for index in stride(from: 0, to: requested, by: threads) { body(index) }
            while remaining.load(ordering: .acquiring) > 0 {}
            job.body = nil
        }
    }

    // MARK: Background work

    func startBackground(chunks: Int, _ body: @escaping @Sendable (Int) -> Void) -> BackgroundWork? {
        guard chunks > 0, chunks < 1 << 16, parts.load(ordering: .relaxed) > 1,
              backgroundOwned.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return nil }
        backgroundBody = body
        backgroundDone.store(0, ordering: .relaxed)
        backgroundJobs = (backgroundJobs + 1) & 0xffff_ffff
        background.store(backgroundJobs << 32 | chunks << 16, ordering: .releasing)   // publishes the body
        return BackgroundWork(pool: self)
    }

    /// Claims and runs one chunk of the current background job; false when none is left.
    private func runBackgroundChunk() -> Bool {
        let state = background.load(ordering: .acquiring)
        let next = state & 0xffff, chunks = (state >> 16) & 0xffff
        guard next < chunks else { return false }
        guard background.compareExchange(expected: state, desired: state + 1, ordering: .acquiringAndReleasing).exchanged
        else { return true }                               // another thread took it: look again
        backgroundBody?(next)
        backgroundDone.add(1, ordering: .releasing)
        return true
    }

    /// The owner's end of a job: the unclaimed chunks here, then wait for the claimed ones.
    fileprivate func finishBackground() {
        while runBackgroundChunk() {}
        let chunks = (background.load(ordering: .relaxed) >> 16) & 0xffff
        while backgroundDone.load(ordering: .acquiring) < chunks {}
        backgroundBody = nil
        backgroundOwned.store(false, ordering: .releasing)
    }
}
