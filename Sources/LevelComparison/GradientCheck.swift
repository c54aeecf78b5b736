// GradientCheck.swift — gradcheck: every style's gradient against central finite differences.
//
// Teaches: how to know that a backward pass is right without trusting it. Nudge one weight by
// ±h and ±2h, run the forward pass four times, and
// `(8·(ℓ(w + h) − ℓ(w − h)) − (ℓ(w + 2h) − ℓ(w − 2h))) / 12h` is the slope the gradient must
// have, to about 1e-12 in Double. Doing that for every weight of a small network checks a
// backward pass element by element, whoever wrote it: a person (Level 4), a tape (Level 3), the
// compiler (differentiable) or a framework's `fit` (Level 1). A wrong derivative shows up as an
// error of 1e-2 or more, not 1e-9, and the table says in which tensor: the layer where the mistake is
// and every layer below it, never those above.
//
// The reference is Level 4's forward pass in Double (ManualNetwork.forward), the same for every
// style, so the eight tables are comparable and the numbers come from code that has no backward
// pass in it: a tape, a pullback or a hand-written backward cannot agree with it by sharing a
// mistake. PyTorch's `torch.autograd.gradcheck` differentiates the function's own forward
// instead; here each style's forward is held to Level 4's through the loss it returns (the
// `loss` line of the table), so a style whose forward differed would fail too.
// Leaves out: Float (finite differences need Double: in Float, ε/h alone is 1e-4), second
// derivatives, and the large network (four forward passes per weight: 437,544 passes for
// 784-128-64-10, where the small network needs 116).
//
// Shape legend: B batch · I inputs · H1, H2 hidden widths · O outputs

import Foundation
import Level4Manual
import Shared

// MARK: - The check

/// Central finite differences of the loss against a style's gradient, tensor by tensor.
public enum GradientCheck {
    /// The step `h` of the central differences. The slope is the five-point (fourth-order)
    /// formula `(8·(ℓ(w + h) − ℓ(w − h)) − (ℓ(w + 2h) − ℓ(w − 2h))) / 12h`, whose error is about
    /// `h⁴·|ℓ⁽⁵⁾|/30 + 1.5·δ/h`, where δ, the rounding error of one forward loss, is a few ε·|ℓ|
    /// (ε = 2.2e-16; up to 5ε·|ℓ| measured on 256 samples). With h = 1e-3 the rounding part is
    /// about 1e-12·|ℓ| and the truncation part smaller. The two-point `(ℓ(w + h) − ℓ(w − h)) / 2h`
    /// cannot get there: its error `h²·|ℓ‴|/6 + δ/h` is some 1e-10·|ℓ| at its best h (about
    /// 1e-5), which for a regression loss of 4 and a gradient below the floor is 1e-6 relative or
    /// more (`--task regression --hidden 32,32 --seed 123456 --samples 256`: 3.6e-10 absolute,
    /// 3.6e-6 relative), failing right gradients.
    public static let step = 1e-3
    /// Below this size, gradients are compared absolutely: the differences' own error of about
    /// 1e-12·|ℓ| is nothing for a gradient of 0.1, but would be a large *relative* error for a
    /// gradient of 1e-6 (the classifier's first layer has some). With 1e-4, an element passes
    /// when it is within 1e-10 absolutely or 1e-6 relatively, ten times the differences' error
    /// even for a loss of 10.
    public static let floor = 1e-4
    /// Every element's error must be at most this.
    public static let tolerance = 1e-6

    /// How the check is defined, in one line, for the top of a report: the reference, the
    /// formula and `h`, the error and the tolerance.
    public static var definition: String {
        "each gradient against central differences of Level 4's forward loss, in Double (five-point, "
            + "h = \(scientific(step))); "
            + "error = |analytic − numeric| / max(|analytic|, |numeric|, \(scientific(floor))); "
            + "pass: every error ≤ \(scientific(tolerance))"
    }

    /// The error of one element: `|analytic − numeric| / max(|analytic|, |numeric|, floor)`.
    public static func relativeError(_ analytic: Double, _ numeric: Double) -> Double {
        abs(analytic - numeric) / max(abs(analytic), abs(numeric), floor)
    }

    /// The reference loss: Level 4's forward pass (ManualNetwork.forward) in Double.
    public static func loss(at parameters: NetworkParameters<Double>, on batch: Batch<Double>) -> Double {
        var network = ManualNetwork(parameters: parameters, learningRate: 0)
        return network.forward(batch)
    }

    /// `∂ℓ/∂w` for every element of every tensor by central differences of ``loss(at:on:)``:
    /// `(8·(ℓ(w + h·eᵢ) − ℓ(w − h·eᵢ)) − (ℓ(w + 2h·eᵢ) − ℓ(w − 2h·eᵢ))) / 12h`, four forward
    /// passes per element (``step`` says why not two).
    public static func numericGradients(at parameters: NetworkParameters<Double>,
                                        on batch: Batch<Double>) -> NetworkParameters<Double> {
        var gradients = parameters
        for keyPath in tensorKeyPaths {
            for index in parameters[keyPath: keyPath].storage.indices {
                func nudged(_ offset: Double) -> Double {                   // ℓ(w + offset·eᵢ)
                    var moved = parameters
                    moved[keyPath: keyPath].storage[index] += offset
                    return loss(at: moved, on: batch)
                }
                let near = nudged(step) - nudged(-step)                    // ℓ(w + h) − ℓ(w − h)
                let far = nudged(2 * step) - nudged(-2 * step)             // ℓ(w + 2h) − ℓ(w − 2h)
                gradients[keyPath: keyPath].storage[index] = (8 * near - far) / (12 * step)
            }
        }
        return gradients
    }

    /// The six tensors in checkpoint order (the order of `NetworkParameters.namedTensors`).
    static var tensorKeyPaths: [WritableKeyPath<NetworkParameters<Double>, Matrix<Double>>] {
        [\.fc1.weight, \.fc1.bias, \.fc2.weight, \.fc2.bias, \.fc3.weight, \.fc3.bias]
    }

    /// Checks `gradients` (a style's, or a deliberately broken one) at `parameters` on `batch`:
    /// its loss against the reference loss, and every element of every tensor against the
    /// central differences.
    ///
    /// - Parameters:
    ///   - gradients: the loss and gradients to check, in Double.
    ///   - label: names what was checked in the report, e.g. "Level 4 · manual".
    ///   - parameters: the weights to check them at.
    ///   - batch: the samples the loss averages over.
    /// - Throws: whatever `gradients` throws.
    public static func check(_ gradients: GradientFunction, label: String, parameters: NetworkParameters<Double>,
                             batch: Batch<Double>) throws -> GradientCheckReport {
        let (styleLoss, analytic) = try gradients(parameters, batch)
        let numeric = numericGradients(at: parameters, on: batch)
        let referenceLoss = loss(at: parameters, on: batch)
        var rows: [GradientCheckReport.Row] = []
        for ((name, a), (_, n)) in zip(analytic.namedTensors, numeric.namedTensors) {
            var row = GradientCheckReport.Row(tensor: name, shape: n.shape, maxError: 0, worstRow: 0, worstColumn: 0,
                                              analytic: .nan, numeric: .nan)
            guard a.shape == n.shape else {            // a gradient of the wrong shape fails outright
                row.maxError = .infinity
                rows.append(row)
                continue
            }
            for index in n.storage.indices {
                let error = relativeError(a.storage[index], n.storage[index])
                if index == 0 || error > row.maxError || (error.isNaN && !row.maxError.isNaN) {   // NaN is the worst
                    (row.maxError, row.worstRow, row.worstColumn) = (error, index / n.columns, index % n.columns)
                    (row.analytic, row.numeric) = (a.storage[index], n.storage[index])
                }
            }
            rows.append(row)
        }
        return GradientCheckReport(label: label, shape: parameters.shape, samples: batch.count, loss: styleLoss,
                                   referenceLoss: referenceLoss, rows: rows)
    }
}

// MARK: - The report

/// What ``GradientCheck/check(_:label:parameters:batch:)`` found: per tensor, the largest error
/// and where it is.
public struct GradientCheckReport: Sendable {
    /// One tensor's line of the table.
    public struct Row: Sendable {
        /// `fc1.weight`, `fc1.bias`, ….
        public var tensor: String
        /// `[rows, columns]`.
        public var shape: [Int]
        /// The largest ``GradientCheck/relativeError(_:_:)`` over the tensor's elements.
        public var maxError: Double
        /// Where it is, and the two values there.
        public var worstRow, worstColumn: Int
        public var analytic, numeric: Double

        /// Whether every element is within ``GradientCheck/tolerance`` (NaN is not).
        public var passes: Bool { maxError <= GradientCheck.tolerance }
    }

    /// What was checked, e.g. "Level 4 · manual".
    public var label: String
    public var shape: NetworkShape
    public var samples: Int
    /// The loss the style returned with its gradient, and Level 4's forward loss.
    public var loss, referenceLoss: Double
    public var rows: [Row]

    /// `|ℓ_style − ℓ_reference| / max(|ℓ_reference|, floor)`.
    public var lossError: Double { abs(loss - referenceLoss) / max(abs(referenceLoss), GradientCheck.floor) }

    /// Whether the loss and every tensor are within the tolerance.
    public var passes: Bool { lossError <= GradientCheck.tolerance && rows.allSatisfy(\.passes) }

    /// The tensors whose gradients are off, in checkpoint order.
    public var failingTensors: [String] { rows.filter { !$0.passes }.map(\.tensor) }

    /// The table: the loss line, then tensor, shape, max relative error, worst element (where,
    /// analytic, numeric), then the verdict.
    public var text: String {
        func cell(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        var lines = ["\(label): \(shape.task.rawValue), \(shape.sizes.map(String.init).joined(separator: " → ")), "
                     + "batch of \(samples)"]
        lines.append("  loss \(number(loss)) (Level 4's forward: \(number(referenceLoss)), relative difference "
                     + "\(error(lossError)))")
        lines.append("  " + cell("tensor", 12) + cell("shape", 9) + cell("max rel. error", 16) + cell("worst element", 15)
                     + cell("analytic", 21) + "numeric")
        for row in rows {
            let shapeText = "[\(row.shape.map(String.init).joined(separator: ", "))]"
            lines.append("  " + cell(row.tensor, 12) + cell(shapeText, 9) + cell(error(row.maxError) + (row.passes ? "" : " ✗"), 16)
                         + cell("[\(row.worstRow), \(row.worstColumn)]", 15) + cell(number(row.analytic), 21) + number(row.numeric))
        }
        let worst = rows.map(\.maxError).max() ?? 0
        if passes {
            lines.append("  pass: every error ≤ \(error(GradientCheck.tolerance)) (largest \(error(worst)))")
        } else if lossError > GradientCheck.tolerance || lossError.isNaN {
            lines.append("  FAIL: the loss differs from Level 4's forward pass"
                         + (failingTensors.isEmpty ? "" : "; gradients off in " + failingTensors.joined(separator: ", ")))
        } else {
            lines.append("  FAIL: gradients off in " + failingTensors.joined(separator: ", ")
                         + " (errors above \(error(GradientCheck.tolerance)))")
        }
        return lines.joined(separator: "\n")
    }

    private func error(_ value: Double) -> String { scientific(value) }
    /// Twelve significant digits, signed.
    private func number(_ value: Double) -> String { String(format: "%+.12g", value) }
}

/// `1.2e-10`, `1e-6`, `2.0`: two significant digits (one for an exact power of ten); `0` for zero.
func scientific(_ value: Double) -> String {
    guard value.isFinite, value != 0 else { return value == 0 ? "0" : "\(value)" }
    let parts = String(format: "%.1e", value).split(separator: "e")
    guard parts.count == 2, let exponent = Int(parts[1]) else { return "\(value)" }
    let exact = Double(String(format: "%.0e", value)) == value                  // 1e-6, not 1.0e-6
    let mantissa = exact && parts[0].hasSuffix("1.0") ? String(parts[0].dropLast(2)) : String(parts[0])
    return exponent == 0 ? mantissa : "\(mantissa)e\(exponent)"
}

// MARK: - The network and batch it checks

/// The small network and batch gradcheck uses: `--explain`'s (4 → 3 → 2 → 2 or 3 → 3 → 2 → 1,
/// inputs on a grid of 0.25), with as many samples and such hidden widths as asked, in Double.
public struct GradientCheckSetup: Sendable {
    public var task: Task
    public var hidden: [Int]
    public var samples: Int
    public var seed: UInt64

    public init(task: Task, hidden: [Int] = [3, 2], samples: Int = 4, seed: UInt64 = 42) {
        (self.task, self.hidden, self.samples, self.seed) = (task, hidden, samples, seed)
    }

    /// The shared Glorot-normal initial weights of the small network, drawn in Double.
    public var parameters: NetworkParameters<Double> {
        .glorotNormal(shape: Explanation.shape(for: task, hidden: hidden), seed: seed)
    }

    /// The batch: ``Explanation/batch(for:seed:count:)``'s samples, in Double (the inputs are
    /// exact; the regression targets are the Float values).
    public var batch: Batch<Double> {
        Explanation.batch(for: task, seed: seed, count: samples).converted(to: Double.self).batch(rows: 0..<samples)
    }

    /// Checks `gradients` on this network and batch.
    public func check(_ gradients: GradientFunction, label: String) throws -> GradientCheckReport {
        try GradientCheck.check(gradients, label: label, parameters: parameters, batch: batch)
    }

    /// Checks `style`'s own gradient.
    public func check(_ style: Style) throws -> GradientCheckReport {
        try check(style.gradients, label: style.label)
    }
}

// MARK: - Backward passes broken on purpose

/// A classic mistake in a hand-written backward pass: Level 4's backward with one line wrong,
/// to see what gradcheck says about it (`gradcheck --mistake`).
public struct BrokenBackward: Sendable {
    public var id: String
    /// What is wrong, in one line.
    public var summary: String
    /// Level 4's gradient with the mistake in it.
    public var gradients: GradientFunction
}

extension BrokenBackward {
    public static let all: [BrokenBackward] = [
        BrokenBackward(id: "tanh-derivative-of-z",
                       summary: "the tanh backward takes 1 − z1² (z1 before the activation) instead of 1 − a1²",
                       gradients: { manualGradients($0, $1, derivativeOfZ: .tanh) }),
        BrokenBackward(id: "sigmoid-derivative-of-z",
                       summary: "the sigmoid backward takes z2(1 − z2) (z2 before the activation) instead of a2(1 − a2)",
                       gradients: { manualGradients($0, $1, derivativeOfZ: .sigmoid) }),
    ]

    /// The mistake called `id`, if there is one.
    public static func named(_ id: String) -> BrokenBackward? { all.first { $0.id == id } }

    /// `gradcheck --mistake list`: every mistake, one line each.
    public static var listText: String {
        all.map { "\($0.id): \($0.summary)" }.joined(separator: "\n")
    }

    /// Level 4's gradients with one activation's derivative taken from `z` (``SlippedBackward``).
    static func manualGradients(_ parameters: NetworkParameters<Double>, _ batch: Batch<Double>,
                                derivativeOfZ slip: SlippedBackward.Derivative) -> (loss: Double, gradients: NetworkParameters<Double>) {
        var network = ManualNetwork(parameters: parameters, learningRate: 0)
        let loss = network.forward(batch)
        _ = SlippedBackward.backward(&network, batch, derivativeOfZ: slip)
        return (loss, network.gradients)
    }
}
