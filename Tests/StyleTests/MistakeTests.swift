// MistakeTests.swift — every mistake of `--mistake` against its clean run: where the two part,
// and what the mistake does, on a 1,000-sample slice (16 steps per epoch, the last of 40).

import Foundation
import Level2Modules
import Level3Autograd
import Level4Manual
@testable import LevelComparison
import Shared
import Testing
import TestSupport

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

    @Test("update-on-tape: not one loss differs, but the parameters' graph grows by a copy of the parameters every step")
    func updateOnTape() throws {
        let report = try report("update-on-tape")
        #expect(report.style == "autograd")
        #expect(report.firstDifferentStep == nil)                       // the same bits at every step
        #expect(report.mistakenSteps == 32 && report.mistakenLosses.map(\.bitPattern) == report.cleanLosses.map(\.bitPattern))
        #expect(report.cleanMemory.count == 32 && report.cleanMemory.allSatisfy { $0 == GraphMemory(tensors: 0, bytes: 0) })
        #expect(report.firstMemoryDifferentStep == 1)
        // After step k: the six parameters' k previous values, 109,386 Floats each time, and more.
        let parameterBytes = 109_386 * 4
        for (step, memory) in report.mistakenMemory.enumerated() {
            #expect(memory.tensors == 6 * (step + 1))
            #expect(memory.bytes >= parameterBytes * (step + 1))
        }
        let growth = zip(report.mistakenMemory.dropFirst(), report.mistakenMemory).map { $0.bytes - $1.bytes }
        #expect(growth.dropFirst().allSatisfy { $0 == parameterBytes }, "\(growth)")   // linear: one copy a step
        #expect(report.text.contains("The memory parts at step 1"))
        // The clean loop the memory is measured on is the autograd style's, bit for bit.
        let job = try makeJob(.classification, recipe: Recipe(epochs: 1, batchSize: 64, learningRate: 0.1, seed: 42))
        let measured = try UpdateOnTape.run(job, mistaken: false)
        let style = try #require(Style.named("autograd")).run(job)
        #expect(measured.trained.result.stepLosses.map(\.bitPattern) == style.result.stepLosses.map(\.bitPattern))
        #expect(bits(measured.trained.parameters) == bits(style.parameters))
    }

    @Test("tanh-derivative-of-z: step 1's loss is the same; dz1 is the first tensor to differ; after step 1 only fc1 differs")
    func tanhDerivativeOfZ() throws {
        let report = try report("tanh-derivative-of-z")
        #expect(report.style == "manual")
        #expect(report.firstDifferentStep == 2)                         // step 1's loss comes before any update
        #expect(report.firstDifferentTensor == "dz1")
        let there = try #require(report.lossesThere)
        #expect(there[0] != there[1])
        // One step of each from the same weights: fc2 and fc3 the same bits, fc1 not.
        let job = try makeJob(.classification)
        let batch = try #require(Array(job.makeTrainLoader().batches(epoch: 1).prefix(1)).first)
        var clean = ManualNetwork(parameters: job.initialParameters, learningRate: 0.1)
        var mistaken = clean
        let cleanLoss = clean.trainStep(on: batch)
        let loss = mistaken.forward(batch)
        let buffers = TanhDerivativeOfZ.backward(&mistaken, batch)
        mistaken.update()
        #expect(loss.bitPattern == cleanLoss.bitPattern)                // the forward pass is untouched
        // dz1 = da1 ⊙ (1 − z1²), element for element, where the clean one used a1.
        let dz1 = try #require(buffers.first { $0.0 == "dz1" }?.1)
        let (z1, da1) = (mistaken.z1, try #require(buffers.first { $0.0 == "da1" }?.1))
        #expect(zip(dz1.storage, zip(da1.storage, z1.storage)).allSatisfy { $0 == $1.0 * (1 - $1.1 * $1.1) })
        let differing = zip(clean.parameters.namedTensors, mistaken.parameters.namedTensors)
            .filter { $0.0.matrix.storage.map(\.bitPattern) != $0.1.matrix.storage.map(\.bitPattern) }.map(\.0.name)
        #expect(differing == ["fc1.weight", "fc1.bias"])
    }

    @Test("--mistake list shows every mistake with its style")
    func list() {
        let list = Mistake.listText
        #expect(list.contains("update-on-tape") && list.contains("(autograd)"))
        #expect(list.contains("tanh-derivative-of-z") && list.contains("(manual)"))
        #expect(list.split(separator: "\n").count == Mistake.all.count)
    }

    @Test("every mistake names a real style and says why")
    func registry() {
        #expect(Mistake.all.count >= 8)
        #expect(Mistake.all.allSatisfy { Style.named($0.style) != nil && $0.why.count > 100 })
        #expect(Set(Mistake.all.map(\.id)).count == Mistake.all.count)
    }
}
