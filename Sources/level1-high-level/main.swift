// level1-high-level — train the network with compile/fit (Level 1), Keras or Lightning style.
//
//     swift run -c release level1-high-level --epochs 3
//     swift run -c release level1-high-level --task regression
//     swift run -c release level1-high-level --style lightning

import ArgumentParser
import Level1HighLevel
import Shared
import TrainingCLI

/// Which of the two high-level styles trains the network.
enum Style: String, CaseIterable, ExpressibleByArgument {
    /// `Sequential` + `compile` + the shared loop over `trainStep(on:)`, the step `fit` takes.
    case keras
    /// A `TrainingModule` run by a `Trainer`.
    case lightning
}

struct Level1HighLevelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "level1-high-level",
        abstract: "Level 1: describe the model, compile it, fit it (Keras), or hand it to a Trainer (Lightning).")

    @OptionGroup var options: TrainingOptions

    @Option(help: "keras (Sequential + compile + fit) or lightning (TrainingModule + Trainer).")
    var style: Style = .keras

    func run() throws {
        switch style {
        case .keras:
            try runSingleLevel(number: 1, name: "Level 1 — compile/fit", options: options,
                               trainLevel: KerasNetwork.train)
        case .lightning:
            try runSingleLevel(number: 1, name: "Level 1 — compile/fit (Lightning-style Trainer)", options: options,
                               trainLevel: LightningNetwork.train)
        }
    }
}

Level1HighLevelCommand.mainWithOneLineErrors()
