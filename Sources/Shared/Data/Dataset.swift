// Dataset.swift — samples in memory, and the minibatches every level is fed.
//
// Teaches: a training set is one matrix of inputs and one column of targets; an epoch is a
// permutation of its rows cut into batches. Every level sees the same permutation, so the same
// batches, in the same order (DESIGN.md: "Batches").
// Leaves out: data augmentation and background loading (the whole set fits in memory).

/// Samples held in memory: inputs `[N, features]` and their targets.
///
/// Classification keeps one class index per row in `labels` (and `targets` is empty);
/// regression keeps real targets `[N, outputs]` in `targets` (and `labels` is empty).
public struct Dataset<Scalar: NeuralScalar>: Sendable {
    public var task: Task
    /// Inputs, one sample per row: `[N, features]` (pixels scaled to [0, 1]).
    public var inputs: Matrix<Scalar>
    /// Classification: the class of each row, `0..<classCount`.
    public var labels: [Int32]
    /// Regression: the target of each row, `[N, outputs]`.
    public var targets: Matrix<Scalar>
    /// Number of classes (classification) or outputs (regression).
    public var classCount: Int

    public init(task: Task, inputs: Matrix<Scalar>, labels: [Int32], targets: Matrix<Scalar>,
                classCount: Int) {
        precondition(task == .regression || labels.count == inputs.rows)
        precondition(task == .classification || targets.rows == inputs.rows)
        self.task = task
        self.inputs = inputs
        self.labels = labels
        self.targets = targets
        self.classCount = classCount
    }

    /// A classification set.
    public static func classification(inputs: Matrix<Scalar>, labels: [Int32], classCount: Int) -> Dataset {
        Dataset(task: .classification, inputs: inputs, labels: labels,
                targets: Matrix(rows: 0, columns: 0), classCount: classCount)
    }

    /// A regression set.
    public static func regression(inputs: Matrix<Scalar>, targets: Matrix<Scalar>) -> Dataset {
        Dataset(task: .regression, inputs: inputs, labels: [], targets: targets,
                classCount: targets.columns)
    }

    /// Number of samples `N`.
    @inlinable public var count: Int { inputs.rows }

    /// Number of input features.
    public var featureCount: Int { inputs.columns }

    /// The first `limit` samples (`--train-limit`, `--test-limit`); all of them if `limit` is nil.
    public func prefix(_ limit: Int?) -> Dataset {
        guard let limit, limit < count else { return self }
        let n = max(0, limit)
        return Dataset(
            task: task,
            inputs: Matrix(rows: n, columns: inputs.columns,
                           storage: Array(inputs.storage.prefix(n * inputs.columns))),
            labels: Array(labels.prefix(n)),
            targets: task == .regression
                ? Matrix(rows: n, columns: targets.columns,
                         storage: Array(targets.storage.prefix(n * targets.columns)))
                : targets,
            classCount: classCount)
    }

    /// The same samples in another scalar type (for Double-precision gradient checks).
    public func converted<Other: NeuralScalar>(to _: Other.Type = Other.self) -> Dataset<Other> {
        Dataset<Other>(task: task, inputs: inputs.converted(), labels: labels,
                       targets: targets.converted(), classCount: classCount)
    }

    /// An empty batch buffer for up to `capacity` samples of this set.
    @inlinable public func makeBatch(capacity: Int) -> Batch<Scalar> {
        var batch = Batch<Scalar>(
            inputs: Matrix(rows: capacity, columns: inputs.columns),
            labels: task == .classification ? Array(repeating: 0, count: capacity) : [],
            targets: Matrix(rows: task == .regression ? capacity : 0, columns: targets.columns))
        batch.inputs.resize(rows: 0)
        batch.labels.removeAll(keepingCapacity: true)
        batch.targets.resize(rows: 0)
        return batch
    }

    /// Copies the rows `indices` into `batch`, reusing its buffers (no allocation once the
    /// buffers have reached the batch size).
    @inlinable public func gather<Indices: Collection<Int>>(_ indices: Indices, into batch: inout Batch<Scalar>) {
        let n = indices.count
        batch.inputs.resize(rows: n)
        copyRows(indices, from: inputs, into: &batch.inputs)
        if task == .classification {
            batch.labels.removeAll(keepingCapacity: true)
            for index in indices { batch.labels.append(labels[index]) }
        } else {
            batch.targets.resize(rows: n)
            copyRows(indices, from: targets, into: &batch.targets)
        }
    }

    /// The contiguous rows `range` as a batch (evaluation walks the test set this way).
    @inlinable public func batch(rows range: Range<Int>) -> Batch<Scalar> {
        var result = makeBatch(capacity: range.count)
        gather(range, into: &result)
        return result
    }
}

@inlinable
func copyRows<Scalar, Indices: Collection<Int>>(
    _ indices: Indices, from source: Matrix<Scalar>, into destination: inout Matrix<Scalar>
) {
    let width = source.columns
    source.storage.withUnsafeBufferPointer { src in
        destination.storage.withUnsafeMutableBufferPointer { dst in
            var offset = 0
            for index in indices {
                let from = src.baseAddress! + index * width
                (dst.baseAddress! + offset).update(from: from, count: width)
                offset += width
            }
        }
    }
}

/// One minibatch: the rows of a ``Dataset`` chosen for one step.
public struct Batch<Scalar: NeuralScalar>: Sendable {
    /// x: `[B, features]`.
    public var inputs: Matrix<Scalar>
    /// Classification: class indices, `B` of them.
    public var labels: [Int32]
    /// Regression: y: `[B, outputs]`.
    public var targets: Matrix<Scalar>

    public init(inputs: Matrix<Scalar>, labels: [Int32], targets: Matrix<Scalar>) {
        self.inputs = inputs
        self.labels = labels
        self.targets = targets
    }

    /// `B`, the number of samples in this batch.
    public var count: Int { inputs.rows }
}

// MARK: - The order of batches

/// Which rows make up each batch of each epoch.
///
/// With shuffling, epoch `e` uses a Fisher–Yates permutation from ``SeededGenerator`` stream
/// `.shuffle(epoch: e)` of the seed; without (`--no-shuffle`), file order. Batches are taken in
/// order, and the last, partial batch is kept: 60,000 samples at batch 64 give 938 steps, the
/// last of 32 samples.
public struct BatchSchedule: Sendable, Equatable {
    public var sampleCount: Int
    public var batchSize: Int
    public var shuffle: Bool
    public var seed: UInt64

    public init(sampleCount: Int, batchSize: Int, shuffle: Bool, seed: UInt64) {
        precondition(batchSize >= 1)
        self.sampleCount = sampleCount
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
    }

    /// Steps per epoch: ⌈N / batchSize⌉.
    @inlinable public var stepsPerEpoch: Int { (sampleCount + batchSize - 1) / batchSize }

    /// The order of the rows in epoch `epoch` (1-based, as printed).
    @inlinable public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<sampleCount) }
        var generator = SeededGenerator(seed: seed, stream: .shuffle(epoch: epoch))
        return generator.permutation(count: sampleCount)
    }

    /// The positions in `order(epoch:)` of batch `step` (0-based).
    @inlinable public func range(ofStep step: Int) -> Range<Int> {
        let start = step * batchSize
        return start..<min(start + batchSize, sampleCount)
    }
}
