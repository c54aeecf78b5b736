// gradcheck — every style's gradient against central finite differences, in Double.
//
//     swift run -c release gradcheck                              # manual, classification
//     swift run -c release gradcheck --style all --task regression
//     swift run -c release gradcheck --style keras --hidden 5,4 --samples 8
//     swift run -c release gradcheck --mistake tanh-derivative-of-z   # a broken backward: exit 1
//
// Exits 0 when every error is within 1e-6, 1 when one is not, 64 for a bad option.

import ArgumentParser
import Foundation
import LevelComparison
import Shared
import TrainingCLI

struct GradientCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check a style's gradient of every tensor against central finite differences of the loss, in Double, "
            + "on a small network and batch.",
        discussion: "Checks " + GradientCheck.definition + ", and the style's loss against the reference loss as well. "
            + "Exit 0 when everything passes, 1 when something does not, 64 for a bad option.")

    @Option(help: ArgumentHelp("The style to check, or all.", discussion: "Styles: "
        + Style.all.map(\.id).joined(separator: ", ") + " (default manual).", valueName: "id"))
    var style: String?

    @Option(help: "classification (softmax head, cross-entropy) or regression (identity head, squared error).")
    var task: Task = .classification

    @Option(parsing: .unconditional, help: ArgumentHelp("Hidden layer widths, each 1–\(Self.maximumWidth).",
                                                        valueName: "a,b"))
    var hidden: String = "3,2"

    @Option(parsing: .unconditional, help: "Samples in the batch (1–\(Self.maximumSamples)).")
    var samples: Int = 4

    @Option(parsing: .unconditional, help: "Seed for the initial weights and the batch.")
    var seed: UInt64 = 42

    @Option(help: ArgumentHelp("Check Level 4's backward with a classic mistake in it instead of a style's; "
        + "'list' lists them.", valueName: "name"))
    var mistake: String?

    /// Two forward passes per weight: wider layers only take longer to say the same thing.
    static let maximumWidth = 32
    static let maximumSamples = 256

    /// The styles `--style` names.
    var styles: [Style] {
        get throws {
            let id = style ?? "manual"
            if id == "all" { return Style.all }
            guard let named = Style.named(id) else {
                throw ValidationError("--style: no style '\(id)' (all, " + Style.all.map(\.id).joined(separator: ", ") + ")")
            }
            return [named]
        }
    }

    func validate() throws {
        _ = try styles
        _ = try TrainingOptions.hiddenWidths(hidden, maximum: Self.maximumWidth)
        guard (1...Self.maximumSamples).contains(samples) else {
            throw ValidationError("--samples must be between 1 and \(Self.maximumSamples), got \(samples)")
        }
        if let mistake, mistake != "list" {
            guard BrokenBackward.named(mistake) != nil else {
                throw ValidationError("--mistake: no mistake '\(mistake)' (see --mistake list): "
                                      + BrokenBackward.all.map(\.id).joined(separator: ", "))
            }
            if let style, style != "manual" {
                throw ValidationError("--mistake breaks manual's backward pass; not with --style \(style)")
            }
        }
    }

    func run() throws {
        if mistake == "list" {
            print(BrokenBackward.listText)
            return
        }
        let setup = GradientCheckSetup(task: task, hidden: try TrainingOptions.hiddenWidths(hidden, maximum: Self.maximumWidth),
                                       samples: samples, seed: seed)
        print("gradcheck: " + GradientCheck.definition + "; seed \(seed)\n")
        var reports: [GradientCheckReport] = []
        if let mistake = mistake.flatMap(BrokenBackward.named) {
            reports.append(try setup.check(mistake.gradients, label: "Level 4 · manual, with the mistake \(mistake.id)"))
            print(reports[0].text)
            print("  (\(mistake.summary))")
        } else {
            for style in try styles {
                let report = try setup.check(style)
                print(report.text + "\n")
                reports.append(report)
            }
        }
        let failed = reports.filter { !$0.passes }
        if reports.count > 1 {
            print(failed.isEmpty ? "All \(reports.count) styles pass."
                  : "\(failed.count) of \(reports.count) styles fail: " + failed.map(\.label).joined(separator: ", ") + ".")
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }
}

GradientCheckCommand.mainWithOneLineErrors()
