// Dataset.swift — samples in memory, and the minibatches every level is fed.
//
// Teaches: a training set is one matrix of inputs and one column of targets; an epoch is a
// permutation of its rows cut into batches. Every level sees the same permutation, so the same
// batches, in the same order (docs/design.md, "Batches").
// Images are kept as the bytes the file holds and scaled to [0, 1] as each batch is gathered:
// a quarter of the memory (47 MB instead of 188 MB for Fashion-MNIST's training set), and a
// quarter of the memory traffic per epoch, which is most of what copying a batch costs.
// The training loops take their batches through a BatchLoader, which gathers the next batch
// while the current step computes.
// Leaves out: data augmentation, and data that does not fit in memory.

import CPrefetch

/// Samples held in memory: inputs `[N, features]` and their targets.
///
/// Classification keeps one class index per row in `labels` (and `targets` is empty);
/// regression keeps real targets `[N, outputs]` in `targets` (and `labels` is empty).
public struct Dataset<Scalar: NeuralScalar>: Sendable {
    public var task: Task
    /// The inputs as held in memory: see ``StoredInputs``. (Set through ``inputs`` or an
    /// initializer, which check that the pixels fill their shape.)
    public private(set) var storedInputs: StoredInputs
    /// Classification: the class of each row, `0..<classCount`.
    public var labels: [Int32]
    /// Regression: the target of each row, `[N, outputs]`.
    public var targets: Matrix<Scalar>
    /// Number of classes (classification) or outputs (regression).
    public var classCount: Int

    /// How a data set holds its inputs.
    public enum StoredInputs: Sendable {
        /// Real values, `[N, features]`, used as they are (the regression set; sets built in code).
        case values(Matrix<Scalar>)
        /// Image pixels as bytes, `rows · columns` of them, row after row; the input is
        /// `Scalar(byte) / 255`, computed when a batch is gathered (IDX files).
        case pixels([UInt8], rows: Int, columns: Int)
    }

    /// Inputs, one sample per row: `[N, features]` (pixels scaled to [0, 1]).
    ///
    /// For images this builds the whole matrix, `N × features` scalars (188 MB for
    /// Fashion-MNIST's training set): training reads batches with ``gather(_:into:)`` instead.
    public var inputs: Matrix<Scalar> {
        get {
            switch storedInputs {
            case .values(let matrix): return matrix
            case .pixels(_, let rows, _): return batch(rows: 0..<rows).inputs
            }
        }
        set { storedInputs = .values(newValue) }
    }

    public init(task: Task, storedInputs: StoredInputs, labels: [Int32], targets: Matrix<Scalar>,
                classCount: Int) {
        self.task = task
        self.storedInputs = storedInputs
        self.labels = labels
        self.targets = targets
        self.classCount = classCount
        if case .pixels(let bytes, let rows, let columns) = storedInputs {
            precondition(rows >= 0 && columns >= 0 && bytes.count == rows * columns, "Dataset: pixels are not [rows, columns]")
        }
        precondition(task == .regression || labels.count == count)
        precondition(task == .classification || targets.rows == count)
    }

    public init(task: Task, inputs: Matrix<Scalar>, labels: [Int32], targets: Matrix<Scalar>,
                classCount: Int) {
        self.init(task: task, storedInputs: .values(inputs), labels: labels, targets: targets,
                  classCount: classCount)
    }

    /// A classification set.
    public static func classification(inputs: Matrix<Scalar>, labels: [Int32], classCount: Int) -> Dataset {
        Dataset(task: .classification, inputs: inputs, labels: labels,
                targets: Matrix(rows: 0, columns: 0), classCount: classCount)
    }

    /// A classification set of images kept as bytes, `[rows, columns]` (`columns` pixels per
    /// image); the network sees `byte / 255`.
    public static func classification(pixels: [UInt8], rows: Int, columns: Int, labels: [Int32],
                                      classCount: Int) -> Dataset {
        Dataset(task: .classification, storedInputs: .pixels(pixels, rows: rows, columns: columns),
                labels: labels, targets: Matrix(rows: 0, columns: 0), classCount: classCount)
    }

    /// A regression set.
    public static func regression(inputs: Matrix<Scalar>, targets: Matrix<Scalar>) -> Dataset {
        Dataset(task: .regression, inputs: inputs, labels: [], targets: targets,
                classCount: targets.columns)
    }

    /// Number of samples `N`.
    @inlinable public var count: Int {
        switch storedInputs {
        case .values(let matrix): return matrix.rows
        case .pixels(_, let rows, _): return rows
        }
    }

    /// Number of input features.
    @inlinable public var featureCount: Int {
        switch storedInputs {
        case .values(let matrix): return matrix.columns
        case .pixels(_, _, let columns): return columns
        }
    }

    /// The first `limit` samples (`--train-limit`, `--test-limit`); all of them if `limit` is nil.
    public func prefix(_ limit: Int?) -> Dataset {
        guard let limit, limit < count else { return self }
        let n = max(0, limit)
        let width = featureCount
        let kept: StoredInputs
        switch storedInputs {
        case .values(let matrix):
            kept = .values(Matrix(rows: n, columns: width, storage: Array(matrix.storage.prefix(n * width))))
        case .pixels(let bytes, _, _):
            kept = .pixels(Array(bytes.prefix(n * width)), rows: n, columns: width)
        }
        return Dataset(
            task: task,
            storedInputs: kept,
            labels: Array(labels.prefix(n)),
            targets: task == .regression
                ? Matrix(rows: n, columns: targets.columns,
                         storage: Array(targets.storage.prefix(n * targets.columns)))
                : targets,
            classCount: classCount)
    }

    /// The same samples in another scalar type (for Double-precision gradient checks).
    /// (Pixels stay bytes, so they become `Other(byte) / 255`.)
    public func converted<Other: NeuralScalar>(to _: Other.Type = Other.self) -> Dataset<Other> {
        let stored: Dataset<Other>.StoredInputs
        switch storedInputs {
        case .values(let matrix): stored = .values(matrix.converted())
        case .pixels(let bytes, let rows, let columns): stored = .pixels(bytes, rows: rows, columns: columns)
        }
        return Dataset<Other>(task: task, storedInputs: stored, labels: labels,
                              targets: targets.converted(), classCount: classCount)
    }

    /// An empty batch buffer for up to `capacity` samples of this set.
    @inlinable public func makeBatch(capacity: Int) -> Batch<Scalar> {
        var batch = Batch<Scalar>(
            inputs: Matrix(rows: capacity, columns: featureCount),
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
        batch.withRows(indices.count, for: task) { rows in gatherRows(indices, into: rows) }
    }

    /// Copies the rows `indices` into `batch` from its row `first` on, without resizing it (the
    /// batch loader gathers a batch a few rows at a time this way).
    @inlinable func gather<Indices: Collection<Int>>(_ indices: Indices, into batch: inout Batch<Scalar>,
                                                     startingAt first: Int) {
        batch.withRows { rows in gatherRows(indices, into: rows.dropFirst(first)) }
    }

    /// Writes the rows `indices` (inputs, and their labels or targets) to `rows`, one after
    /// another: the one gather loop every batch goes through, whole or a few rows at a time.
    @inlinable func gatherRows<Indices: Collection<Int>>(_ indices: Indices, into rows: BatchRows<Scalar>) {
        precondition(indices.count <= rows.count, "gather: \(indices.count) rows into room for \(rows.count)")
        switch storedInputs {
        case .values(let matrix): copyRows(indices, from: matrix, to: rows.inputs)
        case .pixels(let bytes, _, let columns): scalePixelRows(indices, from: bytes, columns: columns, to: rows.inputs)
        }
        if task == .classification, let out = rows.labels {
            labels.withUnsafeBufferPointer { source in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && index < source.count, "gather: label \(index) of \(source.count)")
                    out[row] = source[index]
                }
            }
        } else if task == .regression {
            copyRows(indices, from: targets, to: rows.targets)
        }
    }

    /// Starts moving the rows `indices` into the CPU's caches and returns at once: with one
    /// thread, ``BatchLoader`` calls it for the next batch before a step runs, so the step's
    /// arithmetic hides the wait for memory and the next gather reads cached rows.
    /// Changes nothing; a prefetch is a hint the CPU may drop.
    @inlinable public func prefetch<Indices: Collection<Int>>(_ indices: Indices) {
        switch storedInputs {
        case .values(let matrix):
            matrix.storage.withUnsafeBytes { prefetchRows(indices, of: $0, rowBytes: matrix.columns * MemoryLayout<Scalar>.stride) }
        case .pixels(let bytes, _, let columns):
            bytes.withUnsafeBytes { prefetchRows(indices, of: $0, rowBytes: columns) }
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
    _ indices: Indices, from source: Matrix<Scalar>, to destination: UnsafeMutablePointer<Scalar>?
) {
    let width = source.columns
    guard width > 0, var out = destination else { return }
    source.storage.withUnsafeBufferPointer { src in
        for index in indices {
            precondition(index >= 0 && index < source.rows, "gather: row \(index) of \(source.rows)")
            out.update(from: src.baseAddress! + index * width, count: width)
            out += width
        }
    }
}

/// Prefetch hints for every 64-byte cache line of the rows `indices` of a row-major buffer.
@inlinable
func prefetchRows<Indices: Collection<Int>>(_ indices: Indices, of buffer: UnsafeRawBufferPointer, rowBytes: Int) {
    guard let base = buffer.baseAddress, rowBytes > 0 else { return }
    let rows = buffer.count / rowBytes
    for index in indices where index >= 0 && index < rows {       // a hint: a bad index is skipped
        let row = base + index * rowBytes
        for offset in stride(from: 0, to: rowBytes, by: 64) { neural_levels_prefetch(row + offset) }
        neural_levels_prefetch(row + (rowBytes - 1))          // the last line, when the row is not aligned
    }
}

/// Gathers rows of bytes as `Scalar(byte) / 255`: a division, not a multiplication by 1/255
/// (which rounds differently for some bytes), so the values are those of PyTorch's `ToTensor()`
/// and NumPy's `x / 255.0`. The loop vectorises (bytes → Float, then divide, 8–16 at a time).
@inlinable
func scalePixelRows<Scalar: NeuralScalar, Indices: Collection<Int>>(
    _ indices: Indices, from bytes: [UInt8], columns width: Int, to destination: UnsafeMutablePointer<Scalar>?
) {
    guard width > 0, var out = destination else { return }
    bytes.withUnsafeBufferPointer { src in
        guard let source = src.baseAddress else { return }
        let rows = src.count / width
        for index in indices {
            precondition(index >= 0 && index < rows, "gather: row \(index) of \(rows)")
            let row = source + index * width
            for j in 0..<width { out[j] = Scalar(row[j]) / 255 }
            out += width
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

    /// Sizes the batch for `rows` samples of a `task` set (keeping its buffers' capacity) and
    /// calls `body` with where they go. The buffers are made unique first, so writing there
    /// changes no other batch; the addresses are valid only inside `body`.
    @inlinable mutating func withRows(_ rows: Int, for task: Task, _ body: (BatchRows<Scalar>) -> Void) {
        resize(rows: rows, for: task)
        withRows(body)
    }

    /// Sizes the batch for `rows` samples of a `task` set, keeping its buffers' capacity.
    @inlinable mutating func resize(rows: Int, for task: Task) {
        inputs.resize(rows: rows)
        labels.removeAll(keepingCapacity: true)
        if task == .classification {
            labels.append(contentsOf: repeatElement(0, count: rows))
            targets.resize(rows: 0)
        } else {
            targets.resize(rows: rows)
        }
    }

    /// Calls `body` with where the batch's rows go, as it is sized now (see above).
    @inlinable mutating func withRows(_ body: (BatchRows<Scalar>) -> Void) {
        let (rows, inputWidth, targetWidth) = (count, inputs.columns, targets.columns)
        inputs.storage.withMutableElements { inputs in
            labels.withMutableElements { labels in
                targets.storage.withMutableElements { targets in
                    body(BatchRows(count: rows, inputWidth: inputWidth, targetWidth: targetWidth,
                                   inputs: inputs, labels: labels, targets: targets))
                }
            }
        }
    }
}

extension Array {
    /// `body` with the address of the elements, or nil when there are none. An empty array is
    /// not touched: it may be Swift's one shared empty storage, and a mutable access to it
    /// (as `withUnsafeMutableBufferPointer` makes) is a write that two threads gathering
    /// batches at once would race on (ThreadSanitizer reported it: a classifier's batch has
    /// no targets, a regressor's no labels).
    @inlinable mutating func withMutableElements<R>(_ body: (UnsafeMutablePointer<Element>?) -> R) -> R {
        isEmpty ? body(nil) : withUnsafeMutableBufferPointer { body($0.baseAddress) }
    }
}

/// Where the rows of a batch being gathered go, for the time of one ``Batch/withRows(_:for:_:)``:
/// `count` rows of inputs, and of labels or targets (nil when there are none).
@usableFromInline
struct BatchRows<Scalar: NeuralScalar> {
    @usableFromInline var count: Int
    @usableFromInline var inputWidth: Int
    @usableFromInline var targetWidth: Int
    @usableFromInline var inputs: UnsafeMutablePointer<Scalar>?
    @usableFromInline var labels: UnsafeMutablePointer<Int32>?
    @usableFromInline var targets: UnsafeMutablePointer<Scalar>?

    /// The rows after the first `n`.
    @inlinable func dropFirst(_ n: Int) -> BatchRows {
        BatchRows(count: count - n, inputWidth: inputWidth, targetWidth: targetWidth,
                  inputs: inputs.map { $0 + n * inputWidth }, labels: labels.map { $0 + n },
                  targets: targets.map { $0 + n * targetWidth })
    }

    @inlinable init(count: Int, inputWidth: Int, targetWidth: Int, inputs: UnsafeMutablePointer<Scalar>?,
                    labels: UnsafeMutablePointer<Int32>?, targets: UnsafeMutablePointer<Scalar>?) {
        (self.count, self.inputWidth, self.targetWidth) = (count, inputWidth, targetWidth)
        (self.inputs, self.labels, self.targets) = (inputs, labels, targets)
    }
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
    /// Skip each epoch's last, partial batch (PyTorch's `drop_last=True`). The shared recipe
    /// keeps it; `--mistake dropped-last-batch` shows what dropping it changes.
    public var dropLast: Bool

    public init(sampleCount: Int, batchSize: Int, shuffle: Bool, seed: UInt64, dropLast: Bool = false) {
        precondition(batchSize >= 1)
        self.sampleCount = sampleCount
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
    }

    /// Steps per epoch: ⌈N / batchSize⌉, or ⌊N / batchSize⌋ with ``dropLast``.
    @inlinable public var stepsPerEpoch: Int { dropLast ? sampleCount / batchSize : (sampleCount + batchSize - 1) / batchSize }

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
