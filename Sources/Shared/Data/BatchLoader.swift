// BatchLoader.swift — an epoch's batches, each gathered while the step before it computes.
//
// Teaches: what PyTorch's `DataLoader(num_workers=…, prefetch_factor=…)` and tf.data's
// `prefetch` are for: the input pipeline runs one batch ahead of the model, so a step does not
// wait for its batch. Gathering a batch of Fashion-MNIST means reading 64 rows scattered over
// 47 MB, and waiting on memory for most of that; done by the training thread it costs about
// 5% of an epoch. Here the worker is a kernel helper thread (Parallel.swift), in the time it
// would otherwise spend waiting between kernel calls: while step k computes, batch k + 1 is
// gathered into a second buffer, a few rows at a time, and the next `load` swaps the buffers.
// With one thread, or a batch too small or too large for it to pay, the next batch's rows are
// prefetched into the caches instead, and gathered when they are asked for.
// Either way a batch holds the same values (DESIGN.md, "Batches"), so the levels still agree
// bit for bit, whoever gathered what.
// Leaves out: more than one batch ahead, worker processes, data that does not fit in memory.

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

    // Used by the calling thread only; `ahead` is written by the background gather until
    // `work` has finished.
    private var epoch = 0
    private var order: [Int] = []
    private var ahead: Batch<Scalar>
    private var aheadStep: Int?
    private var work: BackgroundWork?

    /// Rows per chunk of a background gather: short enough (a fraction of a microsecond) that a
    /// kernel call never waits long for the helper to come back from one.
    @usableFromInline static var rowsPerChunk: Int { 4 }

    /// Batches with fewer input values than this are gathered when they are asked for: handing
    /// the work over costs more than it saves (the regression set's 32 × 3 inputs).
    @usableFromInline static var minimumBackgroundValues: Int { 4_096 }

    /// Batches with more input values than this are gathered when they are asked for too: a
    /// second buffer that large (full-batch training) would cost more memory than the gather
    /// costs time next to the step.
    @usableFromInline static var maximumBackgroundValues: Int { 1 << 20 }

    public init(_ dataset: Dataset<Scalar>, schedule: BatchSchedule) {
        self.dataset = dataset
        self.schedule = schedule
        ahead = dataset.makeBatch(capacity: 0)        // grows on its first background gather
    }

    deinit { work?.finish() }                 // the helper writes into `ahead` until then

    /// Puts batch `step` (from 0) of epoch `epoch` (from 1) into `batch`, a buffer from
    /// ``Dataset/makeBatch(capacity:)`` that is reused step after step, then starts on the
    /// next batch of the epoch.
    public func load(step: Int, epoch: Int, into batch: inout Batch<Scalar>) {
        work?.finish()
        work = nil
        if epoch != self.epoch {
            (self.epoch, order, aheadStep) = (epoch, schedule.order(epoch: epoch), nil)
        }
        if aheadStep == step {
            swap(&batch, &ahead)              // gathered during the last step: no copy
        } else {
            dataset.gather(order[schedule.range(ofStep: step)], into: &batch)
        }
        aheadStep = nil
        if step + 1 < schedule.stepsPerEpoch { startLoading(step: step + 1) }
    }

    /// Starts gathering batch `step` of the current epoch into `ahead` on the helpers, or, when
    /// none can take it, prefetches its rows.
    private func startLoading(step: Int) {
        let indices = order[schedule.range(ofStep: step)]
        let values = indices.count * dataset.featureCount
        guard values >= Self.minimumBackgroundValues && values <= Self.maximumBackgroundValues else {
            dataset.prefetch(indices)
            return
        }
        let rows = ahead.prepare(rows: indices.count, for: dataset.task)
        let (dataset, perChunk) = (self.dataset, Self.rowsPerChunk)
        let chunks = (indices.count + perChunk - 1) / perChunk
        let started = KernelThreads.startBackground(chunks: chunks) { chunk in
            let range = chunk * perChunk..<min(indices.count, (chunk + 1) * perChunk)
            let start = indices.startIndex
            dataset.gatherRows(indices[(start + range.lowerBound)..<(start + range.upperBound)], into: rows.rows(range))
        }
        guard let started else {
            dataset.prefetch(indices)
            return
        }
        (work, aheadStep) = (started, step)
    }
}
