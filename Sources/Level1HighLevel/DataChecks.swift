// DataChecks.swift — Level 1: checking x and y against the model and the loss, once, up front.
//
// Teaches: most mistakes with a high-level API are shape and type mistakes, and all of them can
// be caught before the first step: inputs as wide as the input layer, one target per sample,
// labels inside the output range, integer labels for the sparse loss and one-hot rows for the
// categorical one. Each check names the argument and says what to do instead.
// Leaves out: checking values (NaN pixels train as NaN; TerminateOnNaN notices).

import Level2Modules
import Shared

// MARK: - Checking the data

/// Targets as given to `fit(x:y:)`: class labels, or a matrix of rows.
enum Targets<Scalar: NeuralScalar> {
    case labels([Int32])
    case values(Matrix<Scalar>)
}

extension Model {
    /// `x` and `y` as a shared `Dataset`, checked against the model and the loss; one-hot rows for
    /// the categorical cross-entropy become class indices (the same loss, computed fused).
    func dataset(x: Matrix<Scalar>, targets: Targets<Scalar>, argument: String, compilation: Compilation<Scalar>) throws
        -> Dataset<Scalar> {
        guard x.columns == inputSize else {
            throw HighLevelError.inputWidth(argument: argument, expected: inputSize, got: x.columns)
        }
        switch (targets, compilation.loss) {
        case let (.labels(labels), .sparseCategoricalCrossentropy):
            guard labels.count == x.rows else {
                throw HighLevelError.sampleCountMismatch(argument: argument, inputs: x.rows, targets: labels.count)
            }
            let data = Dataset.classification(inputs: x, labels: labels, classCount: outputSize)
            try check(data, argument: argument, compilation: compilation)
            return data
        case (.labels, .categoricalCrossentropy):
            throw HighLevelError.incompatible(
                "\(argument): categoricalCrossentropy expects one-hot rows [N, \(outputSize)]; "
                + "for integer class labels use .sparseCategoricalCrossentropy")
        case (.labels, .meanSquaredError):
            throw HighLevelError.incompatible(
                "\(argument): meanSquaredError needs target values y: [N, \(outputSize)], not class labels")
        case let (.values(y), .categoricalCrossentropy):
            guard y.rows == x.rows else {
                throw HighLevelError.sampleCountMismatch(argument: argument, inputs: x.rows, targets: y.rows)
            }
            guard y.columns == outputSize else {
                throw HighLevelError.incompatible("\(argument): one-hot rows have \(y.columns) columns, the model has \(outputSize) outputs")
            }
            var labels: [Int32] = []
            labels.reserveCapacity(y.rows)
            for row in 0..<y.rows {
                let values = y.storage[(row * y.columns)..<((row + 1) * y.columns)]
                guard values.allSatisfy({ $0 == 0 || $0 == 1 }), values.filter({ $0 == 1 }).count == 1 else {
                    throw HighLevelError.incompatible(
                        "\(argument): row \(row) of y is not one-hot (one 1, the rest 0); soft labels are left out at this level")
                }
                labels.append(Int32(values.firstIndex(of: 1)! - values.startIndex))
            }
            return .classification(inputs: x, labels: labels, classCount: outputSize)
        case (.values, .sparseCategoricalCrossentropy):
            throw HighLevelError.incompatible(
                "\(argument): sparseCategoricalCrossentropy expects integer class labels [Int32]; "
                + "for one-hot rows use .categoricalCrossentropy")
        case let (.values(y), .meanSquaredError):
            guard y.rows == x.rows else {
                throw HighLevelError.sampleCountMismatch(argument: argument, inputs: x.rows, targets: y.rows)
            }
            guard y.columns == outputSize else {
                throw HighLevelError.incompatible("\(argument): y has \(y.columns) columns, the model has \(outputSize) outputs")
            }
            return .regression(inputs: x, targets: y)
        }
    }

    /// Checks a whole data set against the model and the loss: widths, counts, label range.
    func check(_ data: Dataset<Scalar>, argument: String, compilation: Compilation<Scalar>) throws {
        guard data.featureCount == inputSize else {
            throw HighLevelError.inputWidth(argument: argument, expected: inputSize, got: data.featureCount)
        }
        switch (data.task, compilation.loss) {
        case (.classification, .sparseCategoricalCrossentropy):
            guard data.labels.count == data.count else {
                throw HighLevelError.sampleCountMismatch(argument: argument, inputs: data.count, targets: data.labels.count)
            }
            if let index = data.labels.firstIndex(where: { $0 < 0 || Int($0) >= outputSize }) {
                throw HighLevelError.incompatible(
                    "\(argument): label \(data.labels[index]) of sample \(index) is outside 0..<\(outputSize) (the model's outputs)")
            }
        case (.classification, .categoricalCrossentropy):
            throw HighLevelError.incompatible(
                "\(argument): this data holds integer class labels; use .sparseCategoricalCrossentropy "
                + "(.categoricalCrossentropy expects one-hot rows)")
        case (.classification, .meanSquaredError):
            throw HighLevelError.incompatible("\(argument): meanSquaredError needs target values, this data holds class labels")
        case (.regression, .meanSquaredError):
            guard data.targets.rows == data.count else {
                throw HighLevelError.sampleCountMismatch(argument: argument, inputs: data.count, targets: data.targets.rows)
            }
            guard data.targets.columns == outputSize else {
                throw HighLevelError.incompatible(
                    "\(argument): targets have \(data.targets.columns) columns, the model has \(outputSize) outputs")
            }
        case (.regression, _):
            throw HighLevelError.incompatible("\(argument): \(compilation.loss.rawValue) needs class labels, this data holds target values")
        }
    }

    /// Checks one batch (a `trainOnBatch(_:)` from outside `fit`): widths, counts, label range.
    func check(_ batch: Batch<Scalar>, compilation: Compilation<Scalar>) throws {
        guard batch.inputs.columns == inputSize else {
            throw HighLevelError.inputWidth(argument: "batch", expected: inputSize, got: batch.inputs.columns)
        }
        if compilation.task == .classification {
            guard batch.labels.count == batch.count else {
                throw HighLevelError.sampleCountMismatch(argument: "batch", inputs: batch.count, targets: batch.labels.count)
            }
            if let label = batch.labels.first(where: { $0 < 0 || Int($0) >= outputSize }) {
                throw HighLevelError.incompatible("batch: label \(label) is outside 0..<\(outputSize) (the model's outputs)")
            }
        } else {
            guard batch.targets.rows == batch.count else {
                throw HighLevelError.sampleCountMismatch(argument: "batch", inputs: batch.count, targets: batch.targets.rows)
            }
            guard batch.targets.columns == outputSize else {
                throw HighLevelError.incompatible("batch: targets have \(batch.targets.columns) columns, the model has \(outputSize) outputs")
            }
        }
    }
}

extension Dataset {
    /// The contiguous rows `range` as a data set (Keras's validation split).
    func rows(_ range: Range<Int>) -> Dataset {
        let batch = self.batch(rows: range)
        return Dataset(task: task, inputs: batch.inputs, labels: batch.labels,
                       targets: task == .regression ? batch.targets : targets, classCount: classCount)
    }
}
