// Experiment.swift — from options to data, network shape and initial weights.
//
// Teaches: what every level is given before training starts: the same samples, the same
// network shape and the same initial weights (from the seed, or from `--init`).
// Leaves out: training itself (each level's own code, driven by Shared's `train`).

import Foundation
import Shared

/// Everything a run starts from, shared by every level.
public struct Experiment: Sendable {
    public var options: TrainingOptions
    public var shape: NetworkShape
    public var train: Dataset<Float>
    public var test: Dataset<Float>
    /// Where the data came from: a folder, or "synthetic".
    public var dataPath: String
    public var initialParameters: NetworkParameters<Float>

    /// Loads the data and makes (or reads) the initial weights; writes `--save-init` if asked.
    ///
    /// `memory` says what the run holds besides its data, given the rows of its largest batch
    /// and the number of input values in the data (one style by default; compare-levels counts
    /// each style's result, and what its mistakes keep).
    public static func prepare(
        _ options: TrainingOptions,
        memory: (_ rows: Int, _ inputValues: Int) -> MemoryBudget.Need = { rows, _ in MemoryBudget.Need(rows: rows) }
    ) throws -> Experiment {
        BuildConfiguration.announceIfDebug()                 // BuildNotice.swift
        if let threads = options.threads { KernelThreads.set(threads) }
        let hidden = try options.hiddenSizes
        let shape = NetworkShape.standard(for: options.task, hidden: hidden)
        let train: Dataset<Float>, test: Dataset<Float>, dataPath: String
        switch options.task {
        case .classification:
            dataPath = MNISTFiles.resolveDirectory(options.data)
            (train, test) = try MNISTFiles.load(directory: dataPath, trainLimit: options.trainLimit,
                                                testLimit: options.testLimit,
                                                expectedFeatures: shape.inputSize)
        case .regression:
            dataPath = "synthetic"
            let all = SyntheticRegression.make(seed: options.seed, as: Float.self)
            (train, test) = (all.train.prefix(options.trainLimit), all.test.prefix(options.testLimit))
        }
        // A batch this wide must fit in memory: one line now, not a failed allocation later.
        let need = memory(MemoryBudget.Need.rows(batchSize: options.batchSize, trainCount: train.count,
                                                 testCount: test.count),
                          (train.count + test.count) * shape.inputSize)
        try MemoryBudget.check(shape: shape, need: need, batchSize: options.batchSize, limit: MemoryBudget.currentLimit())
        let initial: NetworkParameters<Float>
        if let file = options.initFile {
            initial = try NetworkParameters<Float>.load(from: file, shape: shape)
        } else {
            initial = .initialized(shape: shape, seed: options.seed, scheme: options.initScheme)
        }
        if let file = options.saveInit { try initial.save(to: file) }
        return Experiment(options: options, shape: shape, train: train, test: test,
                          dataPath: dataPath, initialParameters: initial)
    }

    /// One line describing the run, printed before training.
    public var banner: String {
        let sizes = shape.sizes.map(String.init).joined(separator: "-")
        let r = options.recipe
        return "\(options.task.rawValue) \(sizes) on \(dataPath): \(train.count) train, \(test.count) test; "
            + "\(r.epochs) epoch\(r.epochs == 1 ? "" : "s"), batch \(r.batchSize), lr \(r.learningRate), seed \(r.seed)"
            + (r.shuffle ? "" : ", no shuffle")
            + (options.initFile == nil && options.initScheme != .glorotNormal ? ", \(options.initScheme.rawValue) init" : "")
    }
}
