// Levels.swift — the four levels, as the runner knows them.
//
// Teaches: that every level is, to the runner, the same thing: a function from a training job
// (shared data, shared initial weights, shared recipe) to a history and final weights.
// Leaves out: how each level trains (each level's own module).

import Level1HighLevel
import Level2Modules
import Level3Autograd
import Level4Manual
import Shared

/// One level of the stack.
public struct Level: Sendable, Identifiable {
    /// 1 (highest abstraction) to 4 (the chain rule by hand).
    public var id: Int
    /// Short name: "fit", "modules", "autograd", "manual".
    public var name: String
    /// What it imitates.
    public var style: String
    /// Trains this level on a job.
    public var train: @Sendable (TrainingJob) throws -> TrainedLevel

    /// "Level 4 · manual".
    public var label: String { "Level \(id) · \(name)" }
}

extension Level {
    /// Every level, highest abstraction first.
    public static let all: [Level] = [
        Level(id: 1, name: "fit", style: "Keras compile/fit", train: { try KerasNetwork.train($0) }),
        Level(id: 2, name: "modules", style: "torch.nn + torch.optim", train: { try ModulesTrainer.train($0) }),
        Level(id: 3, name: "autograd", style: "autograd tape", train: { try AutogradNetwork.train($0) }),
        Level(id: 4, name: "manual", style: "chain rule by hand", train: { try ManualNetwork.train($0) }),
    ]

    /// The level numbered `id`, if it exists.
    public static func numbered(_ id: Int) -> Level? { all.first { $0.id == id } }
}
