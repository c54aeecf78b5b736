// EpochBatches.swift — `for batch in loader.batches(epoch: e)`: one epoch's batches as a sequence.
//
// Teaches: the loop a PyTorch user writes, `for x, y in train_loader:`. Each batch is gathered
// into one buffer that is reused step after step (``BatchLoader/load(step:epoch:into:)``), so
// iterating allocates nothing once the first batch is made.
// Leaves out: how a batch is gathered ahead of time (BatchLoader.swift).

extension BatchLoader {
    /// The batches of epoch `epoch` (from 1), in the schedule's order: `[B, I]` inputs with
    /// their labels or targets, the last batch possibly shorter.
    public func batches(epoch: Int) -> EpochBatches<Scalar> {
        EpochBatches(loader: self, epoch: epoch)
    }
}

/// One epoch's batches, gathered into one reused buffer. Hold on to a batch past the next step
/// and the buffer is copied (Swift's copy-on-write), never changed under you.
public struct EpochBatches<Scalar: NeuralScalar>: Sequence, IteratorProtocol {
    let loader: BatchLoader<Scalar>
    let epoch: Int
    var step = 0
    var buffer: Batch<Scalar>

    init(loader: BatchLoader<Scalar>, epoch: Int) {
        self.loader = loader
        self.epoch = epoch
        buffer = loader.dataset.makeBatch(capacity: Swift.min(loader.schedule.batchSize, loader.dataset.count))
    }

    public mutating func next() -> Batch<Scalar>? {
        guard step < loader.schedule.stepsPerEpoch else { return nil }
        loader.load(step: step, epoch: epoch, into: &buffer)
        step += 1
        return buffer
    }
}
