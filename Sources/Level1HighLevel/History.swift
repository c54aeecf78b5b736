// History.swift — Level 1: what `fit` returns, and the logs callbacks receive.
//
// Teaches: the numbers a learner plots. After each epoch, `fit` records the training loss (the
// mean over all samples of the epoch, `Σ_b L_b·B_b / N`, each batch's loss taken before its
// update), the metrics, and the same computed on the validation data after the epoch
// (`val_loss`, `val_accuracy`, …). `history.history["val_loss"]` is Keras's dictionary.
// Leaves out: the params dictionary Keras attaches (`history.params`), and non-numeric logs.

// MARK: - Logs

/// Named numbers, in the order they were added (Keras's `logs` dictionary): `loss`, the metrics,
/// then `val_loss` and the validation metrics.
public struct Logs: Sendable, Equatable, ExpressibleByDictionaryLiteral, Sequence, CustomStringConvertible {
    /// One named value.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: Double
    }

    /// The entries, in order.
    public private(set) var entries: [Entry] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, Double)...) {
        for (key, value) in elements { self[key] = value }
    }

    /// The value for `key`; setting a new key appends it, setting nil removes it.
    public subscript(key: String) -> Double? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }

    /// The keys, in order.
    public var keys: [String] { entries.map(\.key) }

    public var isEmpty: Bool { entries.isEmpty }

    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    /// `loss: 0.5123 - accuracy: 0.8200`, as Keras prints logs.
    public var description: String {
        entries.map { "\($0.key): \(fixed($0.value, 4))" }.joined(separator: " - ")
    }
}

// MARK: - History

/// Per-epoch training and validation numbers (Keras's `History` callback object).
public struct History: Sendable, Equatable {
    /// The epochs run, counted from 1 (Keras's `history.epoch` counts from 0).
    public private(set) var epochs: [Int] = []
    /// Each epoch's logs, in order.
    public private(set) var logs: [Logs] = []
    /// Every logged number by key, one value per epoch (Keras's `history.history`):
    /// `["loss": [0.61, 0.42], "accuracy": […], "val_loss": […], "val_accuracy": […]]`.
    public private(set) var history: [String: [Double]] = [:]

    public init() {}

    /// Records the logs of `epoch`.
    public mutating func append(epoch: Int, logs epochLogs: Logs) {
        epochs.append(epoch)
        logs.append(epochLogs)
        for entry in epochLogs { history[entry.key, default: []].append(entry.value) }
    }

    /// The values of `key`, one per epoch (empty if it was never logged).
    public subscript(key: String) -> [Double] { history[key] ?? [] }

    // MARK: Typed accessors

    /// Training loss per epoch: the mean over the epoch's samples of the loss before each update.
    public var loss: [Double] { self["loss"] }
    /// Training accuracy per epoch (from the logits of each batch, before its update).
    public var accuracy: [Double] { self["accuracy"] }
    /// Training mean squared error per epoch.
    public var meanSquaredError: [Double] { self["mse"] }
    /// Training R² per epoch.
    public var r2: [Double] { self["r2"] }
    /// Validation loss per epoch (after the epoch's last update).
    public var validationLoss: [Double] { self["val_loss"] }
    /// Validation accuracy per epoch.
    public var validationAccuracy: [Double] { self["val_accuracy"] }
    /// Validation mean squared error per epoch.
    public var validationMeanSquaredError: [Double] { self["val_mse"] }
    /// Validation R² per epoch.
    public var validationR2: [Double] { self["val_r2"] }
}
