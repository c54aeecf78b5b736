// Callbacks.swift — Level 1: code that runs at fixed points of the training loop.
//
// Teaches: everything `fit` does besides the four lines of the loop — early stopping, saving the
// best weights, logging to CSV, the progress bar — is a callback: an object the loop calls at the
// start and end of training, of each epoch and of each batch, with the logs so far. A callback
// changes training only through two doors: the weights (it can read and replace them) and the
// stop flag. The same protocol serves Keras-style `fit` and the Lightning-style `Trainer`.
// Leaves out: batch-begin and test/predict hooks, `baseline` and `start_from_epoch` of
// EarlyStopping, saving every N batches, appending to an existing CSV file.

import Foundation
import Level2Modules
import Shared

// MARK: - The protocol

/// What the loop tells a callback about the run in progress, and how a callback acts on it
/// (Keras's `callback.model` and `model.stop_training`; Lightning's `trainer` and `pl_module`).
public final class TrainingRun {
    /// The network being trained: a Keras-style ``Model`` or a ``LightningModule``. Its
    /// `stateDict()` / `loadStateDict(_:)` (Level 2) read and replace the weights.
    public let module: any Module<Float>
    /// Epochs asked for.
    public let epochs: Int
    /// Batches per epoch, `⌈N / batchSize⌉`.
    public let stepsPerEpoch: Int
    /// The epoch in progress (from 1; 0 before the first).
    public internal(set) var epoch = 0
    /// Set to stop training: the loop finishes the current batch, then the epoch's validation and
    /// epoch-end callbacks, and stops.
    public var stopTraining = false
    /// The `__metadata__` for weight files (see ``Model/checkpointMetadata``).
    public let checkpointMetadata: [String: String]

    public init(module: any Module<Float>, epochs: Int, stepsPerEpoch: Int, checkpointMetadata: [String: String] = [:]) {
        self.module = module
        self.epochs = epochs
        self.stepsPerEpoch = stepsPerEpoch
        self.checkpointMetadata = checkpointMetadata
    }
}

/// Code called at fixed points of training (Keras's `keras.callbacks.Callback`, Lightning's
/// `Callback`). Every method has an empty default, so a callback implements only what it needs.
/// Epochs and batches are counted from 1 (Keras counts from 0).
public protocol Callback: AnyObject {
    /// Before the first epoch.
    func onTrainBegin(_ run: TrainingRun) throws
    /// Before each epoch's first batch.
    func onEpochBegin(_ epoch: Int, run: TrainingRun) throws
    /// After each batch's update. `logs` holds the running means of the epoch so far (`loss`,
    /// metrics) and this batch's own loss, `batch_loss`.
    func onBatchEnd(_ batch: Int, logs: Logs, run: TrainingRun) throws
    /// After each epoch, with its training numbers and, if there is validation data, `val_…`.
    func onEpochEnd(_ epoch: Int, logs: Logs, run: TrainingRun) throws
    /// After the last epoch (or the one where training stopped), with its logs.
    func onTrainEnd(logs: Logs, run: TrainingRun) throws
}

extension Callback {
    public func onTrainBegin(_ run: TrainingRun) throws {}
    public func onEpochBegin(_ epoch: Int, run: TrainingRun) throws {}
    public func onBatchEnd(_ batch: Int, logs: Logs, run: TrainingRun) throws {}
    public func onEpochEnd(_ epoch: Int, logs: Logs, run: TrainingRun) throws {}
    public func onTrainEnd(logs: Logs, run: TrainingRun) throws {}
}

// MARK: - Watching a number

/// Whether smaller or larger values of a monitored number are better.
public enum MonitorMode: Sendable, Equatable {
    /// From the name: losses and `mse` are minimised, `accuracy` and `r2` maximised.
    case auto
    case min
    case max

    /// `true` for "larger is better", from the mode or the name of `monitor`.
    func maximizes(_ monitor: String) throws -> Bool {
        switch self {
        case .min: return false
        case .max: return true
        case .auto:
            let name = monitor.hasPrefix("val_") ? String(monitor.dropFirst(4)) : monitor
            if ["loss", "mse", "batch_loss"].contains(name) { return false }
            if ["accuracy", "r2"].contains(name) { return true }
            throw HighLevelError.invalidArgument(
                name: "monitor", reason: "\"\(monitor)\" is not a known metric; pass mode: .min or .max")
        }
    }
}

/// The monitored value from `logs`, or an error listing what is there.
func monitoredValue(_ monitor: String, in logs: Logs, by callback: String) throws -> Double {
    guard let value = logs[monitor] else {
        let available = logs.keys.filter { $0 != "batch_loss" }.joined(separator: ", ")
        throw HighLevelError.incompatible(
            "\(callback) monitors \(monitor), which is not in the logs (\(available)); "
            + (monitor.hasPrefix("val_") ? "pass validation data, or monitor another key" : "monitor another key"))
    }
    return value
}

// MARK: - EarlyStopping

/// Stops training when a monitored number has stopped improving (Keras's `EarlyStopping`).
///
/// After each epoch: the value improves when `current < best − minDelta` (or, when maximising,
/// `current > best + minDelta`). An improvement resets the wait; otherwise the wait grows, and
/// when it reaches `patience` (from the second epoch on) training stops. With
/// `restoreBestWeights`, the weights of the best epoch are put back when training ends, as
/// Keras 3 does (whether training stopped early or ran to its last epoch).
public final class EarlyStopping: Callback {
    public let monitor: String
    public let patience: Int
    public let minDelta: Double
    public let mode: MonitorMode
    public let restoreBestWeights: Bool
    public let verbose: Bool

    /// The best value seen so far, and its epoch.
    public private(set) var best: Double?
    public private(set) var bestEpoch: Int?
    /// Epochs since the last improvement.
    public private(set) var wait = 0
    /// The epoch at which this callback stopped training, if it did.
    public private(set) var stoppedEpoch: Int?
    /// Whether the best weights were put back at the end of training.
    public private(set) var restoredWeights = false
    private var bestWeights: StateDict<Float>?

    /// - Parameters:
    ///   - monitor: the key to watch (`val_loss`, `loss`, `val_accuracy`, …).
    ///   - patience: epochs without improvement before stopping (0: stop at the first).
    ///   - minDelta: the smallest change that counts as an improvement (its sign is ignored).
    ///   - mode: minimise or maximise; `.auto` decides from the key.
    ///   - restoreBestWeights: put back the weights of the best epoch when training ends.
    ///   - verbose: print a line when stopping and when restoring.
    public init(monitor: String = "val_loss", patience: Int = 0, minDelta: Double = 0, mode: MonitorMode = .auto,
                restoreBestWeights: Bool = false, verbose: Bool = false) {
        self.monitor = monitor
        self.patience = patience
        self.minDelta = minDelta.magnitude
        self.mode = mode
        self.restoreBestWeights = restoreBestWeights
        self.verbose = verbose
    }

    public func onTrainBegin(_ run: TrainingRun) throws {
        _ = try mode.maximizes(monitor)                    // an unknown key fails before training
        (best, bestEpoch, wait, stoppedEpoch, restoredWeights, bestWeights) = (nil, nil, 0, nil, false, nil)
    }

    public func onEpochEnd(_ epoch: Int, logs: Logs, run: TrainingRun) throws {
        let current = try monitoredValue(monitor, in: logs, by: "EarlyStopping")
        if restoreBestWeights && bestWeights == nil {       // the first weights are the best so far
            bestWeights = run.module.stateDict()
            bestEpoch = epoch
        }
        wait += 1
        if try isImprovement(current) {
            best = current
            bestEpoch = epoch
            if restoreBestWeights { bestWeights = run.module.stateDict() }
            wait = 0
            return
        }
        if wait >= patience && epoch > 1 {
            stoppedEpoch = epoch
            run.stopTraining = true
        }
    }

    public func onTrainEnd(logs: Logs, run: TrainingRun) throws {
        if let stoppedEpoch, verbose { print("Epoch \(stoppedEpoch): early stopping") }
        if restoreBestWeights, let bestWeights {
            if verbose, let bestEpoch { print("Restoring model weights from the end of the best epoch: \(bestEpoch).") }
            try run.module.loadStateDict(bestWeights, source: "EarlyStopping's best weights")
            restoredWeights = true
        }
    }

    private func isImprovement(_ current: Double) throws -> Bool {
        guard let best else { return !current.isNaN }
        return try mode.maximizes(monitor) ? current - minDelta > best : current + minDelta < best
    }
}

// MARK: - ModelCheckpoint

/// Saves the weights after an epoch (Keras's `ModelCheckpoint(save_weights_only=True)`), as
/// safetensors with the shared checkpoint's names (`fc1.weight`, …), atomically.
///
/// With `saveBestOnly`, only after an epoch whose monitored value beats every earlier one.
/// `{epoch}` in the path becomes the epoch number (`{epoch:02d}` zero-pads it), so a path can
/// keep one file per epoch.
public final class ModelCheckpoint: Callback {
    public let path: String
    public let monitor: String
    public let saveBestOnly: Bool
    public let mode: MonitorMode
    public let verbose: Bool
    /// The epochs after which a file was written.
    public private(set) var savedEpochs: [Int] = []
    /// The best monitored value so far.
    public private(set) var best: Double?

    public init(path: String, monitor: String = "val_loss", saveBestOnly: Bool = false, mode: MonitorMode = .auto,
                verbose: Bool = false) {
        self.path = path
        self.monitor = monitor
        self.saveBestOnly = saveBestOnly
        self.mode = mode
        self.verbose = verbose
    }

    public func onTrainBegin(_ run: TrainingRun) throws {
        if saveBestOnly { _ = try mode.maximizes(monitor) }
        (savedEpochs, best) = ([], nil)
    }

    public func onEpochEnd(_ epoch: Int, logs: Logs, run: TrainingRun) throws {
        let file = Self.path(path, epoch: epoch)
        if saveBestOnly {
            let current = try monitoredValue(monitor, in: logs, by: "ModelCheckpoint")
            let improved: Bool
            if let best {
                improved = try mode.maximizes(monitor) ? current > best : current < best
            } else {
                improved = !current.isNaN
            }
            guard improved else {
                if verbose { print("Epoch \(epoch): \(monitor) did not improve from \(fixed(best ?? .nan, 5))") }
                return
            }
            if verbose { print("Epoch \(epoch): \(monitor) improved to \(fixed(current, 5)), saving weights to \(file)") }
            best = current
        }
        try run.module.save(to: file, metadata: run.checkpointMetadata)
        savedEpochs.append(epoch)
    }

    /// `pattern` with `{epoch}` and `{epoch:0Nd}` replaced by `epoch`.
    static func path(_ pattern: String, epoch: Int) -> String {
        var result = pattern.replacingOccurrences(of: "{epoch}", with: "\(epoch)")
        for width in 1...9 {
            let digits = String(epoch)
            result = result.replacingOccurrences(
                of: "{epoch:0\(width)d}", with: String(repeating: "0", count: max(0, width - digits.count)) + digits)
        }
        return result
    }
}

// MARK: - CSVLogger

/// Writes one CSV row per epoch (Keras's `CSVLogger`): `epoch` (from 1), then every logged key in
/// alphabetical order, e.g. `epoch,accuracy,loss,val_accuracy,val_loss`.
///
/// The whole file is rewritten after each epoch with Shared's `AtomicFile` (temp file, `fsync`,
/// rename), so a reader, or a crash, never sees half a row.
public final class CSVLogger: Callback {
    public let path: String
    public let separator: String
    private var keys: [String]?
    private var lines: [String] = []

    public init(path: String, separator: String = ",") {
        self.path = path
        self.separator = separator
    }

    public func onTrainBegin(_ run: TrainingRun) throws {
        (keys, lines) = (nil, [])
    }

    public func onEpochEnd(_ epoch: Int, logs: Logs, run: TrainingRun) throws {
        if keys == nil {
            keys = logs.keys.filter { $0 != "batch_loss" }.sorted()
            lines.append((["epoch"] + keys!).joined(separator: separator))
        }
        lines.append((["\(epoch)"] + keys!.map { key in logs[key].map { "\($0)" } ?? "" }).joined(separator: separator))
        try AtomicFile.write(string: lines.joined(separator: "\n") + "\n", to: path)
    }
}

// MARK: - TerminateOnNaN

/// Stops training as soon as the loss is not a finite number (Keras's `TerminateOnNaN`).
/// Without it, as in Keras, `fit` keeps going with NaN weights.
public final class TerminateOnNaN: Callback {
    /// The batch (of the epoch that stopped) whose loss was not finite, if one was.
    public private(set) var stoppedAt: (epoch: Int, batch: Int)?

    public init() {}

    public func onBatchEnd(_ batch: Int, logs: Logs, run: TrainingRun) throws {
        guard let loss = logs["batch_loss"] ?? logs["loss"], !loss.isFinite else { return }
        stoppedAt = (run.epoch, batch)
        run.stopTraining = true
    }
}
