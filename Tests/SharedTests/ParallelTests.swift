// ParallelTests.swift — the kernel worker pool (Fast/KernelThreads.swift): every part runs
// exactly once, callers on many threads at once neither deadlock nor lose parts, a part that
// splits again runs serially, a kernel gives the same bits whether the pool was free or busy,
// at most `threads` threads take part (only the caller with one), and what an idle process
// costs (printed, for docs/performance.md).

import Foundation
import Synchronization
import Testing
@testable import Shared

@Suite("Kernel threads (Fast/KernelThreads.swift)")
struct ParallelTests {
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
        let counts = Mutex<[Int: Int]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            for round in 0..<200 {
                let parts = 1 + (caller + round) % 5
                let seen = Mutex<[Int]>([])
                KernelThreads.run(parts: parts) { part in
                    seen.withLock { $0.append(part) }
                    if part == 0 && round % 50 == 0 {          // a part that splits again
                        let inner = Mutex(0)
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

    @Test("with one thread every part runs on the calling thread, in order; with n, on at most n threads",
          arguments: [1, 2, 3])
    func threadsTakingPart(threads: Int) {
        let pool = WorkerPool(parts: threads)
        let caller = currentThreadID()
        let seen = Mutex<[(part: Int, thread: Int32?)]>([])
        pool.run(parts: 8) { part in
            usleep(2_000)                                                 // long enough for others to join
            let thread = currentThreadID()
            seen.withLock { $0.append((part, thread)) }
        }
        let record = seen.withLock { $0 }
        #expect(record.map(\.part).sorted() == Array(0..<8))
        #expect(Set(record.map(\.thread)).count <= threads)
        if threads == 1 {
            #expect(record.map(\.part) == Array(0..<8) && record.allSatisfy { $0.thread == caller })
        }
    }

    @Test("idle: CPU time of the process over a second of rest after a split call (printed; run alone to measure)")
    func idleProcess() {
        let pool = WorkerPool(parts: 2)
        let parts = Mutex(0)
        var cpu: [Double] = []
        for _ in 0..<3 {
            pool.run(parts: 2) { _ in parts.withLock { $0 += 1 } }
            let before = processCPUSeconds()
            sleep(1)
            cpu.append(processCPUSeconds() - before)
        }
        // `swift test --filter idleProcess` runs this alone: then the process is idle but for the
        // test runner, and the figures are this pool's rest (docs/performance.md).
        print("idle: CPU seconds used over 1 s of rest after a split call: \(cpu)")
        #expect(parts.withLock { $0 } == 6)
        #expect(cpu.allSatisfy { $0 >= 0 })
    }
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
