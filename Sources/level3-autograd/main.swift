// level3-autograd — train the network with a tape-based autograd Tensor (Level 3).
//
// Teaches: nothing new by itself; the lesson is in the Level3Autograd target.
// Leaves out: everything but parsing the options and calling the level.
//
//     swift run -c release level3-autograd --epochs 3
//     swift run -c release level3-autograd --task regression

import ArgumentParser
import Level3Autograd
import Shared
import TrainingCLI

struct Level3AutogradCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "level3-autograd",
        abstract: "Level 3: tensors record a tape; loss.backward() computes the gradients.")

    @OptionGroup var options: TrainingOptions

    func run() throws {
        try runSingleLevel(number: 3, name: "Level 3 — autograd", options: options,
                           trainLevel: AutogradNetwork.train)
    }
}

Level3AutogradCommand.mainWithOneLineErrors()
