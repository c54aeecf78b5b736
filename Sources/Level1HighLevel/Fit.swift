// Fit.swift — Level 1: `fit`, `evaluate` and `predict`, and the training step inside `fit`.
//
// Teaches: `fit` is the Level 2 loop with bookkeeping around it. Open it and you find, per
// batch, the four lines written by hand one level down (in `step(on:)`, first below):
//
//     optimizer.zeroGrad()
//     let loss = criterion(model(x), y)
//     loss.backward()
//     optimizer.step()
//
// Around them: checking the data once up front, Keras's `validationSplit` (the *last* fraction of
// the samples, cut before any shuffling), the batch order every level shares (Shared's
// `BatchSchedule`: a seeded permutation per epoch, the last partial batch kept), running means of
// the loss and metrics, a validation pass after each epoch, and callbacks at every step.
// compare-levels' `keras` and `keras-functional` rows are this `fit`, with a callback that
// records every step (KerasNetwork.swift).
// `fit` runs in Float (its callbacks see a `Module<Float>`); the step, `trainOnBatch`, `evaluate`
// and `predict` run in the model's own scalar type, Double too.
// Leaves out: `sample_weight`, `class_weight`, `initial_epoch`, `steps_per_epoch`, generators
// and `tf.data` pipelines, multiple inputs and outputs.
//
// Reading order: the step first, then `fit` around it, then `evaluate` and `predict`.
//
// Shape legend: N samples · B batch · I inputs · O outputs

import Foundation
import Level2Modules
import Level3Autograd
import Shared

extension Model {
    // MARK: - The training step

    /// One step of gradient descent on `batch` (Keras's `train_on_batch`); returns the batch's
    /// mean loss before the update.
    ///
    /// - Throws: ``HighLevelError`` when the model is not compiled or the batch does not fit it.
    public func trainOnBatch(_ batch: Batch<Scalar>) throws -> Scalar {
        let compilation = try requireCompilation(for: "trainOnBatch(_:)")
        let origin = KernelTrace.enter("model.trainOnBatch"); defer { origin.leave() }   // for compare-levels --trace
        try check(batch, compilation: compilation)
        return step(on: batch, compilation: compilation).loss
    }

    /// The step `fit` takes for each batch: Level 2's loop, line for line.
    ///
    /// With a softmax head and a cross-entropy, `output` is the logits `z: [B, O]` and the
    /// criterion is Level 2's `CrossEntropyLoss`, which fuses softmax and cross-entropy
    /// (`ℓ = (1/B) Σᵢ [log Σₖ e^(zᵢₖ) − zᵢ,yᵢ]`, gradient `(p − y)/B`), as Keras fuses them.
    /// Returns the loss and the outputs (for the running metrics).
    func step(on batch: Batch<Scalar>, compilation: Compilation<Scalar>) -> (loss: Scalar, outputs: Matrix<Scalar>) {
        let (optimizer, criterion) = (compilation.optimizer, compilation.criterion)
        let x = Tensor(batch.inputs)                                           // [B, I]
        let y = LossTarget(batch, task: compilation.task)                      // labels or [B, O]
        optimizer.zeroGrad()
        let output = forward(x, applyingHeadActivation: !compilation.fusesSoftmax)   // model(x): [B, O]
        let loss = criterion(output, y)
        loss.backward()
        optimizer.step()
        return (loss.scalar, output.value)
    }
}

extension Model where Scalar == Float {
    // MARK: - fit

    /// Trains on inputs `x: [N, I]` and integer class labels `y` (one per row, in `0..<O`)
    /// (Keras's `model.fit`). Use with `.sparseCategoricalCrossentropy`.
    ///
    /// - Parameters:
    ///   - x: the inputs, one sample per row, `[N, I]`.
    ///   - y: the class of each row, `N` labels in `0..<O`.
    ///   - epochs: passes over the training samples (Keras's default, 1).
    ///   - batchSize: samples per step (Keras's default, 32; the shared recipe uses 64).
    ///   - validationData: evaluated after every epoch (`val_loss`, …); takes precedence over
    ///     `validationSplit`, as in Keras.
    ///   - validationSplit: the fraction in [0, 1) of the samples to hold out for validation: the
    ///     *last* `N − ⌊N·(1 − split)⌋` rows, taken before shuffling, as in Keras.
    ///   - shuffle: a new seeded permutation each epoch (Shared's `BatchSchedule`), or file order.
    ///   - seed: seeds the permutations (default 42, as everywhere in NeuralLevels).
    ///   - callbacks: called at every step and epoch (see ``Callback``).
    ///   - verbose: `0` silent, `1` progress bar, `2` one line per epoch; default: bar on a terminal.
    /// - Returns: the loss and metrics of every epoch, for training and validation.
    /// - Throws: ``HighLevelError`` before any step if the model is not compiled, the data do not
    ///   fit the model or the loss, or an argument is out of range; whatever a callback throws.
    @discardableResult
    public func fit(x: Matrix<Float>, y: [Int32], epochs: Int = 1, batchSize: Int = 32,
                    validationData: (x: Matrix<Float>, y: [Int32])? = nil, validationSplit: Double = 0,
                    shuffle: Bool = true, seed: UInt64 = 42, callbacks: [any Callback] = [],
                    verbose: Verbosity = .auto) throws -> History {
        let compilation = try requireCompilation(for: "fit")
        let data = try dataset(x: x, targets: .labels(y), argument: "fit(x:y:)", compilation: compilation)
        let validation = try validationData.map {
            try dataset(x: $0.x, targets: .labels($0.y), argument: "validationData", compilation: compilation)
        }
        return try fitChecked(data, epochs: epochs, batchSize: batchSize, validationData: validation,
                              validationSplit: validationSplit, shuffle: shuffle, seed: seed, callbacks: callbacks,
                              verbose: verbose, compilation: compilation)
    }

    /// Trains on inputs `x: [N, I]` and target rows `y: [N, O]`: target values for
    /// `.meanSquaredError`, one-hot rows for `.categoricalCrossentropy` (Keras's `model.fit`).
    /// The parameters are those of `fit(x:y:…)` with labels.
    @discardableResult
    public func fit(x: Matrix<Float>, y: Matrix<Float>, epochs: Int = 1, batchSize: Int = 32,
                    validationData: (x: Matrix<Float>, y: Matrix<Float>)? = nil, validationSplit: Double = 0,
                    shuffle: Bool = true, seed: UInt64 = 42, callbacks: [any Callback] = [],
                    verbose: Verbosity = .auto) throws -> History {
        let compilation = try requireCompilation(for: "fit")
        let data = try dataset(x: x, targets: .values(y), argument: "fit(x:y:)", compilation: compilation)
        let validation = try validationData.map {
            try dataset(x: $0.x, targets: .values($0.y), argument: "validationData", compilation: compilation)
        }
        return try fitChecked(data, epochs: epochs, batchSize: batchSize, validationData: validation,
                              validationSplit: validationSplit, shuffle: shuffle, seed: seed, callbacks: callbacks,
                              verbose: verbose, compilation: compilation)
    }

    /// Trains on a shared `Dataset` (class labels for a cross-entropy, target values for mean
    /// squared error). The parameters are those of `fit(x:y:…)`.
    @discardableResult
    public func fit(_ data: Dataset<Float>, epochs: Int = 1, batchSize: Int = 32,
                    validationData: Dataset<Float>? = nil, validationSplit: Double = 0,
                    shuffle: Bool = true, seed: UInt64 = 42, callbacks: [any Callback] = [],
                    verbose: Verbosity = .auto) throws -> History {
        let compilation = try requireCompilation(for: "fit")
        try check(data, argument: "fit", compilation: compilation)
        if let validationData { try check(validationData, argument: "validationData", compilation: compilation) }
        return try fitChecked(data, epochs: epochs, batchSize: batchSize, validationData: validationData,
                              validationSplit: validationSplit, shuffle: shuffle, seed: seed, callbacks: callbacks,
                              verbose: verbose, compilation: compilation)
    }

    /// The epoch loop of `fit`, on checked data.
    private func runEpochs(on data: Dataset<Float>, validation: Dataset<Float>?, epochs: Int, batchSize: Int,
                           shuffle: Bool, seed: UInt64, callbacks userCallbacks: [any Callback],
                           verbose: Verbosity, compilation: Compilation<Float>) throws -> History {
        let origin = KernelTrace.enter("model.fit"); defer { origin.leave() }   // for compare-levels --trace
        let schedule = BatchSchedule(sampleCount: data.count, batchSize: min(batchSize, data.count),
                                     shuffle: shuffle, seed: seed)   // the order every style uses
        let loader = BatchLoader(data, schedule: schedule)          // the next batch is gathered ahead
        let run = TrainingRun(module: self, epochs: epochs, stepsPerEpoch: schedule.stepsPerEpoch,
                              checkpointMetadata: checkpointMetadata)
        let callbacks = (verbose.makeProgressBar().map { [$0] } ?? []) + userCallbacks
        var history = History()

        train()                                                      // training mode, as model.train()
        for callback in callbacks { try callback.onTrainBegin(run) }
        for epoch in stride(from: 1, through: epochs, by: 1) {
            run.epoch = epoch
            for callback in callbacks { try callback.onEpochBegin(epoch, run: run) }
            var running = RunningMetrics(compilation.metrics)
            for (step, batch) in loader.batches(epoch: epoch).enumerated() {
                let (loss, outputs) = self.step(on: batch, compilation: compilation)   // Level 2's loop, above
                running.add(loss: loss, outputs: outputs, batch: batch)
                var logs = running.logs
                logs["batch_loss"] = Double(loss)
                for callback in callbacks { try callback.onBatchEnd(step + 1, logs: logs, run: run) }
                if run.stopTraining { break }
            }
            var logs = running.logs
            if let validation {
                for entry in try evaluate(validation, batchSize: 1000, compilation: compilation) {
                    logs["val_" + entry.key] = entry.value
                }
            }
            history.append(epoch: epoch, logs: logs)
            for callback in callbacks { try callback.onEpochEnd(epoch, logs: logs, run: run) }
            if run.stopTraining { break }
        }
        let last = history.logs.last ?? Logs()
        for callback in callbacks { try callback.onTrainEnd(logs: last, run: run) }
        return history
    }
}

// MARK: - Checking fit's arguments

extension Model where Scalar == Float {
    /// `fit` on data already checked against the model and the loss: checks the arguments, cuts
    /// the validation split, runs the epochs.
    func fitChecked(_ data: Dataset<Float>, epochs: Int, batchSize: Int, validationData: Dataset<Float>?,
                    validationSplit: Double, shuffle: Bool, seed: UInt64, callbacks: [any Callback],
                    verbose: Verbosity, compilation: Compilation<Float>) throws -> History {
        guard epochs >= 0 else { throw HighLevelError.invalidArgument(name: "epochs", reason: "must be at least 0, got \(epochs)") }
        guard batchSize >= 1 else {
            throw HighLevelError.invalidArgument(name: "batchSize", reason: "must be at least 1, got \(batchSize)")
        }
        guard validationSplit >= 0 && validationSplit < 1 else {
            throw HighLevelError.invalidArgument(name: "validationSplit", reason: "must be in [0, 1), got \(validationSplit)")
        }

        // Keras's validation_split: the last rows, before shuffling; validation_data wins.
        var training = data
        var validation = validationData
        if validationData == nil && validationSplit > 0 {
            let splitAt = Int((Double(data.count) * (1 - validationSplit)).rounded(.down))
            guard splitAt < data.count else {
                throw HighLevelError.invalidArgument(
                    name: "validationSplit", reason: "\(validationSplit) of \(data.count) samples leaves no validation samples")
            }
            training = data.rows(0..<splitAt)
            validation = data.rows(splitAt..<data.count)
        }
        guard training.count > 0 else {
            throw HighLevelError.invalidArgument(
                name: "fit", reason: "has no training samples" + (validationSplit > 0 ? " after validationSplit \(validationSplit)" : ""))
        }
        return try runEpochs(on: training, validation: validation, epochs: epochs, batchSize: batchSize,
                             shuffle: shuffle, seed: seed, callbacks: callbacks, verbose: verbose,
                             compilation: compilation)
    }
}

extension Model {
    // MARK: - evaluate

    /// The loss and compiled metrics on inputs `x` and class labels `y` (Keras's
    /// `model.evaluate(…, return_dict=True)`), walked in chunks of `batchSize`; the loss is the
    /// mean over all samples.
    public func evaluate(x: Matrix<Scalar>, y: [Int32], batchSize: Int = 1000) throws -> Logs {
        let compilation = try requireCompilation(for: "evaluate")
        let data = try dataset(x: x, targets: .labels(y), argument: "evaluate(x:y:)", compilation: compilation)
        return try evaluate(data, batchSize: batchSize, compilation: compilation)
    }

    /// As `evaluate(x:y:)`, for target values or one-hot rows `y: [N, O]`.
    public func evaluate(x: Matrix<Scalar>, y: Matrix<Scalar>, batchSize: Int = 1000) throws -> Logs {
        let compilation = try requireCompilation(for: "evaluate")
        let data = try dataset(x: x, targets: .values(y), argument: "evaluate(x:y:)", compilation: compilation)
        return try evaluate(data, batchSize: batchSize, compilation: compilation)
    }

    /// As `evaluate(x:y:)`, on a shared `Dataset`.
    public func evaluate(_ data: Dataset<Scalar>, batchSize: Int = 1000) throws -> Logs {
        let compilation = try requireCompilation(for: "evaluate")
        try check(data, argument: "evaluate", compilation: compilation)
        return try evaluate(data, batchSize: batchSize, compilation: compilation)
    }

    /// Loss `Σ_chunks L·B / N` and the metrics, added up by Shared's `EvaluationTotals` (as every
    /// style's evaluation adds them) from this model's outputs, chunk by chunk.
    private func evaluate(_ data: Dataset<Scalar>, batchSize: Int, compilation: Compilation<Scalar>) throws -> Logs {
        guard batchSize >= 1 else {
            throw HighLevelError.invalidArgument(name: "batchSize", reason: "must be at least 1, got \(batchSize)")
        }
        let origin = KernelTrace.enter("model.evaluate"); defer { origin.leave() }   // for compare-levels --trace
        var totals = EvaluationTotals()
        for batch in data.chunks(of: batchSize) {
            let (loss, outputs) = evaluateBatch(batch, compilation: compilation)
            totals.add(loss: loss, outputs: outputs, batch: batch)
        }
        var logs: Logs = ["loss": totals.meanLoss]
        for metric in compilation.metrics {
            switch metric {
            case .accuracy: logs[metric.key] = totals.accuracy
            case .meanSquaredError: logs[metric.key] = totals.rSquared.meanSquaredError
            case .r2: logs[metric.key] = totals.rSquared.value
            }
        }
        return logs
    }

    /// The batch's mean loss and outputs, no update: softmax probabilities from the fused kernel
    /// for a classifier (as every style reports them), predictions otherwise.
    func evaluateBatch(_ batch: Batch<Scalar>, compilation: Compilation<Scalar>) -> (loss: Scalar, outputs: Matrix<Scalar>) {
        eval()
        defer { train() }
        return withNoGrad {
            let x = Tensor(batch.inputs)
            if compilation.fusesSoftmax {                     // probabilities, as every level reports them
                let (loss, probabilities) = forward(x, applyingHeadActivation: false).softmaxCrossEntropy(labels: batch.labels)
                return (loss.scalar, probabilities)
            }
            let output = self(x)
            return (compilation.criterion(output, LossTarget(batch, task: compilation.task)).scalar, output.value)
        }
    }

    // MARK: - predict

    /// The outputs for inputs `x: [N, I]` (Keras's `model.predict`): `[N, O]`, softmax
    /// probabilities for a softmax head (from Shared's fused kernel, the numbers `evaluate`
    /// reports), predictions otherwise. Needs no compile.
    ///
    /// - Throws: ``HighLevelError/inputWidth(argument:expected:got:)`` or a bad `batchSize`.
    public func predict(_ x: Matrix<Scalar>, batchSize: Int = 1000) throws -> Matrix<Scalar> {
        guard x.columns == inputSize else {
            throw HighLevelError.inputWidth(argument: "predict(_:)", expected: inputSize, got: x.columns)
        }
        guard batchSize >= 1 else {
            throw HighLevelError.invalidArgument(name: "batchSize", reason: "must be at least 1, got \(batchSize)")
        }
        let softmaxHead = layers[layers.count - 1].activation == .softmax
        eval()                                                  // evaluation mode, as model.eval()
        defer { train() }
        var outputs: [Scalar] = []
        for start in stride(from: 0, to: x.rows, by: batchSize) {
            let rows = start..<min(start + batchSize, x.rows)   // chunk: [rows, I]
            let chunk = Matrix(rows: rows.count, columns: x.columns,
                               storage: Array(x.storage[(rows.lowerBound * x.columns)..<(rows.upperBound * x.columns)]))
            let output = withNoGrad { forward(Tensor(chunk), applyingHeadActivation: !softmaxHead) }   // [rows, O]
            outputs += softmaxHead ? Self.softmax(output).storage : output.value.storage
        }
        return Matrix(rows: x.rows, columns: outputSize, storage: outputs)
    }

    /// `p = softmax(z)` row by row, from Shared's fused softmax cross-entropy kernel (the one
    /// `evaluate` reports from): its probabilities do not depend on the labels, so any do.
    private static func softmax(_ logits: Tensor<Scalar>) -> Matrix<Scalar> {
        withNoGrad { logits.softmaxCrossEntropy(labels: Array(repeating: 0, count: logits.value.rows)).probabilities }
    }
}

// MARK: - Running metrics over an epoch

/// The loss and metrics of the batches so far, as `fit` reports them after each batch and epoch.
struct RunningMetrics {
    let metrics: [Metric]
    var lossSum = 0.0
    var seen = 0
    var correct = 0
    var rSquared = RSquaredAccumulator()

    init(_ metrics: [Metric]) { self.metrics = metrics }

    /// Adds a batch: its loss (weighted by its size, exactly as Shared's `TrainingLog` sums the epoch
    /// loss) and its outputs before the update. Accuracy is the argmax of the logits, which is the
    /// argmax of the softmax (the softmax is increasing).
    mutating func add(loss: Float, outputs: Matrix<Float>, batch: Batch<Float>) {
        lossSum += Double(loss) * Double(batch.count)
        seen += batch.count
        if metrics.contains(.accuracy) { correct += correctPredictions(outputs, labels: batch.labels) }
        if metrics.contains(.meanSquaredError) || metrics.contains(.r2) {
            rSquared.add(predictions: outputs, targets: batch.targets)
        }
    }

    /// `loss` and each metric, in compile order.
    var logs: Logs {
        let n = Double(max(1, seen))
        var logs: Logs = ["loss": lossSum / n]
        for metric in metrics {
            switch metric {
            case .accuracy: logs[metric.key] = Double(correct) / n
            case .meanSquaredError: logs[metric.key] = rSquared.meanSquaredError
            case .r2: logs[metric.key] = rSquared.value
            }
        }
        return logs
    }
}
