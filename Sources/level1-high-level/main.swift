// level1-high-level — train the network with a high-level API (Level 1): Keras's `fit`, the
// Keras functional API, or a Lightning-style `Trainer`.
//
//     swift run -c release level1-high-level --epochs 3
//     swift run -c release level1-high-level --task regression
//     swift run -c release level1-high-level --style keras-functional
//     swift run -c release level1-high-level --style lightning

import ArgumentParser
import Level1HighLevel
import Shared
import TrainingCLI

/// The styles of Level 1 (compare-levels' ids).
enum Style: String, CaseIterable, ExpressibleByArgument {
    /// `Sequential` + `compile` + `fit`.
    case keras
    /// `Input` → layers → `Model(inputs:outputs:)` + `compile` + `fit`.
    case kerasFunctional = "keras-functional"
    /// A `LightningModule` run by `Trainer.fit`.
    case lightning

    var title: String {
        switch self {
        case .keras: return "Level 1 — Keras Sequential, compile, fit"
        case .kerasFunctional: return "Level 1 — Keras functional API, compile, fit"
        case .lightning: return "Level 1 — Lightning module, Trainer.fit"
        }
    }

    var run: (TrainingJob) throws -> TrainedLevel {
        switch self {
        case .keras: return { try KerasNetwork.run($0) }
        case .kerasFunctional: return { try KerasFunctionalNetwork.run($0) }
        case .lightning: return { try LightningNetwork.run($0) }
        }
    }
}

struct Level1HighLevelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "level1-high-level",
        abstract: "Level 1: describe the model, compile it, fit it (Keras), or hand it to a Trainer (Lightning).")

    @OptionGroup var options: TrainingOptions

    @Option(help: "keras (Sequential + fit), keras-functional (Input → Model + fit) or lightning (Trainer.fit).")
    var style: Style = .keras

    func run() throws {
        try runSingleLevel(level: 1, style: style.rawValue, title: style.title, options: options, run: style.run)
    }
}

Level1HighLevelCommand.mainWithOneLineErrors()
