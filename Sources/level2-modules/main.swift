// level2-modules — train the network with PyTorch-style modules and optimizers (Level 2).
//
//     swift run -c release level2-modules --epochs 3
//     swift run -c release level2-modules --task regression

import ArgumentParser
import Level2Modules
import Shared
import TrainingCLI

struct Level2ModulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "level2-modules",
        abstract: "Level 2: modules, a loss object and an optimizer, with the loop written by hand.")

    @OptionGroup var options: TrainingOptions

    func run() throws {
        try runSingleLevel(level: 2, style: "modules", title: "Level 2 — modules", options: options,
                           run: { try ModulesNetwork.run($0) })
    }
}

Level2ModulesCommand.mainWithOneLineErrors()
