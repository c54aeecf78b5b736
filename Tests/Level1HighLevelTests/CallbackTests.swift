// CallbackTests.swift — EarlyStopping on a scripted sequence and inside a real fit,
// ModelCheckpoint (best only), CSVLogger, TerminateOnNaN and the one-line progress display.

import Foundation
import Testing
import Level1HighLevel
import Level2Modules
import Shared
import TestSupport

/// A one-weight module whose weight records "the epoch the weights are from".
private func markerModule() -> Linear<Float> {
    Linear(LinearParameters(weight: Matrix(rows: 1, columns: 1), bias: Matrix(rows: 1, columns: 1)))
}

/// Records every batch's own loss (`batch_loss`) with its epoch and batch number.
private final class BatchLosses: Callback {
    private(set) var seen: [(epoch: Int, batch: Int, loss: Double)] = []

    func onBatchEnd(_ batch: Int, logs: Logs, run: TrainingRun) throws {
        seen.append((run.epoch, batch, logs["batch_loss"] ?? .nan))
    }
}

/// Drives `callback` as fit would, with one scripted value of `key` per epoch; before each epoch
/// end, the module's weight is set to the epoch number. Returns the epochs run.
private func script(_ callback: any Callback, _ module: Linear<Float>, key: String = "val_loss",
                    _ values: [Double]) throws -> Int {
    let run = TrainingRun(module: module, epochs: values.count, stepsPerEpoch: 1)
    try callback.onTrainBegin(run)
    var ran = 0
    for (index, value) in values.enumerated() {
        let epoch = index + 1
        try callback.onEpochBegin(epoch, run: run)
        module.weight.value[0, 0] = Float(epoch)
        ran = epoch
        try callback.onEpochEnd(epoch, logs: ["loss": 1, key: value], run: run)
        if run.stopTraining { break }
    }
    try callback.onTrainEnd(logs: [:], run: run)
    return ran
}

@Suite("Level 1: callbacks")
struct Level1CallbackTests {
    @Test("EarlyStopping stops after `patience` epochs without improvement and restores the best epoch")
    func earlyStoppingScripted() throws {
        let module = markerModule()
        let stopper = EarlyStopping(monitor: "val_loss", patience: 2, restoreBestWeights: true)
        let ran = try script(stopper, module, [0.9, 0.7, 0.75, 0.72, 0.6, 0.5])
        #expect(ran == 4)                                  // best at 2; 3 and 4 do not improve
        #expect(stopper.stoppedEpoch == 4 && stopper.bestEpoch == 2 && stopper.best == 0.7)
        #expect(stopper.restoredWeights && module.weight.value[0, 0] == 2)
    }

    @Test("EarlyStopping: minDelta, patience 0, max mode, no restore, and running to the end")
    func earlyStoppingVariants() throws {
        let module = markerModule()
        let delta = EarlyStopping(monitor: "val_loss", patience: 1, minDelta: 0.1)
        #expect(try script(delta, module, [1.0, 0.95, 0.94, 0.5]) == 2)   // 0.95 is not 0.1 better
        #expect(module.weight.value[0, 0] == 2)                            // no restore asked

        let impatient = EarlyStopping(monitor: "val_loss", patience: 0)
        #expect(try script(impatient, module, [1.0, 0.9, 0.9, 0.8]) == 3)

        let accuracy = EarlyStopping(monitor: "val_accuracy", patience: 1, restoreBestWeights: true)
        #expect(try script(accuracy, module, key: "val_accuracy", [0.5, 0.6, 0.7, 0.65, 0.9]) == 4)
        #expect(module.weight.value[0, 0] == 3)

        let patient = EarlyStopping(monitor: "val_loss", patience: 5, restoreBestWeights: true)
        #expect(try script(patient, module, [0.5, 0.4, 0.45, 0.41]) == 4)     // never stops
        #expect(patient.stoppedEpoch == nil && module.weight.value[0, 0] == 2)   // but restores, as Keras 3

        #expect(errorMessage { _ = try script(EarlyStopping(monitor: "val_f1"), module, key: "val_f1", [1]) }
                == "error: monitor \"val_f1\" is not a known metric; pass mode: .min or .max")
    }

    @Test("EarlyStopping inside a real fit stops at the right epoch and restores that epoch's weights")
    func earlyStoppingInFit() throws {
        let (train, test) = try slice(.regression)
        let data = train.prefix(512)
        // minDelta 10: the first epoch is the best there will be; patience 1 stops at epoch 2.
        let stopper = EarlyStopping(monitor: "val_loss", patience: 1, minDelta: 10, restoreBestWeights: true)
        let model = try KerasNetwork.makeModel(startingFrom: initialWeights(.regression), learningRate: 0.1)
        let history = try model.fit(data, epochs: 6, batchSize: 64, validationData: test, callbacks: [stopper], verbose: 0)
        #expect(history.epochs == [1, 2])
        #expect(stopper.stoppedEpoch == 2 && stopper.bestEpoch == 1)

        let oneEpoch = try KerasNetwork.makeModel(startingFrom: initialWeights(.regression), learningRate: 0.1)
        try oneEpoch.fit(data, epochs: 1, batchSize: 64, verbose: 0)
        #expect(try bits(model.currentParameters) == bits(oneEpoch.currentParameters))

        #expect(errorMessage { try model.fit(data, epochs: 1, batchSize: 64, callbacks: [EarlyStopping()], verbose: 0) }
                == "error: EarlyStopping monitors val_loss, which is not in the logs (loss, mse, r2); "
                    + "pass validation data, or monitor another key")
    }

    @Test("ModelCheckpoint with saveBestOnly writes only when the monitored value improves")
    func modelCheckpointBestOnly() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let module = markerModule()
        let checkpoint = ModelCheckpoint(path: folder + "/best-{epoch:02d}.safetensors", saveBestOnly: true)
        _ = try script(checkpoint, module, [0.5, 0.6, 0.4, 0.4, 0.3])
        #expect(checkpoint.savedEpochs == [1, 3, 5])
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(files == ["best-01.safetensors", "best-03.safetensors", "best-05.safetensors"])

        let restored = markerModule()
        try restored.load(from: folder + "/best-03.safetensors")
        #expect(restored.weight.value[0, 0] == 3)

        let every = ModelCheckpoint(path: folder + "/last.safetensors")
        _ = try script(every, module, [0.5, 0.6])
        #expect(every.savedEpochs == [1, 2])
    }

    @Test("ModelCheckpoint in a real fit writes a file the shared checkpoint loader reads")
    func modelCheckpointInFit() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (train, test) = try slice(.classification)
        let checkpoint = ModelCheckpoint(path: folder + "/best.safetensors", monitor: "val_accuracy", saveBestOnly: true)
        let (model, history) = try kerasFit(train: train.prefix(500), test: test, initial: initialWeights(.classification),
                                                    recipe: Recipe(epochs: 3, batchSize: 64), callbacks: [checkpoint], verbose: 0)
        let accuracies = history.validationAccuracy
        let bestEpoch = accuracies.indices.max { accuracies[$0] < accuracies[$1] }! + 1
        #expect(checkpoint.savedEpochs.last == bestEpoch)
        #expect(checkpoint.savedEpochs.first == 1)
        let saved = try NetworkParameters<Float>.load(from: folder + "/best.safetensors", shape: .standard(for: .classification))
        // Training is deterministic, so the same fit stopped after the best epoch has the saved weights.
        let (bestModel, _) = try kerasFit(train: train.prefix(500), test: test, initial: initialWeights(.classification),
                                          recipe: Recipe(epochs: bestEpoch, batchSize: 64), verbose: 0)
        let savedBits = bits(saved)
        #expect(try savedBits == bits(bestModel.currentParameters))
        if bestEpoch == 3 { #expect(try savedBits == bits(model.currentParameters)) }
    }

    @Test("CSVLogger writes a header of sorted keys and one row per epoch, atomically")
    func csvLogger() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/log.csv"
        let (train, test) = try slice(.classification)
        let (_, history) = try kerasFit(train: train.prefix(300), test: test, initial: initialWeights(.classification),
                                                recipe: Recipe(epochs: 3, batchSize: 64), callbacks: [CSVLogger(path: path)],
                                                verbose: 0)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss")
        for (index, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",").map { Double($0)! }
            #expect(fields == [Double(index + 1), history.accuracy[index], history.loss[index],
                               history.validationAccuracy[index], history.validationLoss[index]])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["log.csv"])   // no temp files left
    }

    @Test("TerminateOnNaN stops at the first non-finite batch loss; the Trainer honours it too")
    func terminateOnNaN() throws {
        /// Checks that `guardian` stopped at the first batch whose loss `losses` recorded as not
        /// finite (in epoch 1), and that no batch ran after it.
        func expectStopAtFirstNonFinite(_ guardian: TerminateOnNaN, _ losses: BatchLosses,
                                        sourceLocation: SourceLocation = #_sourceLocation) throws {
            let seen = losses.seen
            let first = try #require(seen.firstIndex { !$0.loss.isFinite }, "no batch loss was non-finite: \(seen)",
                                     sourceLocation: sourceLocation)
            #expect(first > 0, "the first batch's loss, before any update, is finite", sourceLocation: sourceLocation)
            #expect(seen[first].epoch == 1 && seen[first].batch == first + 1, sourceLocation: sourceLocation)
            #expect(guardian.stoppedAt?.epoch == 1 && guardian.stoppedAt?.batch == first + 1,
                    "stopped at \(String(describing: guardian.stoppedAt)); losses \(seen.map(\.loss))",
                    sourceLocation: sourceLocation)
            #expect(seen.count == first + 1, "batches ran after the first non-finite loss",
                    sourceLocation: sourceLocation)
        }

        let (train, _) = try slice(.regression)
        let data = train.prefix(640)
        let (guardian, losses) = (TerminateOnNaN(), BatchLosses())
        let model = try KerasNetwork.makeModel(startingFrom: initialWeights(.regression), learningRate: 0.1)
        try model.compile(optimizer: .sgd(learningRate: 1e30), loss: .meanSquaredError)
        let history = try model.fit(data, epochs: 5, batchSize: 64, callbacks: [losses, guardian], verbose: 0)
        #expect(history.epochs == [1])
        try expectStopAtFirstNonFinite(guardian, losses)

        let (lightningGuard, lightningLosses) = (TerminateOnNaN(), BatchLosses())
        let module = LightningNetwork(initialWeights(.regression), learningRate: 1e30)
        let trainer = Trainer(maxEpochs: 5, callbacks: [lightningLosses, lightningGuard], enableProgressBar: false)
        try trainer.fit(module, trainData: DataLoader(data, batchSize: 64, shuffle: true))
        #expect(trainer.currentEpoch == 1)
        try expectStopAtFirstNonFinite(lightningGuard, lightningLosses)
    }

    @Test("the progress display prints one line per epoch when not on a terminal")
    func progressLines() throws {
        let (train, test) = try slice(.classification)
        var text = ""
        let progress = ProgressBar(style: .oneLinePerEpoch) { text += $0 }
        _ = try kerasFit(train: train.prefix(200), test: test.prefix(100), initial: initialWeights(.classification),
                                 recipe: Recipe(epochs: 2, batchSize: 64), callbacks: [progress], verbose: 0)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("Epoch 1/2 - 4 steps - ") && lines[1].hasPrefix("Epoch 2/2 - 4 steps - "))
        #expect(lines[0].contains(" - loss: ") && lines[0].contains(" - accuracy: ") && lines[0].contains(" - val_accuracy: "))
        #expect(!text.contains("batch_loss"))
    }

    @Test("the Trainer calls callbacks, stops early and restores, like fit")
    func trainerWithEarlyStopping() throws {
        let (train, test) = try slice(.regression)
        let stopper = EarlyStopping(monitor: "val_loss", patience: 1, minDelta: 10, restoreBestWeights: true)
        let (module, history) = try lightningFit(train: train.prefix(512), test: test, initial: initialWeights(.regression),
                                                         recipe: Recipe(epochs: 6, batchSize: 64), callbacks: [stopper],
                                                         enableProgressBar: false)
        #expect(history.epochs == [1, 2] && history.logs[0].keys == ["loss", "r2", "val_loss", "val_r2"])
        let (oneEpoch, _) = try lightningFit(train: train.prefix(512), test: test, initial: initialWeights(.regression),
                                                     recipe: Recipe(epochs: 1, batchSize: 64), enableProgressBar: false)
        #expect(bits(module.currentParameters) == bits(oneEpoch.currentParameters))
    }
}
