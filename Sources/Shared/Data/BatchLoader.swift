// BatchLoader.swift — an epoch's batches, the next one gathered while the current one trains.
//
// Teaches: what PyTorch's `DataLoader(num_workers=…, prefetch_factor=…)` and tf.data's
// `prefetch` are for: the input pipeline runs one batch ahead of the model, so a step does not
// wait for its batch. Gathering a batch of Fashion-MNIST means reading 64 rows scattered over
// 47 MB and converting 50,176 bytes to Float: about a tenth of a step on one core, done here
// while the step computes.
// How: after handing out batch k, the loader offers the gathering of batch k + 1 to the kernel
// helper thread (KernelThreads.swift), which does it four rows at a time in the gaps between
// the kernel calls it takes part in, where it would otherwise spin. The batch being gathered is
// a value the loader owns, behind a lock: the helper gathers a few rows under the lock, and the
// next `load` takes the lock, gathers whatever rows are left itself, and swaps the batch out.
// While `load` waits for the lock, the helper starts no new rows (`taking`), so it waits for
// at most one step of four rows, spinning rather than sleeping (Guarded.swift).
// So nothing is shared without the lock, and every batch holds the same values whichever thread
// gathered which rows (docs/design.md, "Batches"): the levels agree bit for bit.
// With one thread there is no helper: the loader gathers each batch when asked, having asked the
// CPU to start loading its rows into the caches one step before (a software prefetch).
// Leaves out: worker processes, data that does not fit in memory, more than one batch ahead.

import Synchronization

/// The batches of a data set, epoch by epoch, in the order of a ``BatchSchedule``: what every
/// style's loop iterates (``TrainingJob/makeTrainLoader()`` for the hand-written loops, `fit`'s
/// own loader, the Lightning `DataLoader`'s batches).
///
///     let loader = BatchLoader(train, schedule: schedule)
///     for epoch in 1...epochs {
///         for batch in loader.batches(epoch: epoch) {      // x: [B, 784], labels: [B]
///             …
///         }
///     }
///
/// ``batches(epoch:)`` fills one reused buffer with ``load(step:epoch:into:)``, which a loop can
/// also call itself.
public final class BatchLoader<Scalar: NeuralScalar> {
    public let dataset: Dataset<Scalar>
    public let schedule: BatchSchedule

    private var epoch = 0
    private var order: [Int] = []
    private let next: NextBatch<Scalar>

    public init(_ dataset: Dataset<Scalar>, schedule: BatchSchedule) {
        self.dataset = dataset
        self.schedule = schedule
        next = NextBatch(dataset, capacity: min(schedule.batchSize, max(1, dataset.count)))
    }

    /// Puts batch `step` (from 0) of epoch `epoch` (from 1) into `batch`, a buffer from
    /// ``Dataset/makeBatch(capacity:)`` that is reused step after step, then starts on the next
    /// batch of the epoch.
    public func load(step: Int, epoch: Int, into batch: inout Batch<Scalar>) {
        if epoch != self.epoch {
            (self.epoch, order) = (epoch, schedule.order(epoch: epoch))
        }
        if !next.take(epoch: epoch, step: step, into: &batch) {                 // not gathered ahead
            dataset.gather(order[schedule.range(ofStep: step)], into: &batch)
        }
        guard step + 1 < schedule.stepsPerEpoch else { return }
        let following = order[schedule.range(ofStep: step + 1)]
        if following.count * dataset.featureCount < backgroundMinimum
            || !next.start(following, epoch: epoch, step: step + 1) {
            dataset.prefetch(following)                          // one thread: into the caches
        }
    }
}

/// Elements below which a batch is gathered when asked rather than ahead (a handful of rows of
/// a small data set: the hand-over would cost more than the gather).
let backgroundMinimum = 16_384

/// The batch being gathered ahead, owned by its loader and filled by the kernel helper a few
/// rows at a time (``IdleWork``), or by the loader itself when it needs the batch first.
final class NextBatch<Scalar: NeuralScalar>: IdleWork {
    struct State {
        var batch: Batch<Scalar>
        var indices: [Int] = []           // the rows it holds, in order
        var gathered = 0                  // how many of them are in `batch` so far
        var epoch = 0, step = -1          // which batch it is
    }

    let dataset: Dataset<Scalar>
    let state: Guarded<State>
    /// Set while the loader takes the batch: the helper then starts no new step, so the loader
    /// waits for at most the one under way. (Without it the helper, taking the lock again and
    /// again, kept gathering while the loader waited: 11–18 µs per batch, measured.)
    let taking = Atomic<Bool>(false)

    /// Rows per step of the helper: 4 Fashion-MNIST rows are about a microsecond.
    static var rowsPerStep: Int { 4 }

    init(_ dataset: Dataset<Scalar>, capacity: Int) {
        self.dataset = dataset
        state = Guarded(State(batch: dataset.makeBatch(capacity: capacity)))
    }

    /// Starts on batch `step` of `epoch`, the rows `indices`; whether a helper took the work.
    func start(_ indices: ArraySlice<Int>, epoch: Int, step: Int) -> Bool {
        let task = dataset.task
        state.withLock { state in
            state.indices.removeAll(keepingCapacity: true)
            state.indices.append(contentsOf: indices)
            (state.gathered, state.epoch, state.step) = (0, epoch, step)
            state.batch.resize(rows: indices.count, for: task)
        }
        return KernelThreads.offer(self)
    }

    /// Gathers the next few rows, if any are left and the loader is not taking the batch (then
    /// it answers false: the loader gathers the rest). If another thread holds the lock for a
    /// moment, it gathers nothing this time and answers true: the work is not done. (Called
    /// through ``IdleWork``, which runs the generic body: `@_specialize` gives it the Float one,
    /// else every pixel is converted by a generic call, 30 times slower.)
    @_specialize(where Scalar == Float)
    func step() -> Bool {
        guard !taking.load(ordering: .sequentiallyConsistent) else { return false }
        return state.withLockIfAvailable { state in
            let first = state.gathered
            guard first < state.indices.count else { return false }
            let rows = first..<min(first + Self.rowsPerStep, state.indices.count)
            let ahead = rows.upperBound..<min(rows.upperBound + Self.rowsPerStep, state.indices.count)
            dataset.prefetch(state.indices[ahead])                 // the next step's rows, on their way
            dataset.gather(state.indices[rows], into: &state.batch, startingAt: first)
            state.gathered = rows.upperBound
            return true
        } ?? true                                                  // the lock was taken: try again later
    }

    /// If this is batch `step` of `epoch`: gathers the rows the helper has not, swaps the batch
    /// into `batch` (whose buffers gather the next one) and returns true.
    @_specialize(where Scalar == Float)
    func take(epoch: Int, step: Int, into batch: inout Batch<Scalar>) -> Bool {
        taking.store(true, ordering: .sequentiallyConsistent)
        defer { taking.store(false, ordering: .sequentiallyConsistent) }
        return state.withLock { state in
            guard state.epoch == epoch, state.step == step else { return false }
            if state.gathered < state.indices.count {
                dataset.gather(state.indices[state.gathered...], into: &state.batch, startingAt: state.gathered)
                state.gathered = state.indices.count
            }
            swap(&batch, &state.batch)
            state.step = -1
            return true
        }
    }
}
