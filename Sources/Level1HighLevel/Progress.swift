// Progress.swift — Level 1: what `fit` prints while it trains (`verbose:`).
//
// Teaches: nothing about networks; it is the display a Keras user expects, and it is just another
// callback. On a terminal, a live bar per epoch (steps, ETA, running loss and metrics), finished
// with the epoch's time and validation numbers; otherwise (a pipe, a file, CI) one line per epoch,
// so logs stay readable. It mirrors TrainingCLI's `ProgressDisplay` (Level 1 is a library and
// does not depend on the command-line target).
// Leaves out: colours, and Keras's per-step timing breakdown.

import Foundation

/// How much `fit` prints (Keras's `verbose=`); an integer literal works: `verbose: 0`.
public enum Verbosity: Sendable, Equatable, ExpressibleByIntegerLiteral {
    /// A bar on a terminal, one line per epoch otherwise (Keras's `"auto"`).
    case auto
    /// Nothing (`0`).
    case silent
    /// A live progress bar per epoch (`1`).
    case progressBar
    /// One line per epoch (`2`).
    case oneLinePerEpoch

    /// `0` silent, `1` progress bar, `2` (or more) one line per epoch.
    public init(integerLiteral value: Int) {
        switch value {
        case ...0: self = .silent
        case 1: self = .progressBar
        default: self = .oneLinePerEpoch
        }
    }

    /// The progress callback this verbosity asks for, if any.
    func makeProgressBar() -> ProgressBar? {
        switch self {
        case .silent: return nil
        case .auto: return ProgressBar()
        case .progressBar: return ProgressBar(style: .bar)
        case .oneLinePerEpoch: return ProgressBar(style: .oneLinePerEpoch)
        }
    }
}

/// The progress display as a callback (Keras's `ProgbarLogger`).
///
///     Epoch 1/10
///     938/938 [==============================] - 1.42s 1.5ms/step - loss: 0.6034 - accuracy: 0.7938 - val_loss: 0.4934 - val_accuracy: 0.8247
///
/// or, not on a terminal:
///
///     Epoch 1/10 - 938 steps - 1.42s - loss: 0.6034 - accuracy: 0.7938 - val_loss: 0.4934 - val_accuracy: 0.8247
public final class ProgressBar: Callback {
    public enum Style: Sendable { case bar, oneLinePerEpoch }

    public let style: Style
    private let output: (String) -> Void
    private var epochStart: UInt64 = 0
    private var lastDraw: UInt64 = 0

    /// - Parameters:
    ///   - style: default: a bar when standard output is a terminal, one line per epoch otherwise.
    ///   - output: where the text goes (default: standard output, flushed).
    public init(style: Style? = nil, output: ((String) -> Void)? = nil) {
        self.style = style ?? (isatty(STDOUT_FILENO) == 1 ? .bar : .oneLinePerEpoch)
        self.output = output ?? { text in
            print(text, terminator: "")
            fflush(nil)                                  // nil: every output stream
        }
    }

    public func onEpochBegin(_ epoch: Int, run: TrainingRun) throws {
        epochStart = DispatchTime.now().uptimeNanoseconds
        lastDraw = 0
        if style == .bar { output("Epoch \(epoch)/\(run.epochs)\n") }
    }

    public func onBatchEnd(_ batch: Int, logs: Logs, run: TrainingRun) throws {
        guard style == .bar else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard batch == run.stepsPerEpoch || now - lastDraw > 100_000_000 else { return }   // ≤ 10 redraws/s
        lastDraw = now
        let elapsed = Double(now - epochStart) / 1e9
        let eta = elapsed / Double(batch) * Double(max(0, run.stepsPerEpoch - batch))
        output("\r\u{1B}[2K" + bar(batch, of: run.stepsPerEpoch) + " - ETA: \(fixed(eta, 1))s - " + Self.shown(logs))
    }

    public func onEpochEnd(_ epoch: Int, logs: Logs, run: TrainingRun) throws {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9
        let steps = run.stepsPerEpoch
        switch style {
        case .bar:
            let perStep = seconds / Double(max(1, steps)) * 1000
            output("\r\u{1B}[2K" + bar(steps, of: steps) + " - \(fixed(seconds, 2))s \(fixed(perStep, 1))ms/step - "
                   + Self.shown(logs) + "\n")
        case .oneLinePerEpoch:
            output("Epoch \(epoch)/\(run.epochs) - \(steps) steps - \(fixed(seconds, 2))s - " + Self.shown(logs) + "\n")
        }
    }

    /// ` 12/938 [>.............................]`
    private func bar(_ step: Int, of steps: Int) -> String {
        let width = 30
        let filled = width * step / max(1, steps)
        let arrow = String(repeating: "=", count: max(0, filled - 1)) + (filled > 0 ? (step == steps ? "=" : ">") : "")
        let counter = String(repeating: " ", count: max(0, "\(steps)".count - "\(step)".count)) + "\(step)/\(steps)"
        return counter + " [" + arrow + String(repeating: ".", count: width - filled) + "]"
    }

    /// The logs without the per-batch loss.
    static func shown(_ logs: Logs) -> String {
        var shown = logs
        shown["batch_loss"] = nil
        return shown.description
    }
}
