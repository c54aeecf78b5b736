// HistoryTests.swift — what `fit` records, checked against an independent Level 2 run that
// computes the same numbers by hand, and Keras's validationSplit.

import Foundation
import Testing
import Level1HighLevel
import Level2Modules
import Level3Autograd
import Level4Manual
import Shared
import TestSupport

/// Per-epoch numbers of a Level 2 run computed outside Level 1: the training loss and metrics
/// from each batch's outputs before its update, and the validation numbers after the epoch.
private func handComputedHistory(_ task: Task, epochs: Int) throws -> [String: [Double]] {
    let (train, test) = try slice(task)
    let model = MLP(initialWeights(task))
    let criterion: any Loss<Float> = task == .classification ? CrossEntropyLoss() : MSELoss()
    let optimizer = SGD(parameters: model.parameters, learningRate: 0.1)
    let schedule = BatchSchedule(sampleCount: train.count, batchSize: 64, shuffle: true, seed: 42)
    var history: [String: [Double]] = [:]
    for epoch in 1...epochs {
        let order = schedule.order(epoch: epoch)
        var (lossSum, correct) = (0.0, 0)
        var residuals = RSquaredAccumulator()
        var current = train.makeBatch(capacity: 64)
        for step in 0..<schedule.stepsPerEpoch {
            train.gather(order[schedule.range(ofStep: step)], into: &current)
            let outputs = withNoGrad { model(Tensor(current.inputs)).value }   // before the update
            if task == .classification {
                correct += correctPredictions(outputs, labels: current.labels)
            } else {
                residuals.add(predictions: outputs, targets: current.targets)
            }
            optimizer.zeroGrad()
            let loss = criterion(model(Tensor(current.inputs)), LossTarget(current, task: task))
            loss.backward()
            optimizer.step()
            lossSum += Double(loss.scalar) * Double(current.count)
        }
        let n = Double(train.count)
        history["loss", default: []].append(lossSum / n)
        let record = ModulesNetwork.evaluate(model, on: test)
        history["val_loss", default: []].append(record.meanLoss)
        if task == .classification {
            history["accuracy", default: []].append(Double(correct) / n)
            history["val_accuracy", default: []].append(record.accuracy)
        } else {
            history["mse", default: []].append(residuals.meanSquaredError)
            history["r2", default: []].append(residuals.value)
            var testResiduals = RSquaredAccumulator()
            testResiduals.add(predictions: withNoGrad { model(Tensor(test.inputs)).value }, targets: test.targets)
            history["val_mse", default: []].append(testResiduals.meanSquaredError)
            history["val_r2", default: []].append(record.rSquared.value)
        }
    }
    return history
}

@Suite("Level 1: History and validation")
struct Level1HistoryTests {
    @Test("History holds per-epoch loss and metrics for training and validation, as computed by hand",
          arguments: Task.allCases)
    func historyMatchesIndependentEvaluation(task: Task) throws {
        let (train, test) = try slice(task)
        let recipe = Recipe(epochs: 3, batchSize: 64, learningRate: 0.1, seed: 42)
        let (_, history) = try kerasFit(train: train, test: test, initial: initialWeights(task),
                                                recipe: recipe, verbose: 0)
        let expected = try handComputedHistory(task, epochs: 3)
        #expect(history.epochs == [1, 2, 3])
        #expect(Set(history.history.keys) == Set(expected.keys))
        for (key, values) in expected {
            let mine = history[key]
            #expect(mine.count == 3, "\(key)")
            for (a, b) in zip(mine, values) {
                #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(key): \(a) vs \(b)")
            }
        }
        #expect(history.loss == expected["loss"]!)                     // the very same sums: exact
        #expect(history.validationLoss == expected["val_loss"]!)
        if task == .classification {
            #expect(history.logs[0].keys == ["loss", "accuracy", "val_loss", "val_accuracy"])
            #expect(history.accuracy == expected["accuracy"]!)
            #expect(history.validationAccuracy == expected["val_accuracy"]!)
            #expect(history.validationLoss[2] < history.validationLoss[0])
        } else {
            #expect(history.logs[0].keys == ["loss", "mse", "r2", "val_loss", "val_mse", "val_r2"])
            #expect(history.r2 == expected["r2"]! && history.meanSquaredError == expected["mse"]!)
            #expect(history.validationR2 == expected["val_r2"]!)
        }
    }

    @Test("evaluate and predict report what the shared evaluation reports")
    func evaluateAndPredict() throws {
        let (train, test) = try slice(.classification)
        let (model, history) = try kerasFit(train: train, test: test, initial: initialWeights(.classification),
                                                    recipe: agreementRecipe, verbose: 0)
        let logs = try model.evaluate(x: test.inputs, y: test.labels)
        #expect(logs.keys == ["loss", "accuracy"])
        #expect(logs["loss"] == history.validationLoss.last)
        #expect(logs["accuracy"] == history.validationAccuracy.last)

        let probabilities = try model.predict(test.inputs)
        #expect(probabilities.shape == [500, 10])
        for row in 0..<probabilities.rows {
            let sum = (0..<10).reduce(Float(0)) { $0 + probabilities[row, $1] }
            #expect(abs(sum - 1) < 1e-5)
        }
        var manual = ManualNetwork(parameters: try model.networkParameters(), learningRate: 0)
        _ = manual.forward(test.batch(rows: 0..<500))                  // Level 4's forward pass, same weights
        #expect(probabilities == manual.outputs)
        #expect(Double(correctPredictions(probabilities, labels: test.labels)) / 500 == logs["accuracy"])
        // In chunks (of 64, the last of 52 rows), the same rows in the same order.
        let chunked = try model.predict(test.inputs, batchSize: 64)
        #expect(chunked.shape == [500, 10])
        #expect(zip(chunked.storage, probabilities.storage).allSatisfy { abs($0 - $1) <= 1e-6 })
    }

    @Test("validationSplit holds out the last fraction, taken before shuffling, as Keras does")
    func validationSplitTakesTheLastRows() throws {
        let (train, _) = try slice(.regression)
        let data = train.prefix(1000)
        func model() throws -> Level1HighLevel.Sequential<Float> {
            let model = try KerasNetwork.makeModel(startingFrom: initialWeights(.regression), learningRate: 0.1)
            return model
        }
        let split = try model()
        let splitHistory = try split.fit(x: data.inputs, y: data.targets, epochs: 2, batchSize: 64,
                                         validationSplit: 0.25, verbose: 0)
        let explicit = try model()
        let first = data.prefix(750)
        let last = Dataset<Float>.regression(
            inputs: Matrix(rows: 250, columns: 3, storage: Array(data.inputs.storage[(750 * 3)...])),
            targets: Matrix(rows: 250, columns: 1, storage: Array(data.targets.storage[750...])))
        let explicitHistory = try explicit.fit(x: first.inputs, y: first.targets, epochs: 2, batchSize: 64,
                                               validationData: (last.inputs, last.targets), verbose: 0)
        #expect(splitHistory == explicitHistory)
        #expect(try bits(split.currentParameters) == bits(explicit.currentParameters))
        #expect(splitHistory.validationLoss.count == 2)
    }
}
