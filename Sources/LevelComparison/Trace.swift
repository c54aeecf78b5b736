// Trace.swift — compare-levels --trace: the kernel calls of one training step, style by style.
//
// Teaches: the punchline of the whole project in one screen. `fit`, `optimizer.step()`,
// `loss.backward()` and the hand-written backward pass all come down to the same list of
// kernel calls, with the same shapes, in the same order.
// Leaves out: timing (one step is too short to time meaningfully).

import Shared
import TrainingCLI

extension Comparison {
    /// The kernel calls of each style's first training step.
    public static func traceFirstStep(_ experiment: Experiment, styles: [Style]) throws -> [(Style, [KernelTrace.Call])] {
        var recipe = experiment.options.recipe
        recipe.epochs = 1
        return try styles.map { style in
            let job = TrainingJob(style: style.id, train: experiment.train, test: experiment.test,
                                  initialParameters: experiment.initialParameters, recipe: recipe,
                                  shouldStop: { true })              // stop after the first step
            let (_, calls) = try KernelTrace.recording { try style.run(job) }
            return (style, calls)
        }
    }

    /// The calls side by side, one column per style, with a verdict underneath.
    public static func traceText(_ traces: [(Style, [KernelTrace.Call])]) -> String {
        let width = max(28, traces.flatMap { $0.1.map(\.description.count) }.max() ?? 0) + 2
        func cell(_ text: String) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        var lines = ["   " + traces.map { cell($0.0.label) }.joined()]
        let rows = traces.map(\.1.count).max() ?? 0
        for row in 0..<rows {
            let cells = traces.map { row < $0.1.count ? $0.1[row].description : "" }
            let same = Set(cells).count == 1
            lines.append((same ? "   " : " ≠ ") + cells.map(cell).joined())
        }
        let identical = Set(traces.map { $0.1.map(\.description) }).count <= 1
        lines.append("")
        lines.append(identical
            ? "All \(traces.count) styles made the same \(rows) kernel calls, with the same shapes, in the same order."
            : "The styles' kernel calls differ where marked ≠.")
        return lines.joined(separator: "\n")
    }
}
