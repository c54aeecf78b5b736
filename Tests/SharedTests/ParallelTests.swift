// ParallelTests.swift — the kernel worker pool (Fast/KernelThreads.swift): every part runs
// exactly once, callers on many threads at once neither deadlock nor lose parts, a part that
// splits again runs serially, a kernel gives the same bits whether the pool was free or busy,
// helpers start only when needed (never more than threads − 1), a call involves only the
// helpers it gives parts to, offered idle work is done between calls, and an idle pool sleeps.

import Foundation
import Synchronization
import Testing
@testable import Shared
import TestSupport

// Values the parts share are kept in Shared's `Guarded` (an NSLock ThreadSanitizer understands).

@Suite("Kernel threads (Fast/KernelThreads.swift)")
struct ParallelTests {
    init() { splitKernelsAcrossTwoThreads() }

    @Test("range splits 0..<count into contiguous, aligned, non-overlapping parts",
          arguments: [(0, 2, 16), (1, 2, 16), (100, 2, 16), (784, 2, 16), (100_352, 3, 64), (7, 4, 1)])
    func ranges(count: Int, parts: Int, alignment: Int) {
        let ranges = (0..<parts).map { KernelThreads.range($0, of: parts, count: count, alignment: alignment) }
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == count)
        for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        for r in ranges.dropLast() where r.upperBound < count { #expect(r.upperBound % alignment == 0) }
    }

    @Test("run calls the body once for every part, from several threads at once, nested calls included")
    func everyPartOnce() {
        let counts = Guarded<[Int: Int]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            for round in 0..<200 {
                let parts = 1 + (caller + round) % 5
                let seen = Guarded<[Int]>([])
                KernelThreads.run(parts: parts) { part in
                    seen.withLock { $0.append(part) }
                    if part == 0 && round % 50 == 0 {          // a part that splits again
                        let inner = Guarded(0)
                        KernelThreads.run(parts: 3) { _ in inner.withLock { $0 += 1 } }
                        #expect(inner.withLock { $0 } == 3)
                    }
                }
                let sorted = seen.withLock { $0.sorted() }
                #expect(sorted == Array(0..<parts))
                counts.withLock { $0[parts, default: 0] += 1 }
            }
        }
        #expect(counts.withLock { $0.values.reduce(0, +) } == 1_600)
    }

    @Test("a kernel gives the same bits when the pool is busy (its parts then run one after another)")
    func sameBitsWhenBusy() {
        let x = randomMatrix(64, 784, seed: 3, as: Float.self), w = randomMatrix(128, 784, seed: 4, as: Float.self)
        var free = Matrix<Float>(rows: 64, columns: 128)
        gemm(x, w, transposeB: true, into: &free)
        var busy = Matrix<Float>(rows: 64, columns: 128)
        var gradient = Matrix<Float>(rows: 128, columns: 784)
        var freeGradient = Matrix<Float>(rows: 128, columns: 784)
        gemm(free, transposeA: true, x, into: &freeGradient)
        // (the first two products run in parallel unless another test holds the pool right then)
        KernelThreads.run(parts: 2) { part in                  // inside a part the pool is busy
            guard part == 0 else { return }
            gemm(x, w, transposeB: true, into: &busy)
            gemm(free, transposeA: true, x, into: &gradient)
        }
        #expect(busy == free)
        #expect(gradient == freeGradient)
    }

    @Test("helpers start when a call first needs them, never more than threads − 1, none for one thread")
    func helpersOnDemand() {
        let single = WorkerPool(parts: 1)
        let parts = Guarded<[Int]>([])
        single.run(parts: 4) { part in parts.withLock { $0.append(part) } }
        #expect(parts.withLock { $0 } == [0, 1, 2, 3])                   // serially, on the caller
        #expect(single.helperCount == 0)

        let pool = WorkerPool(parts: 3)
        #expect(pool.helperCount == 0)
        pool.run(parts: 2) { _ in }
        #expect(pool.helperCount == 1)
        let seen = Guarded<[Int]>([])
        pool.run(parts: 8) { part in seen.withLock { $0.append(part) } }
        #expect(pool.helperCount == 2)                                    // 3 threads: 2 helpers
        #expect(seen.withLock { $0.sorted() } == Array(0..<8))
    }

    @Test("a call hands parts to, and waits for, only the helpers it needs")
    func onlyTheHelpersNeeded() {
        let pool = WorkerPool(parts: 4)
        pool.run(parts: 4) { _ in }
        for _ in 0..<10 { pool.run(parts: 2) { _ in } }
        #expect(pool.startedHelpers.map { $0.calls.load(ordering: .relaxed) } == [11, 1, 1])
    }

    /// Counts its steps, up to `total`, and which threads did them.
    final class CountingWork: IdleWork {
        let total: Int
        let done = Guarded<(steps: Int, threads: Set<Int32>)>((0, []))
        init(total: Int) { self.total = total }
        func step() -> Bool {
            done.withLock { done in
                guard done.steps < total else { return false }
                done.steps += 1
                if let id = currentThreadID() { done.threads.insert(id) }
                return true
            }
        }
    }

    @Test("offered work is done by the first helper between calls, from the call after the offer on; calls meanwhile still run every part")
    func idleWork() throws {
        let pool = WorkerPool(parts: 2)
        let work = CountingWork(total: 5_000)
        #expect(!pool.offer(work), "no helper yet: nothing is handed over")
        pool.run(parts: 2) { _ in }
        #expect(pool.offer(work))
        usleep(20_000)
        #expect(work.done.withLock { $0.steps } == 0, "not before the next call")
        let parts = Guarded<[Int]>([])
        for _ in 0..<100 { pool.run(parts: 2) { part in parts.withLock { $0.append(part) } } }
        #expect(parts.withLock { $0.filter { $0 == 1 }.count } == 100)
        let deadline = Date().addingTimeInterval(10)
        while work.done.withLock({ $0.steps }) < work.total && Date() < deadline { usleep(1_000) }
        let done = work.done.withLock { $0 }
        #expect(done.steps == work.total)
        #expect(done.threads.count == 1 && !done.threads.contains(currentThreadID() ?? -1), "the helper did them")

        // A newer offer is not cleared when the older one runs out, and a sleeping helper starts
        // on it after the call that wakes it.
        while !pool.startedHelpers.allSatisfy({ $0.parker.isSleeping }) && Date() < deadline { usleep(1_000) }
        let second = CountingWork(total: 10)
        #expect(pool.offer(second))
        pool.run(parts: 2) { _ in }
        while second.done.withLock({ $0.steps }) < second.total && Date() < deadline { usleep(1_000) }
        #expect(second.done.withLock { $0.steps } == second.total)
    }

    @Test("an idle pool sleeps: after a call, its helpers stop spinning and wait on a semaphore")
    func idlePoolSleeps() throws {
        let pool = WorkerPool(parts: 3)
        let threadIDs = Guarded<[Int32]>([])
        pool.run(parts: 3) { part in
            if part > 0, let id = currentThreadID() { threadIDs.withLock { $0.append(id) } }
        }
        let helpers = pool.startedHelpers
        #expect(helpers.count == 2)

        // CPU time of the helper threads (and of the process) over a second of rest, twice, each
        // from the moment the helpers sleep (after a call they spin about 200 µs first, far
        // longer under ThreadSanitizer), printed for docs/performance.md: `swift test --filter
        // idlePoolSleeps` runs this test alone. (In the first second the process figure also
        // holds whatever the test runner and OpenBLAS's start-up do; the second shows a process
        // at rest.)
        // One id per helper (parts 1 and 2), or the CPU figures below would sum over no threads.
        // The ids and CPU times come from /proc, which Linux has (this file reads /proc and calls
        // glibc's getrusage, so it runs on Linux only); a missing id is a failure, not a skip.
        let ids = threadIDs.withLock { $0 }
        try #require(ids.count == 2, "the helpers' thread ids from /proc/thread-self: \(ids)")
        #expect(Set(ids).count == 2)                                      // two different threads
        for second in 1...2 {
            let deadline = Date().addingTimeInterval(10)
            while !helpers.allSatisfy({ $0.parker.isSleeping }) && Date() < deadline { usleep(1_000) }
            #expect(helpers.allSatisfy { $0.parker.isSleeping })
            let before = ids.map(threadCPUSeconds), processBefore = processCPUSeconds()
            sleep(1)
            let after = ids.map(threadCPUSeconds), processAfter = processCPUSeconds()
            pool.run(parts: 3) { _ in }                                   // and they still wake up
            let helperSeconds = zip(before, after).map { $1 - $0 }.reduce(0, +)
            print("idle pool, second \(second): helpers used \(helperSeconds) s of CPU over 1 s of rest; "
                  + "the process \(processAfter - processBefore) s")
            #expect(before.allSatisfy { $0 >= 0 })                        // the threads were found
            #expect(helperSeconds < 0.05)                                 // under 5% of a core
        }
    }
}

@Suite("Guarded (Core/Guarded.swift)")
struct GuardedTests {
    @Test("withLock excludes: four threads adding 20,000 times each, spinning and sleeping, lose nothing")
    func mutualExclusion() {
        let total = Guarded(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<20_000 { total.withLock { $0 += 1 } }
        }
        #expect(total.withLock { $0 } == 80_000)
    }

    @Test("withLockIfAvailable runs the body when the lock is free and declines at once when it is held")
    func ifAvailable() {
        let value = Guarded(1)
        #expect(value.withLockIfAvailable { v -> Int in v += 1; return v } == 2)
        let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        Thread {
            value.withLock { v in
                held.signal()
                release.wait()
                v = 10
            }
            finished.signal()
        }.start()
        held.wait()
        #expect(value.withLockIfAvailable { $0 } == nil, "held by the other thread")
        release.signal()
        #expect(value.withLock { $0 } == 10, "withLock waits for the holder (past its spins, asleep if need be)")
        finished.wait()
    }
}

/// CPU seconds (user + system) of thread `id` of this process, from /proc (−1 if unreadable).
func threadCPUSeconds(_ id: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/self/task/\(id)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return -1 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return -1 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// The kernel's id of the calling thread (from /proc/thread-self, a link to `<pid>/task/<tid>`).
func currentThreadID() -> Int32? {
    guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self") else { return nil }
    return link.split(separator: "/").last.flatMap { Int32($0) }
}

/// CPU seconds of the whole process (every thread).
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
