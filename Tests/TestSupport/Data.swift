// Data.swift — the data the test suites share: seeded random matrices, slices of the two tasks'
// data sets, and the raw bits of a result. Shared by every test target that compares numbers.
//
// Teaches: what "bit for bit" means in a test: the raw bits of every element are equal, not just
// close (`==` on floats would call −0.0 and +0.0 equal, and NaN unequal to itself).
// Leaves out: anything specific to one suite (fixtures live with their tests).

import Shared

/// A seeded random matrix with entries uniform in `range` (default `[−1, 1]`).
public func randomMatrix<T: NeuralScalar>(_ rows: Int, _ columns: Int, seed: UInt64,
                                          in range: ClosedRange<Double> = -1...1,
                                          as _: T.Type = T.self) -> Matrix<T> {
    var generator = SeededGenerator(seed: seed, stream: .custom(31))
    return Matrix(rows: rows, columns: columns, storage: (0..<(rows * columns)).map { _ in
        T(range.lowerBound + (range.upperBound - range.lowerBound) * generator.nextUnitInterval())
    })
}

/// The first `train` training and `test` test samples of the task's data: Fashion-MNIST from
/// its MNIST-format files (installed here and in CI: a missing file fails the test, it does not
/// skip it), or the synthetic regression set drawn with `regressionSeed`.
public func slice(_ task: Task, train: Int, test: Int,
                  regressionSeed: UInt64 = 42) throws -> (train: Dataset<Float>, test: Dataset<Float>) {
    switch task {
    case .classification:
        return try MNISTFiles.load(directory: MNISTFiles.defaultDirectory, trainLimit: train, testLimit: test)
    case .regression:
        return SyntheticRegression.make(seed: regressionSeed, trainCount: train, testCount: test, as: Float.self)
    }
}

/// One batch of the first `count` training samples of the task's data (regression: seed 3).
public func realBatch(_ task: Task, count: Int) throws -> Batch<Float> {
    try slice(task, train: count, test: 1, regressionSeed: 3).train.batch(rows: 0..<count)
}

/// The raw bits of every element.
public func bits(_ matrix: Matrix<Float>) -> [UInt32] { matrix.storage.map(\.bitPattern) }

/// The raw bits of every element of every tensor, in checkpoint order.
public func bits(_ parameters: NetworkParameters<Float>) -> [[UInt32]] {
    parameters.namedTensors.map { bits($0.matrix) }
}
