// level4-manual — train the network with the hand-written chain rule (Level 4).
//
//     swift run -c release level4-manual --epochs 3
//     swift run -c release level4-manual --task regression

import ArgumentParser
import Level4Manual
import Shared
import TrainingCLI

struct Level4ManualCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "level4-manual",
        abstract: "Level 4: forward and backward written out by hand with the chain rule.")

    @OptionGroup var options: TrainingOptions

    func run() throws {
        try runSingleLevel(number: 4, name: "Level 4 — manual backprop", options: options,
                           trainLevel: ManualNetwork.train)
    }
}

Level4ManualCommand.mainWithOneLineErrors()
