// Regression.swift — the synthetic regression set: three inputs, one non-linear output.
//
// Teaches: a data set you can reason about. The function is known, so a good fit is visible
// (R² near 1) and so are its residuals (Reports/regression-4d.png).
// Leaves out: reading regression data from files.

import RealModule

/// The synthetic regression task.
///
/// Inputs `x = (x₁, x₂, x₃)`, each uniform on [−1, 1]; target
///
///     y = sin(π·x₁)·x₂ + x₃² + ε,   ε ~ N(0, 0.05²)
///
/// (the function the comparison scripts of `References/` fit as well, plus a little noise so
/// that R² stays honest). Samples come from ``SeededGenerator`` stream `.regressionData`: the training samples
/// first, then the test samples, so the split is fixed by the seed.
public enum SyntheticRegression {
    /// Standard deviation of the noise ε.
    public static let noise = 0.05
    /// Default sizes of the two splits.
    public static let defaultTrainCount = 60_000
    public static let defaultTestCount = 10_000

    /// The noise-free function `f(x) = sin(π·x₁)·x₂ + x₃²`.
    @inlinable
    public static func function(_ x1: Double, _ x2: Double, _ x3: Double) -> Double {
        Double.sin(Double.pi * x1) * x2 + x3 * x3
    }

    /// The training and test splits for `seed`.
    public static func make<Scalar: NeuralScalar>(
        seed: UInt64, trainCount: Int = defaultTrainCount, testCount: Int = defaultTestCount,
        as _: Scalar.Type = Float.self
    ) -> (train: Dataset<Scalar>, test: Dataset<Scalar>) {
        var generator = SeededGenerator(seed: seed, stream: .regressionData)
        func split(_ n: Int) -> Dataset<Scalar> {
            var inputs = Matrix<Scalar>(rows: n, columns: 3)
            var targets = Matrix<Scalar>(rows: n, columns: 1)
            for i in 0..<n {
                let x = (0..<3).map { _ in 2 * generator.nextUnitInterval() - 1 }
                let epsilon = noise * generator.nextNormalPair().0
                for j in 0..<3 { inputs[i, j] = Scalar(x[j]) }
                targets[i, 0] = Scalar(function(x[0], x[1], x[2]) + epsilon)
            }
            return .regression(inputs: inputs, targets: targets)
        }
        let train = split(trainCount)
        return (train, split(testCount))
    }
}
