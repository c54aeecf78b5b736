// Metrics.swift — how good is the network? Accuracy for classes, R² for real values.
//
// Teaches: the loss is what training minimises; a metric is what a person reads. Both are
// computed from the same network outputs.
// Leaves out: per-class precision/recall and confusion matrices.

/// The index of the largest value in each row (the predicted class). Ties go to the first.
///
/// Shapes: `scores: [B, C]` → `B` indices.
@inlinable
@_specialize(where T == Float)
public func argmaxRows<T: NeuralScalar>(_ scores: Matrix<T>) -> [Int] {
    var result = [Int](repeating: 0, count: scores.rows)
    for i in 0..<scores.rows {
        var best = 0
        for j in 1..<max(1, scores.columns) where scores[i, j] > scores[i, best] { best = j }
        result[i] = best
    }
    return result
}

/// The number of rows whose argmax equals the label.
@inlinable
@_specialize(where T == Float)
public func correctPredictions<T: NeuralScalar>(_ scores: Matrix<T>, labels: [Int32]) -> Int {
    precondition(labels.count == scores.rows, "correctPredictions: one label per row")
    return zip(argmaxRows(scores), labels).reduce(0) { $0 + ($1.0 == Int($1.1) ? 1 : 0) }
}

/// Running sums for R² over a test set walked in chunks:
/// `R² = 1 − SS_res / SS_tot`, `SS_res = Σ (y − ŷ)²`, `SS_tot = Σ (y − ȳ)²`
/// (summed in Double; `SS_tot` from `Σy` and `Σy²`).
public struct RSquaredAccumulator: Sendable {
    public private(set) var count = 0
    var sumResidualSquares = 0.0
    var sumTargets = 0.0
    var sumTargetSquares = 0.0

    public init() {}

    /// Adds a chunk. Shapes: `predictions, targets: [B, n]`.
    public mutating func add<T: NeuralScalar>(predictions: Matrix<T>, targets: Matrix<T>) {
        precondition(predictions.shape == targets.shape, "R²: shapes differ")
        for i in 0..<targets.count {
            let y = Double(targets.storage[i])
            let residual = y - Double(predictions.storage[i])
            sumResidualSquares += residual * residual
            sumTargets += y
            sumTargetSquares += y * y
        }
        count += targets.count
    }

    /// Mean squared error so far.
    public var meanSquaredError: Double { count == 0 ? .nan : sumResidualSquares / Double(count) }

    /// R² so far (1 is a perfect fit, 0 is no better than predicting the mean).
    public var value: Double {
        guard count > 0 else { return .nan }
        let mean = sumTargets / Double(count)
        let total = sumTargetSquares - Double(count) * mean * mean
        return 1 - sumResidualSquares / total
    }
}
