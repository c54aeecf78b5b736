// BatchLoaderTests.swift — the loader that gathers the next batch while a step computes:
// every batch it hands out is the one `gather` gives for that step (images, real inputs with
// targets, the last partial batch, steps asked for out of order), whether the helper gathered
// it ahead, the loader did, or both a part; the helper does gather it without being asked; and
// a batch the caller kept is never written to.

import Foundation
import Synchronization
import Testing
@testable import Shared
import TestSupport

@Suite("Batch loader and background work")
struct BatchLoaderTests {
    /// The helper that gathers ahead exists only with two threads or more: on a one-core machine
    /// the kernels are split across two threads here too (as FastFormTests and ParallelTests do),
    /// so the helper's path is tested on any machine. The count is raised once for the whole
    /// process, from 1 to 2, by whichever of these suites starts first, and never lowered; where
    /// there are two threads already (any machine with two cores) nothing changes.
    init() { splitKernelsAcrossTwoThreads() }

    /// 203 images of 100 bytes (batch 50 = 5,000 inputs, under ``BatchLoader``'s 16,384: each
    /// batch gathered when asked, the next one's rows only prefetched).
    static let images: Dataset<Float> = {
        let (rows, columns) = (203, 100)
        let bytes = (0..<(rows * columns)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 101) }
        return .classification(pixels: bytes, rows: rows, columns: columns,
                               labels: (0..<rows).map { Int32($0 % 10) }, classCount: 10)
    }()

    /// 203 images of 784 bytes, as Fashion-MNIST's (batch 50 = 39,200 inputs: gathered ahead
    /// by the helper, over ``BatchLoader``'s 16,384).
    static let wideImages: Dataset<Float> = {
        let (rows, columns) = (203, 784)
        let bytes = (0..<(rows * columns)).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ $0 / 787) }
        return .classification(pixels: bytes, rows: rows, columns: columns,
                               labels: (0..<rows).map { Int32($0 % 10) }, classCount: 10)
    }()

    /// Real inputs `[150, 40]` and targets `[150, 2]` (batch 128 = 5,120 inputs).
    static let values: Dataset<Float> = {
        let inputs = Matrix<Float>(rows: 150, columns: 40, storage: (0..<6_000).map { Float($0) * 0.5 })
        let targets = Matrix<Float>(rows: 150, columns: 2, storage: (0..<300).map { -Float($0) })
        return .regression(inputs: inputs, targets: targets)
    }()

    /// A "step": a kernel call split across threads, between two loads.
    static func wakeHelpers() { KernelThreads.run(parts: 2) { _ in } }

    @Test("every batch equals the gather of its rows: two epochs, shuffled, last batch partial",
          arguments: [("images", 50), ("values", 128), ("values", 7), ("images", 1_000), ("wide", 50), ("wide", 64)])
    func sameAsGather(set: String, batchSize: Int) {
        let dataset = set == "images" ? Self.images : set == "wide" ? Self.wideImages : Self.values
        let schedule = BatchSchedule(sampleCount: dataset.count, batchSize: batchSize, shuffle: true, seed: 7)
        let loader = BatchLoader(dataset, schedule: schedule)
        var batch = dataset.makeBatch(capacity: batchSize), expected = dataset.makeBatch(capacity: batchSize)
        for epoch in 1...2 {
            let order = schedule.order(epoch: epoch)
            for step in 0..<schedule.stepsPerEpoch {
                Self.wakeHelpers()
                loader.load(step: step, epoch: epoch, into: &batch)
                dataset.gather(order[schedule.range(ofStep: step)], into: &expected)
                #expect(batch.inputs == expected.inputs, "epoch \(epoch) step \(step)")
                #expect(batch.labels == expected.labels && batch.targets == expected.targets)
                #expect(batch.count == schedule.range(ofStep: step).count)
                Self.wakeHelpers()                           // a "step": kernel calls meanwhile
            }
        }
    }

    @Test("the helper gathers the next batch by itself, and the batch it hands over is the gather's")
    func helperGathersAhead() throws {
        let dataset = Self.wideImages
        Self.wakeHelpers()                                   // the helper exists
        let next = NextBatch(dataset, capacity: 64)
        let rows = Array((0..<64).map { ($0 * 37) % dataset.count })
        var offered = next.start(rows[...], epoch: 1, step: 3)
        // Tests running meanwhile share the pool: a call of theirs makes ours run its parts
        // serially (the helper is then handed no call to start after), and a loader of theirs
        // offers its own batch in place of ours. So, as a training loop would, keep making
        // calls, and offer ours again, until the helper has gathered every row. Never `take`.
        let deadline = Date().addingTimeInterval(20)
        while next.state.withLock({ $0.gathered }) < rows.count && Date() < deadline {
            Self.wakeHelpers()                               // a step's product; the gather goes on after it
            usleep(200)
            offered = KernelThreads.offer(next) || offered
        }
        #expect(offered)
        #expect(next.state.withLock { $0.gathered } == rows.count, "the helper gathered every row without being asked")

        var batch = dataset.makeBatch(capacity: 64), expected = dataset.makeBatch(capacity: 64)
        #expect(!next.take(epoch: 1, step: 4, into: &batch), "another step's batch is not handed over")
        #expect(next.take(epoch: 1, step: 3, into: &batch))
        dataset.gather(rows, into: &expected)
        #expect(batch.inputs == expected.inputs && batch.labels == expected.labels)
        #expect(!next.take(epoch: 1, step: 3, into: &batch), "a batch is handed over once")
    }

    @Test("a batch the helper has only partly gathered is finished by the loader, with the same values")
    func loaderFinishesPartialBatch() {
        let dataset = Self.wideImages
        let next = NextBatch(dataset, capacity: 50)
        let rows = Array((0..<50).map { ($0 * 53 + 11) % dataset.count })
        _ = next.start(rows[...], epoch: 2, step: 1)
        // Whatever the helper has done by now, do three steps here too (as it would), then take.
        for _ in 0..<3 { _ = next.step() }
        var batch = dataset.makeBatch(capacity: 50), expected = dataset.makeBatch(capacity: 50)
        #expect(next.take(epoch: 2, step: 1, into: &batch))
        dataset.gather(rows, into: &expected)
        #expect(batch.inputs == expected.inputs && batch.labels == expected.labels)
    }

    @Test("while the loader takes the batch, the helper starts no rows; it goes on after")
    func noStepWhileTaking() {
        let dataset = Self.wideImages
        let next = NextBatch(dataset, capacity: 40)
        let rows = Array((0..<40).map { ($0 * 29 + 5) % dataset.count })
        next.state.withLock { state in                      // as start(_:epoch:step:), without offering it
            state.indices = rows
            (state.gathered, state.epoch, state.step) = (0, 1, 0)
            state.batch.resize(rows: rows.count, for: dataset.task)
        }
        next.taking.store(true, ordering: .sequentiallyConsistent)
        #expect(!next.step(), "no step while the loader takes the batch")
        #expect(next.state.withLock { $0.gathered } == 0)
        next.taking.store(false, ordering: .sequentiallyConsistent)
        #expect(next.step())
        #expect(next.state.withLock { $0.gathered } == NextBatch<Float>.rowsPerStep)
        // While another thread holds the lock, a step gathers nothing rather than wait for it,
        // and keeps the work (answers true): a moment's contention must not drop the batch.
        let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let holder = Thread {
            next.state.withLock { _ in
                held.signal()
                release.wait()
            }
        }
        holder.start()
        held.wait()
        #expect(next.step(), "the lock is held: the work is kept")
        #expect(next.state.withLockIfAvailable { $0.gathered } == nil)   // still held: nothing gathered meanwhile
        release.signal()
        #expect(next.state.withLock { $0.gathered } == NextBatch<Float>.rowsPerStep)
        var batch = dataset.makeBatch(capacity: 40), expected = dataset.makeBatch(capacity: 40)
        #expect(next.take(epoch: 1, step: 0, into: &batch))    // waits for the holder, then finishes
        dataset.gather(rows, into: &expected)
        #expect(batch.inputs == expected.inputs && batch.labels == expected.labels)
    }

    @Test("steps asked for out of order, again, or from another epoch are still the right batches")
    func outOfOrder() {
        let dataset = Self.wideImages
        let schedule = BatchSchedule(sampleCount: dataset.count, batchSize: 50, shuffle: true, seed: 3)
        let loader = BatchLoader(dataset, schedule: schedule)
        var batch = dataset.makeBatch(capacity: 50), expected = dataset.makeBatch(capacity: 50)
        for (epoch, step) in [(1, 0), (1, 2), (1, 2), (2, 1), (1, 1), (1, 2), (3, 4), (3, 0), (3, 1)] {
            loader.load(step: step, epoch: epoch, into: &batch)
            dataset.gather(schedule.order(epoch: epoch)[schedule.range(ofStep: step)], into: &expected)
            #expect(batch.inputs == expected.inputs && batch.labels == expected.labels, "epoch \(epoch) step \(step)")
        }
    }

    @Test("a batch the caller kept is not written to by the gathers that follow")
    func keptBatchUnchanged() {
        let dataset = Self.wideImages
        let schedule = BatchSchedule(sampleCount: dataset.count, batchSize: 50, shuffle: true, seed: 5)
        let loader = BatchLoader(dataset, schedule: schedule)
        var batch = dataset.makeBatch(capacity: 50)
        loader.load(step: 0, epoch: 1, into: &batch)
        let kept = batch, keptValues = batch.inputs.storage, keptLabels = batch.labels
        for step in 1..<schedule.stepsPerEpoch {
            Self.wakeHelpers()
            loader.load(step: step, epoch: 1, into: &batch)
        }
        #expect(kept.inputs.storage == keptValues && kept.labels == keptLabels)
        #expect(kept.inputs != batch.inputs)
    }
}
