// BatchLoader.swift — an epoch's batches, each one's rows on their way to the caches while the
// step before it computes.
//
// Teaches: what PyTorch's `DataLoader(prefetch_factor=…)` and tf.data's `prefetch` are for: the
// input pipeline runs one batch ahead of the model, so a step does not wait for its batch.
// Gathering a batch of Fashion-MNIST means reading 64 rows scattered over 47 MB, and waiting on
// memory for most of that. Here, after handing out batch k, the loader asks the CPU to start
// loading the rows of batch k + 1 (a software prefetch, Dataset.prefetch): step k's arithmetic
// hides the wait, and the next `load` gathers rows that are already in cache. No second thread
// and no second buffer: the batch is gathered by the thread that asked for it, into the buffer
// it passed, so every batch holds the same values (docs/design.md, "Batches") and the levels
// agree bit for bit.
// Leaves out: worker threads or processes (docs/performance.md measures what a helper thread
// gathering the next batch was worth), data that does not fit in memory.

/// The batches of a data set, epoch by epoch, in the order of a ``BatchSchedule``: the loop
/// every level trains with (Shared's `train`, `fit`, the Lightning trainer's `DataLoader`).
///
///     let loader = BatchLoader(train, schedule: schedule)
///     var batch = train.makeBatch(capacity: schedule.batchSize)
///     for step in 0..<schedule.stepsPerEpoch {
///         loader.load(step: step, epoch: epoch, into: &batch)   // x: [B, 784], labels: [B]
///         …
///     }
public final class BatchLoader<Scalar: NeuralScalar> {
    public let dataset: Dataset<Scalar>
    public let schedule: BatchSchedule

    private var epoch = 0
    private var order: [Int] = []

    public init(_ dataset: Dataset<Scalar>, schedule: BatchSchedule) {
        self.dataset = dataset
        self.schedule = schedule
    }

    /// Puts batch `step` (from 0) of epoch `epoch` (from 1) into `batch`, a buffer from
    /// ``Dataset/makeBatch(capacity:)`` that is reused step after step, then starts moving the
    /// rows of the next batch of the epoch into the CPU's caches.
    public func load(step: Int, epoch: Int, into batch: inout Batch<Scalar>) {
        if epoch != self.epoch {
            (self.epoch, order) = (epoch, schedule.order(epoch: epoch))
        }
        dataset.gather(order[schedule.range(ofStep: step)], into: &batch)
        if step + 1 < schedule.stepsPerEpoch {
            dataset.prefetch(order[schedule.range(ofStep: step + 1)])
        }
    }
}
