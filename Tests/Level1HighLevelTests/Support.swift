// Support.swift — the data slice, recipe and Level 2 reference the Level 1 suites compare with
// (random matrices, slices and raw bits are in the TestSupport target).
//
// Leaves out: tests of its own.

import Foundation
import Testing
import Level1HighLevel
import Level2Modules
import Shared
import TestSupport

/// The recipe of the agreement tests: 2 epochs, batch 64, lr 0.1, seed 42.
let agreementRecipe = Recipe(epochs: 2, batchSize: 64, learningRate: 0.1, seed: 42)

/// A 2,000-sample training slice and a 500-sample test slice of the task's data.
func slice(_ task: Task) throws -> (train: Dataset<Float>, test: Dataset<Float>) {
    try slice(task, train: 2000, test: 500)
}

/// The shared initial weights for the task's standard network (seed 42).
func initialWeights(_ task: Task) -> NetworkParameters<Float> {
    .glorotNormal(shape: .standard(for: task), seed: 42)
}

/// Level 2 trained by its own loop: the reference every Level 1 path must equal.
func level2Reference(_ task: Task, recipe: Recipe = agreementRecipe) throws
    -> (parameters: NetworkParameters<Float>, result: TrainingResult) {
    let (train, test) = try slice(task)
    let trained = try ModulesNetwork.run(TrainingJob(style: "modules", train: train, test: test,
                                                     initialParameters: initialWeights(task), recipe: recipe))
    #expect(trained.result.stopError == nil)
    return (trained.parameters, trained.result)
}

/// The `keras` style's model fitted with `recipe` on `train`, validating on `test`, as a Keras
/// user calls `fit`.
func kerasFit(train: Dataset<Float>, test: Dataset<Float>, initial: NetworkParameters<Float>, recipe: Recipe,
              callbacks: [any Callback] = [], verbose: Verbosity = 0) throws -> (model: Level1HighLevel.Sequential<Float>, history: History) {
    let model = try KerasNetwork.makeModel(startingFrom: initial, learningRate: recipe.learningRate)
    let history = try model.fit(train, epochs: recipe.epochs, batchSize: recipe.batchSize, validationData: test,
                                shuffle: recipe.shuffle, seed: recipe.seed, callbacks: callbacks, verbose: verbose)
    return (model, history)
}

/// The `lightning` style's module fitted by a `Trainer` with `recipe`, validating on `test`.
func lightningFit(train: Dataset<Float>, test: Dataset<Float>, initial: NetworkParameters<Float>, recipe: Recipe,
                  callbacks: [any Callback] = [], enableProgressBar: Bool = false) throws
    -> (module: LightningNetwork<Float>, history: History) {
    let module = LightningNetwork(initial, learningRate: Float(recipe.learningRate))
    let trainer = Trainer(maxEpochs: recipe.epochs, callbacks: callbacks, enableProgressBar: enableProgressBar)
    let history = try trainer.fit(
        module, trainData: try DataLoader(train, batchSize: recipe.batchSize, shuffle: recipe.shuffle, seed: recipe.seed),
        validationData: try DataLoader(test, batchSize: 1000))
    return (module, history)
}

extension Model {
    /// The weights in the shared layout (``Model/networkParameters()``).
    var currentParameters: NetworkParameters<Scalar> { get throws { try networkParameters() } }
}

/// The description of the error `body` throws, or nil if it throws none.
func errorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}

/// A temporary folder, removed by the caller.
func temporaryFolder() throws -> String {
    let path = NSTemporaryDirectory() + "level1-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
