// RunExport.swift — one run, written down so that another program can replay it exactly.
//
// Teaches: what "the same run" needs, and nothing more: the initial weights, the order of the
// rows in every epoch, and the recipe (sizes, activations, learning rate, batch size, where the
// data is). With these three files the Python frameworks of References/ train from the same
// start on the same batches, and their losses can be compared step by step with ours.
// Leaves out: running the replays (References.swift).

import Foundation
import Shared
import TrainingCLI

/// The recipe of an exported run: `run.json`, keys in snake case.
public struct ExportedRecipe: Codable, Sendable, Equatable {
    /// Always "neural-levels-run".
    public var format: String
    public var version: Int
    /// "classification" or "regression".
    public var task: String
    /// Layer widths, input first: `[784, 128, 64, 10]`.
    public var sizes: [Int]
    /// The activation after each layer: `["tanh", "sigmoid", "softmax"]` (or `"linear"`).
    public var activations: [String]
    /// "mean_cross_entropy_from_logits" or "mean_squared_error".
    public var loss: String
    /// "sgd": `w ← w − learning_rate · g`.
    public var optimizer: String
    public var learningRate: Double
    /// The batch size the loop uses (at most the number of training samples).
    public var batchSize: Int
    public var epochs: Int
    public var seed: UInt64
    public var shuffle: Bool
    public var trainCount: Int
    public var testCount: Int
    /// `--train-limit` and `--test-limit`, when given.
    public var trainLimit: Int?
    public var testLimit: Int?
    /// ⌈train_count / batch_size⌉; the last batch of an epoch may be shorter.
    public var stepsPerEpoch: Int
    /// Classification: `kind` "idx", `directory`, and the paths of `train_images`,
    /// `train_labels`, `test_images`, `test_labels` (plain or .gz; use the first train_count /
    /// test_count items). Regression: `kind` "safetensors", `file` (in the export folder).
    public var data: [String: String]
    /// `initial_weights` and `batch_order`: file names in the export folder.
    public var files: [String: String]
}

/// Writing a run for the replays of References/, and reading it back.
public enum RunExport {
    public static let recipeFile = "run.json"
    public static let initialWeightsFile = "initial.safetensors"
    public static let batchOrderFile = "batch_order.safetensors"
    public static let dataFile = "data.safetensors"
    /// The largest `batch_order.safetensors` written (4 bytes per sample per epoch; 1 GiB is
    /// about 4,400 epochs of 60,000 samples): each replay reads it whole.
    public static let maximumBatchOrderBytes = 1 << 30

    /// The batch schedule the shared training loop uses for this experiment.
    public static func schedule(of experiment: Experiment) -> BatchSchedule {
        let recipe = experiment.options.recipe
        return BatchSchedule(sampleCount: experiment.train.count,
                             batchSize: max(1, min(recipe.batchSize, experiment.train.count)),
                             shuffle: recipe.shuffle, seed: recipe.seed)
    }

    /// The recipe of `experiment` as `run.json` holds it.
    public static func recipe(of experiment: Experiment) throws -> ExportedRecipe {
        let options = experiment.options
        let recipe = options.recipe
        let schedule = schedule(of: experiment)
        var data: [String: String]
        switch options.task {
        case .classification:
            data = ["kind": "idx", "directory": experiment.dataPath]
            for (key, name) in [("train_images", MNISTFiles.trainImages), ("train_labels", MNISTFiles.trainLabels),
                                ("test_images", MNISTFiles.testImages), ("test_labels", MNISTFiles.testLabels)] {
                let path = try MNISTFiles.locate(name, in: experiment.dataPath)
                data[key] = URL(fileURLWithPath: path).standardizedFileURL.path
            }
        case .regression:
            data = ["kind": "safetensors", "file": dataFile]
        }
        return ExportedRecipe(
            format: "neural-levels-run", version: 1, task: options.task.rawValue,
            sizes: experiment.shape.sizes, activations: experiment.shape.activations,
            loss: options.task == .classification ? "mean_cross_entropy_from_logits" : "mean_squared_error",
            optimizer: "sgd", learningRate: recipe.learningRate, batchSize: schedule.batchSize,
            epochs: recipe.epochs, seed: recipe.seed, shuffle: recipe.shuffle,
            trainCount: experiment.train.count, testCount: experiment.test.count,
            trainLimit: options.trainLimit, testLimit: options.testLimit,
            stepsPerEpoch: schedule.stepsPerEpoch, data: data,
            files: ["initial_weights": initialWeightsFile, "batch_order": batchOrderFile])
    }

    /// Writes everything a replay needs into `directory` (created if missing): `run.json`,
    /// `initial.safetensors` (exactly what `--save-init` writes), `batch_order.safetensors`
    /// (`epoch_1` … `epoch_E`, int32 `[N]`: the rows of each epoch in training order) and, for
    /// regression, `data.safetensors` (the inputs and targets of both splits, float32).
    ///
    /// - Throws: `NeuralLevelsError/failure(_:)` naming the file that cannot be written, or
    ///   `NeuralLevelsError/badOption(option:reason:)` when the batch order would exceed
    ///   ``maximumBatchOrderBytes`` (before anything is written).
    public static func export(experiment: Experiment, to directory: String) throws {
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        let recipe = try recipe(of: experiment)
        let (orderBytes, overflow) = (4 * experiment.train.count).multipliedReportingOverflow(by: max(1, recipe.epochs))
        guard !overflow, orderBytes <= maximumBatchOrderBytes else {
            throw NeuralLevelsError.badOption(
                option: "--epochs", reason: "the batch order of \(recipe.epochs) epochs of \(experiment.train.count) samples "
                    + "is too large to export for the replays (at most \(maximumBatchOrderBytes >> 20) MiB)")
        }
        try ReportDirectory.create(directory, what: "run export folder")
        try experiment.initialParameters.save(to: path(initialWeightsFile))

        // Written an epoch at a time, so that a long run's order is never all in memory.
        let schedule = schedule(of: experiment)
        let epochs = 1..<(recipe.epochs + 1)
        let header = Safetensors.encodedHeader(
            epochs.map { (name: "epoch_\($0)", dtype: "I32", shape: [schedule.sampleCount], byteCount: 4 * schedule.sampleCount) },
            metadata: ["batch_size": String(schedule.batchSize), "shuffle": String(schedule.shuffle), "seed": String(schedule.seed)])
        try AtomicFile.write(to: path(batchOrderFile)) { append in
            try header.withUnsafeBytes(append)
            for epoch in epochs {
                try littleEndianBytes(schedule.order(epoch: epoch).map { Int32(truncatingIfNeeded: $0) }).withUnsafeBytes(append)
            }
        }

        if experiment.options.task == .regression {
            func tensors(_ prefix: String, _ set: Dataset<Float>) -> [(name: String, dtype: String, shape: [Int], bytes: [UInt8])] {
                let inputs = set.inputs, targets = set.targets
                return [(prefix + "_inputs", "F32", [inputs.rows, inputs.columns], littleEndianBytes(inputs.storage)),
                        (prefix + "_targets", "F32", [targets.rows, targets.columns], littleEndianBytes(targets.storage))]
            }
            try AtomicFile.write(Safetensors.encode(tensors("train", experiment.train) + tensors("test", experiment.test),
                                                    metadata: ["generator": "SyntheticRegression", "seed": String(recipe.seed)]),
                                 to: path(dataFile))
        }

        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(recipe), to: path(recipeFile))
    }

    // MARK: Reading an export back

    /// The recipe in `directory/run.json`.
    ///
    /// - Throws: `NeuralLevelsError/badData(file:reason:)` naming the file.
    public static func readRecipe(in directory: String) throws -> ExportedRecipe {
        let file = (directory as NSString).appendingPathComponent(recipeFile)
        let data = Data(try readRegularFile(atPath: file, maximumSize: 1 << 20))    // a few hundred bytes
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(ExportedRecipe.self, from: data)
        } catch {
            throw NeuralLevelsError.badData(file: file, reason: "not a run recipe (\(error))")
        }
    }

    /// The batch order of every epoch in a `batch_order.safetensors` file: `epoch_1` … `epoch_E`.
    ///
    /// - Throws: `NeuralLevelsError/badData(file:reason:)` naming the file and the tensor.
    public static func readBatchOrder(file: String) throws -> [[Int]] {
        // The orders, and room for the header that lists every epoch's tensor.
        let tensors = try integerTensors(try readRegularFile(atPath: file, maximumSize: maximumBatchOrderBytes + (64 << 20)),
                                         file: file)
        var orders: [[Int]] = []
        while let order = tensors["epoch_\(orders.count + 1)"] { orders.append(order.values) }
        guard orders.count == tensors.count else {
            throw NeuralLevelsError.badData(file: file, reason: "tensors are not exactly epoch_1 … epoch_\(tensors.count)")
        }
        return orders
    }

    /// The I32 tensors of a safetensors file held in memory (the Shared decoder reads only
    /// floating-point checkpoints), with the same checks of the header.
    static func integerTensors(_ bytes: [UInt8], file: String) throws -> [String: (shape: [Int], values: [Int])] {
        func bad(_ reason: String) -> NeuralLevelsError { .badData(file: file, reason: reason) }
        guard bytes.count >= 8 else { throw bad("shorter than the 8-byte header length") }
        let length = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(bytes.count - 8) else { throw bad("header length \(length) runs past the end of the file") }
        let start = 8 + Int(length)
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<start])) as? [String: Any] else {
            throw bad("header is not a JSON object")
        }
        var result: [String: (shape: [Int], values: [Int])] = [:]
        for (name, value) in header where name != Safetensors.metadataKey {
            guard let entry = value as? [String: Any], entry["dtype"] as? String == "I32",
                  let shape = entry["shape"] as? [Int], shape.allSatisfy({ $0 >= 0 }),
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw bad("tensor \(name): not an I32 tensor with a shape and data_offsets") }
            let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bytes.count - start,
                  count < Int.max / 4, offsets[1] - offsets[0] == 4 * count
            else { throw bad("tensor \(name): data_offsets \(offsets) do not hold shape \(shape) of I32") }
            let base = start + offsets[0]
            let values = (0..<count).map { i -> Int in
                let b = base + 4 * i
                let word = UInt32(bytes[b]) | UInt32(bytes[b + 1]) << 8 | UInt32(bytes[b + 2]) << 16 | UInt32(bytes[b + 3]) << 24
                return Int(Int32(bitPattern: word))
            }
            result[name] = (shape, values)
        }
        return result
    }

    /// Values as little-endian bytes, 4 per value.
    static func littleEndianBytes(_ values: [Int32]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 * values.count)
        for value in values { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }

    static func littleEndianBytes(_ values: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 * values.count)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }
}
