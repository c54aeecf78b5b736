// TrainingLog.swift — the step log every style's loop writes to.
//
// Teaches: what Keras's `History` and progress bar, Lightning's logger and a PyTorch user's
// `losses.append(loss.item())` have in common: after each step the loop reports the batch's loss
// and outputs, and after each epoch its evaluation. From those the log keeps the run's history
// (every step's loss, one `EpochRecord` per epoch: the epoch's mean loss `Σ L_b·B_b / N`, the
// training accuracy or R² as the batches went, the test loss and accuracy or R², the training
// seconds), tells the progress display, and stops the run where a careful user would: at the
// first non-finite loss, and when Ctrl-C asks.
// Leaves out: the loop (each style writes its own), and what a step computes.

import Foundation

/// The history of one style's run, written by its training loop.
///
///     let log = TrainingLog(job)
///     try log.run {
///         for epoch in job.epochs {
///             for batch in trainLoader.batches(epoch: epoch) {
///                 …                                       // the step: loss, and logits z: [B, O]
///                 try log.step(loss, outputs: z, batch: batch)
///             }
///             try log.epochEnded(evaluation)              // EvaluationTotals of the test set
///         }
///     }
///     log.result                                          // steps, epochs, why it stopped
///
/// ``step(_:outputs:batch:)`` throws when training must stop — the loss is not finite (divergence) or
/// the user pressed Ctrl-C — after recording why in ``result``; ``run(_:)`` ends the loop there
/// and returns normally, so the caller still returns the weights it reached.
public final class TrainingLog {
    /// Steps, epochs, and why training stopped early (if it did).
    public private(set) var result = TrainingResult()
    let job: TrainingJob
    let stepsPerEpoch: Int
    private var epoch = 1
    private var step = 0
    private var lossSum = 0.0                      // Σ L_b·B_b over the epoch so far
    private var seen = 0                           // Σ B_b
    private var training = EvaluationTotals()      // correct predictions or R² sums, as the batches went
    private var epochStart = DispatchTime.now().uptimeNanoseconds
    private var lastStepEnd = DispatchTime.now().uptimeNanoseconds

    /// A log for `job`'s run; the first epoch's clock starts now.
    public init(_ job: TrainingJob) {
        self.job = job
        stepsPerEpoch = job.schedule.stepsPerEpoch
        let (allSteps, overflow) = stepsPerEpoch.multipliedReportingOverflow(by: max(0, job.recipe.epochs))
        result.stepLosses.reserveCapacity(overflow ? 1 << 20 : min(allSteps, 1 << 20))
    }

    /// Why a loop must stop; already recorded in ``TrainingLog/result`` when thrown.
    public struct Stop: Error {
        public var reason: NeuralLevelsError
    }

    /// Runs a training loop; a ``Stop`` thrown inside ends it (the reason is in ``result``).
    /// Any other error is rethrown.
    public func run(_ loop: () throws -> Void) throws {
        do { try loop() } catch is Stop {}
    }

    /// Records one step: the batch's mean loss and the network's outputs for it, both before
    /// the update. `outputs` are the logits `z: [B, O]` (classification: the training accuracy
    /// counts `argmax z = label`) or the predictions `ŷ: [B, O]` (regression: training R²).
    ///
    /// - Throws: ``Stop`` when the loss is not finite (`diverged at epoch E, step S`) or when the
    ///   job's `shouldStop` answers true (Ctrl-C: `interrupted at epoch E, step S`).
    public func step<T: NeuralScalar>(_ loss: T, outputs: Matrix<T>, batch: Batch<T>) throws {
        if loss.isFinite { training.add(loss: loss, outputs: outputs, batch: batch) }
        try step(loss, samples: batch.count)
    }

    /// Records one step's loss alone, for a loop that keeps its training metrics itself: Level 1's
    /// `TrainingLogCallback`, for `fit` and `Trainer.fit`, which hand their own training accuracy
    /// or R² to ``epochEnded(testLoss:testAccuracy:testR2:trainAccuracy:trainR2:)``.
    ///
    /// It counts no training accuracy or R²: a loop that calls this and then ``epochEnded(_:)``
    /// reports a training accuracy of 0 (R²: NaN). A hand-written loop calls
    /// ``step(_:outputs:batch:)``.
    public func step<T: NeuralScalar>(_ loss: T, samples: Int) throws {
        if step == 0 { job.onEvent(.epochStarted(epoch: epoch, steps: stepsPerEpoch)) }
        step += 1
        let loss = Double(loss)
        guard loss.isFinite else {
            throw stop(.diverged(style: job.style, epoch: epoch, step: step, loss: "\(loss)"))
        }
        lastStepEnd = DispatchTime.now().uptimeNanoseconds
        result.stepLosses.append(loss)
        lossSum += loss * Double(samples)
        seen += samples
        job.onEvent(.stepEnded(epoch: epoch, step: step, steps: stepsPerEpoch, loss: loss,
                               runningLoss: lossSum / Double(seen)))
        if job.shouldStop() { throw stop(.failure("interrupted at epoch \(epoch), step \(step)")) }
    }

    /// Ends the epoch with the test set's evaluation, and starts the next epoch's clock.
    ///
    /// - Throws: ``Stop`` when the test loss is not finite: the last step's update overflowed
    ///   the weights (its own loss was computed before the update, so only the evaluation
    ///   shows it).
    public func epochEnded(_ test: EvaluationTotals) throws {
        let classifies = job.test.task == .classification
        try epochEnded(testLoss: test.meanLoss, testAccuracy: classifies ? test.accuracy : nil,
                       testR2: classifies ? nil : test.rSquared.value,
                       trainAccuracy: classifies ? training.accuracy : nil,
                       trainR2: classifies ? nil : training.rSquared.value)
    }

    /// As ``epochEnded(_:)``, from numbers a high-level loop already computed (`val_loss`,
    /// `accuracy`, …).
    public func epochEnded(testLoss: Double, testAccuracy: Double?, testR2: Double?,
                           trainAccuracy: Double?, trainR2: Double?) throws {
        let record = EpochRecord(epoch: epoch, trainLoss: lossSum / Double(max(1, seen)),
                                 trainAccuracy: trainAccuracy, trainR2: trainR2, testLoss: testLoss,
                                 testAccuracy: testAccuracy, testR2: testR2,
                                 seconds: Double(lastStepEnd - epochStart) / 1e9)
        result.epochs.append(record)
        job.onEvent(.epochEnded(record))
        let steps = step
        (epoch, step, lossSum, seen, training) = (epoch + 1, 0, 0, 0, EvaluationTotals())
        epochStart = DispatchTime.now().uptimeNanoseconds
        lastStepEnd = epochStart
        guard testLoss.isFinite || job.test.count == 0 else {
            throw stop(.diverged(style: job.style, epoch: record.epoch, step: steps,
                                 loss: "\(testLoss) on the test set after the update"))
        }
    }

    private func stop(_ reason: NeuralLevelsError) -> Stop {
        result.stopError = reason
        return Stop(reason: reason)
    }
}
