// Progress.swift — what a run prints while it trains.
//
// Teaches: nothing about networks; it is the Keras-like display a learner expects. On a
// terminal, a live bar per epoch (step count, ETA, running loss); otherwise (a pipe, a file,
// CI) only one line per epoch, so logs stay readable.
// Leaves out: colours and multi-line dashboards.

import Foundation
import Shared

/// Prints training progress for one level.
public final class ProgressDisplay {
    let isTerminal: Bool
    let epochs: Int
    let task: Task
    var epochStart = DispatchTime.now().uptimeNanoseconds
    var lastDraw: UInt64 = 0

    public init(epochs: Int, task: Task, isTerminal: Bool = isatty(STDOUT_FILENO) == 1) {
        self.isTerminal = isTerminal
        self.epochs = epochs
        self.task = task
    }

    /// Handles one event of the training loop.
    public func handle(_ event: TrainingEvent) {
        switch event {
        case .epochStarted:
            epochStart = DispatchTime.now().uptimeNanoseconds
            lastDraw = 0
        case let .stepEnded(epoch, step, steps, _, runningLoss):
            guard isTerminal else { return }
            let now = DispatchTime.now().uptimeNanoseconds
            guard step == steps || now - lastDraw > 100_000_000 else { return }   // ≤ 10 redraws/s
            lastDraw = now
            let elapsed = Double(now - epochStart) / 1e9
            let eta = elapsed / Double(step) * Double(steps - step)
            let width = 30
            let filled = width * step / steps
            let bar = String(repeating: "=", count: max(0, filled - 1)) + (filled > 0 ? ">" : "")
                + String(repeating: ".", count: width - filled)
            let stepText = "\(step)".leftPadded(to: "\(steps)".count)
            write("\r\u{1B}[2Kepoch \(epoch)/\(epochs) \(stepText)/\(steps) [\(bar)] - ETA \(format(eta, 1))s - loss \(format(runningLoss, 4))")
        case let .epochEnded(record):
            if isTerminal { write("\r\u{1B}[2K") }
            print(Self.line(for: record, epochs: epochs))
            fflush(nil)                                  // nil: every output stream
        }
    }

    /// `epoch 3/10  train loss 0.4172  accuracy 0.8513  test loss 0.4461  test accuracy 0.8412  0.61 s`
    public static func line(for record: EpochRecord, epochs: Int) -> String {
        var text = "epoch \(record.epoch)/\(epochs)  train loss \(format(record.trainLoss, 4))"
        if let accuracy = record.trainAccuracy { text += "  accuracy \(format(accuracy, 4))" }
        if let r2 = record.trainR2 { text += "  R² \(format(r2, 4))" }
        text += "  test loss \(format(record.testLoss, 4))"
        if let accuracy = record.testAccuracy { text += "  test accuracy \(format(accuracy, 4))" }
        if let r2 = record.testR2 { text += "  test R² \(format(r2, 4))" }
        return text + "  \(format(record.seconds, 2)) s"
    }

    private func write(_ text: String) {
        print(text, terminator: "")
        fflush(nil)
    }
}

/// Fixed-point text of `value` with `digits` decimals.
public func format(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
