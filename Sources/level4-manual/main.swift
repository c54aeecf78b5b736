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
        try runSingleLevel(level: 4, style: "manual", title: "Level 4 — the chain rule by hand", options: options,
                           run: { try ManualNetwork.run($0) })
    }
}

Level4ManualCommand.mainWithOneLineErrors()
