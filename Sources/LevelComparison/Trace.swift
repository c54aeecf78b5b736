// Trace.swift — compare-levels --trace: the kernel calls of one training step, and where each
// style's code made them.
//
// Teaches: the punchline of the whole project in one screen. `fit`, `optimizer.step()`,
// `loss.backward()` and the hand-written backward pass all come down to the same list of
// kernel calls, with the same shapes, in the same order; only the road to each call differs.
// Every call is printed once, and under it, for each style, the construct that made it:
//
//      12  gemm Aᵀ[64,64]·B[64,128]
//            keras, keras-functional  model.fit → loss.backward(): matmul's backward
//            …
//            manual                   ManualNetwork.swift:55 linearBackward
//
// Rows are compared on kernel and shapes only (the arithmetic); a row where the styles' calls
// differ is marked ≠ and shows each style's call.
// Leaves out: timing (one step is too short to time meaningfully).

import Shared
import TrainingCLI

extension Comparison {
    /// The kernel calls of each style's first training step, each with its origin.
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

    /// Every call once, with each style's origin under it (styles with the same origin on one
    /// line), then a verdict.
    public static func traceText(_ traces: [(Style, [KernelTrace.Call])]) -> String {
        let rows = traces.map(\.1.count).max() ?? 0
        let numberWidth = String(rows).count
        // One block per row: the call (or ≠), then (names, origin) lines.
        var blocks: [(head: String, lines: [(names: String, text: String)])] = []
        for row in 0..<rows {
            let calls = traces.map { row < $0.1.count ? $0.1[row] : nil }
            let number = String(row + 1).leftPadded(to: numberWidth)
            if let first = calls[0], calls.allSatisfy({ $0?.description == first.description }) {
                var groups: [(names: [String], origin: String)] = []
                for (style, call) in zip(traces.map(\.0), calls) {
                    let origin = call?.origin ?? ""
                    if let index = groups.firstIndex(where: { $0.origin == origin }) {
                        groups[index].names.append(style.id)
                    } else {
                        groups.append(([style.id], origin))
                    }
                }
                blocks.append(("   \(number)  \(first.description)",
                               groups.map { ($0.names.joined(separator: ", "), $0.origin) }))
            } else {
                blocks.append((" ≠ \(number)  the styles' calls differ",
                               zip(traces.map(\.0), calls).map { style, call in
                                   (style.id, call.map { "\($0.description)   ← \($0.origin)" } ?? "(no call)")
                               }))
            }
        }
        let nameWidth = blocks.flatMap { $0.lines.map(\.names.count) }.max() ?? 0
        let indent = String(repeating: " ", count: numberWidth + 7)
        let levels = Dictionary(grouping: traces.map(\.0), by: \.level).sorted { $0.key < $1.key }
            .map { "Level \($0.key): " + $0.value.map(\.id).joined(separator: ", ") }
        var lines = ["The kernel calls of one training step; under each, the code of each style that made it",
                     "(" + levels.joined(separator: " · ") + ")."]
        for block in blocks {
            lines.append("")
            lines.append(block.head)
            for line in block.lines {
                lines.append(indent + line.names.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                             + "  " + line.text)
            }
        }
        let identical = Set(traces.map { $0.1.map(\.description) }).count <= 1
        lines.append("")
        lines.append(traces.count == 1 ? "\(traces[0].0.label) made \(rows) kernel calls; nothing to compare them with."
            : identical ? "All \(traces.count) styles made the same \(rows) kernel calls, with the same shapes, in the same order."
            : "The styles' kernel calls differ where marked ≠.")
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// The string with spaces in front, to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}
