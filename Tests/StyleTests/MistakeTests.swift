// MistakeTests.swift — every mistake of `--mistake` against its clean run: where the two part,
// and what the mistake does, on a 1,000-sample slice (16 steps per epoch, the last of 40).

import Foundation
import Level2Modules
import Level3Autograd
@testable import LevelComparison
import Shared
import Testing

@Suite("Mistakes against their clean runs")
struct MistakeTests {
    func report(_ id: String, task: Task = .classification, epochs: Int = 2) throws -> MistakeReport {
        let mistake = try #require(Mistake.named(id))
        return try MistakeReport.run(mistake, job: try makeJob(task, recipe: Recipe(epochs: epochs, batchSize: 64,
                                                                                    learningRate: 0.1, seed: 42)))
    }

    @Test("forgot-zero-grad: step 2's gradient is the sum of steps 1 and 2's; the runs part at step 3")
    func forgotZeroGrad() throws {
        let job = try makeJob(.classification)
        let loader = job.makeTrainLoader()
        let batches = Array(loader.batches(epoch: 1).prefix(2))
        func loss(_ model: MLP<Float>, _ batch: Batch<Float>) -> Tensor<Float> {
            CrossEntropyLoss()(model(Tensor(batch.inputs)), .classes(batch.labels))
        }
        // The mistaken loop: zeroGrad() clears nothing.
        let forgetful = MLP(job.initialParameters)
        let optimizer = ForgetfulOptimizer(SGD(parameters: forgetful.parameters, learningRate: 0.1))
        optimizer.zeroGrad()
        loss(forgetful, batches[0]).backward()
        let g1 = forgetful.parameters.map { $0.grad! }
        optimizer.step()
        optimizer.zeroGrad()
        loss(forgetful, batches[1]).backward()
        let accumulated = forgetful.parameters.map { $0.grad! }
        // The clean gradient of step 2, at the same weights.
        let clean = MLP(job.initialParameters)
        let sgd = SGD(parameters: clean.parameters, learningRate: 0.1)
        loss(clean, batches[0]).backward()
        sgd.step()
        sgd.zeroGrad()
        loss(clean, batches[1]).backward()
        let g2 = clean.parameters.map { $0.grad! }
        for ((sum, first), second) in zip(zip(accumulated, g1), g2) {
            #expect(sum.storage == zip(first.storage, second.storage).map { $0 + $1 })   // g1 + g2, exactly
        }
        let report = try report("forgot-zero-grad")
        #expect(report.firstDifferentStep == 3)              // steps 1 and 2 start from the same weights
    }

    @Test("softmax-before-cross-entropy: parts at step 1, and learns far less")
    func softmaxTwice() throws {
        let report = try report("softmax-before-cross-entropy")
        #expect(report.firstDifferentStep == 1)
        let (clean, mistaken) = (try #require(report.cleanFinal), try #require(report.mistakenFinal))
        // Probabilities as logits: the loss cannot fall below log(1 + (C − 1)/e) ≈ 1.46 for C = 10.
        #expect(mistaken.trainLoss > 1.46 && mistaken.trainLoss > clean.trainLoss + 0.3)
    }

    @Test("summed-loss: step 1's loss is 64 times the mean (the batch size), and the run falls apart")
    func summedLoss() throws {
        let report = try report("summed-loss")
        #expect(report.firstDifferentStep == 1)
        let there = try #require(report.lossesThere)
        #expect(abs(there[1] / there[0] - 64) < 64 * 1e-6, "\(there)")
        #expect((report.mistakenFinal?.testAccuracy ?? 0) < (report.cleanFinal?.testAccuracy ?? 1))
    }

    @Test("dropped-last-batch: 15 steps per epoch instead of 16; the runs part at step 16, the first of epoch 2")
    func droppedLastBatch() throws {
        let report = try report("dropped-last-batch")
        #expect(report.cleanSteps == 32 && report.mistakenSteps == 30)
        #expect(report.firstDifferentStep == 16)
    }

    @Test("truncated-glorot: other initial weights, so the runs part at step 1")
    func truncatedGlorot() throws {
        let report = try report("truncated-glorot", task: .regression)
        #expect(report.style == "keras" && report.firstDifferentStep == 1)
        #expect(report.mistakenStopped == nil)
    }

    @Test("unscaled-inputs: parts at step 1, and the first layer saturates: worse test accuracy")
    func unscaledInputs() throws {
        let report = try report("unscaled-inputs")
        #expect(report.firstDifferentStep == 1)
        #expect((report.mistakenFinal?.testAccuracy ?? 1) < (report.cleanFinal?.testAccuracy ?? 0) - 0.05)
    }

    @Test("every mistake names a real style and says why")
    func registry() {
        #expect(Mistake.all.count >= 6)
        #expect(Mistake.all.allSatisfy { Style.named($0.style) != nil && $0.why.count > 100 })
        #expect(Set(Mistake.all.map(\.id)).count == Mistake.all.count)
    }
}
