// TrainingLogCallback.swift — Level 1: how a loop you do not own reports what every style reports.
//
// Teaches: `fit` and `Trainer.fit` own their loops, so the only way in is a callback — the way
// Keras's `History` and Lightning's loggers get their numbers. This one hands each batch's loss
// and each epoch's validation numbers to Shared's `TrainingLog`, which keeps the history, feeds
// the progress display and stops the run (by throwing out of `fit`) at a non-finite loss or
// Ctrl-C. compare-levels' Level 1 rows are `fit` and `Trainer.fit` with this callback.
// Leaves out: nothing a learner needs; this is plumbing.

import Shared

/// Writes a high-level loop's steps and epochs to a ``TrainingLog``.
///
/// The loop must walk `job`'s batches (same batch size, order and seed): the batch sizes are
/// read from the job's schedule, since batch logs carry only the loss.
public final class TrainingLogCallback: Callback {
    let log: TrainingLog
    let schedule: BatchSchedule
    let task: Task

    public init(_ log: TrainingLog, _ job: TrainingJob) {
        self.log = log
        self.schedule = job.schedule
        self.task = job.test.task
    }

    /// `batch_loss`, the batch's own loss, over the batch's samples.
    public func onBatchEnd(_ batch: Int, logs: Logs, run: TrainingRun) throws {
        try log.step(logs["batch_loss"] ?? .nan, samples: schedule.range(ofStep: batch - 1).count)
    }

    /// `val_loss` and `val_accuracy` (or `val_r2`): the test set's numbers; `accuracy` (or
    /// `r2`): the training set's, as the batches went.
    public func onEpochEnd(_ epoch: Int, logs: Logs, run: TrainingRun) throws {
        let classifies = task == .classification
        try log.epochEnded(testLoss: logs["val_loss"] ?? .nan,
                           testAccuracy: classifies ? logs["val_accuracy"] : nil, testR2: classifies ? nil : logs["val_r2"],
                           trainAccuracy: classifies ? logs["accuracy"] : nil, trainR2: classifies ? nil : logs["r2"])
    }
}
