// LevelAgreementTests.swift — Level 3 against Level 4, in Float, bit for bit: one step's loss and
// gradients, and two epochs of training. Then the compositions that are *not* bitwise (losses
// built from primitive ops), against the fused ops, to a stated tolerance.
//
// Teaches: the tape adds no arithmetic: same kernels, same order, same bits.
// Leaves out: Levels 1 and 2 (compare-levels runs all four).

import Testing
@testable import Level3Autograd
@testable import Level4Manual
@testable import Shared
import TestSupport

@Suite("Level 3 agrees with Level 4 (Float)")
struct LevelAgreementTests {
    @Test("same weights, same batch: identical loss and gradients, bit for bit", arguments: Task.allCases)
    func oneStep(task: Task) throws {
        let batch = try realBatch(task, count: 64)
        let parameters = NetworkParameters<Float>.glorotNormal(shape: .standard(for: task), seed: 42)

        var manual = ManualNetwork(parameters: parameters, learningRate: 0.1)
        let manualLoss = manual.forward(batch)
        manual.backward(batch)

        let autograd = AutogradNetwork(parameters: parameters, learningRate: 0.1)
        let (loss, outputs) = autograd.forward(batch)
        loss.backward()

        #expect(loss.scalar.bitPattern == manualLoss.bitPattern)
        #expect(bits(outputs) == bits(manual.outputs))
        let gradients = try autograd.parameters.map { try #require($0.grad) }
        #expect(manual.gradients.namedTensors.count == 6 && gradients.count == 6)   // three layers' weights and biases
        for ((name, expected), actual) in zip(manual.gradients.namedTensors, gradients) {
            #expect(bits(actual) == bits(expected), "∂ℓ/∂\(name) differs")
        }
    }

    @Test("the same step with einsum(\"bi,oi->bo\") for every layer: the same bits again")
    func einsumForward() throws {
        let batch = try realBatch(.classification, count: 64)
        let parameters = NetworkParameters<Float>.glorotNormal(shape: .standard(for: .classification), seed: 42)
        let reference = AutogradNetwork(parameters: parameters, learningRate: 0.1)
        let (referenceLoss, _) = reference.forward(batch)
        referenceLoss.backward()

        let network = AutogradNetwork(parameters: parameters, learningRate: 0.1)
        let x = Tensor(batch.inputs)
        let h1 = (try einsum("bi,oi->bo", x, network.w1) + network.b1).tanh()
        let h2 = (try einsum("bi,oi->bo", h1, network.w2) + network.b2).sigmoid()
        let z3 = try einsum("bi,oi->bo", h2, network.w3) + network.b3
        let loss = z3.softmaxCrossEntropy(labels: batch.labels).loss
        loss.backward()

        #expect(loss.scalar.bitPattern == referenceLoss.scalar.bitPattern)
        #expect(network.parameters.count == 6 && reference.parameters.count == 6)
        for (einsumParameter, matmulParameter) in zip(network.parameters, reference.parameters) {
            let expected = try #require(matmulParameter.grad)
            #expect(bits(try #require(einsumParameter.grad)) == bits(expected))
        }
    }

    @Test("2 epochs on a 2,000-sample slice, both Level 3 styles: identical weights, losses and test metrics",
          arguments: Task.allCases)
    func training(task: Task) throws {
        let (train, test) = try slice(task, train: 2000, test: 500, regressionSeed: 7)
        let job = TrainingJob(style: "test", train: train, test: test,
                              initialParameters: .glorotNormal(shape: .standard(for: task), seed: 42),
                              recipe: Recipe(epochs: 2, batchSize: 64, learningRate: 0.1, seed: 42))
        let level4 = try ManualNetwork.run(job)
        for level3 in [try AutogradNetwork.run(job), try GradientTapeNetwork.run(job)] {
            #expect(level3.result.epochs.count == 2 && level4.result.epochs.count == 2)
            #expect(level3.parameters == level4.parameters)
            #expect(bits(level3.parameters) == bits(level4.parameters))
            #expect(level3.parameters != job.initialParameters)          // it did train
            #expect(level3.result.stepLosses == level4.result.stepLosses)
            for (a, b) in zip(level3.result.epochs, level4.result.epochs) {
                #expect(a.trainLoss == b.trainLoss && a.testLoss == b.testLoss)
                #expect(a.testAccuracy == b.testAccuracy && a.testR2 == b.testR2)
            }
        }
    }

    @Test("GradientTape: tape.gradient returns .grad's values and leaves no .grad behind")
    func gradientTapeReturnsGradients() throws {
        let batch = try realBatch(.regression, count: 16)
        let parameters = NetworkParameters<Float>.glorotNormal(shape: .standard(for: .regression), seed: 3)
        let reference = AutogradNetwork(parameters: parameters, learningRate: 0.1)
        reference.forward(batch).loss.backward()

        let network = AutogradNetwork(parameters: parameters, learningRate: 0.1)
        let tape = GradientTape()
        let loss = tape.record { network.forward(batch).loss }
        let gradients = tape.gradient(loss, network.parameters)
        #expect(gradients.count == 6 && reference.parameters.count == 6)
        for (gradient, parameter) in zip(gradients, reference.parameters) {
            #expect(bits(gradient) == bits(try #require(parameter.grad)))
        }
        #expect(network.parameters.allSatisfy { $0.grad == nil })
        // A second tape on the same variables starts from nothing: the same gradients, not twice them.
        let again = GradientTape()
        let secondLoss = again.record { network.forward(batch).loss }
        #expect(again.gradient(secondLoss, network.parameters).map(bits) == gradients.map(bits))
        // A variable the loss does not depend on gets zeros.
        let unused = Variable(Matrix<Float>(rows: 2, columns: 3, repeating: 1))
        let third = GradientTape()
        let thirdLoss = third.record { network.forward(batch).loss }
        #expect(third.gradient(thirdLoss, [unused])[0].storage == Array(repeating: 0, count: 6))
        // assignSub is the shared SGD update.
        var expected = parameters.fc1.weight
        sgdUpdate(&expected, gradient: gradients[0], learningRate: 0.5)
        network.w1.assignSub(gradients[0], scaledBy: 0.5)
        #expect(bits(network.w1.value) == bits(expected))
    }

    // MARK: - Losses from primitives: equal to a tolerance, not bit for bit

    /// Softmax cross-entropy written with `max`, `−`, `exp`, `sum`, `log`, `*` and `mean`:
    ///
    ///     ℓ = mean over rows of ( log Σⱼ e^(zᵢⱼ − mᵢ) − Σⱼ yᵢⱼ·(zᵢⱼ − mᵢ) ),  y one-hot
    ///
    /// With the readable kernels (`NEURAL_LEVELS_READABLE_KERNELS=1`) the forward pass rounds
    /// exactly as the fused kernel does (same sums in the same order; the one-hot product adds
    /// exact zeros); with the fast forms the fused kernel's exponentials come from `fastExp`
    /// (within 1 ulp) and the tape's from libm, so they differ in the last bits. The backward
    /// pass differs either way: the tape computes `(g/B)/Σ · e^(z−m)` and `−(g/B)·y` as
    /// separate, separately rounded steps, where the fused kernel computes `(p − y)/B` in one.
    /// So they agree to within an ulp or so, not bit for bit. Measured on this batch (fast and
    /// readable forms): the losses equal, probabilities within 3e-8 (one ulp of a value in
    /// [¼, ½)), gradients within 4.7e-10 (a quarter of an ulp of 1/B = 1/64: gradients are
    /// ≤ 1/B). The tolerances: 1e-6 on the loss (≈ 2.3: 4 ulps, room for fastExp's last bit),
    /// one ulp of 1 on the probabilities and one ulp of 1/B on the gradients (4× measured).
    @Test("softmax cross-entropy from primitives matches the fused op to an ulp of the gradients' bound 1/B")
    func softmaxCrossEntropyFromPrimitives() throws {
        let batch = try realBatch(.classification, count: 64)
        let parameters = NetworkParameters<Float>.glorotNormal(shape: .standard(for: .classification), seed: 42)
        let logits = withNoGrad { AutogradNetwork(parameters: parameters, learningRate: 0.1).forward(batch).outputs }
            .storage.map { Float.log($0) }                          // any logits will do: log p
        let z = Matrix(rows: 64, columns: 10, storage: logits)

        let fusedInput = Tensor(z, requiresGrad: true)
        let (fused, probabilities) = fusedInput.softmaxCrossEntropy(labels: batch.labels)
        fused.backward()

        var oneHot = Matrix<Float>(rows: 64, columns: 10)
        for (row, label) in batch.labels.enumerated() { oneHot[row, Int(label)] = 1 }
        let input = Tensor(z, requiresGrad: true)
        let shifted = input - input.max(axis: 1).detached()         // a constant shift: softmax ignores it
        let logSumExp = shifted.exp().sum(axis: 1).log()            // [B, 1]
        let picked = (shifted * Tensor(oneHot)).sum(axis: 1)        // [B, 1]  zᵢ,yᵢ − mᵢ
        let composed = (logSumExp - picked).mean()
        composed.backward()

        #expect(abs(composed.scalar - fused.scalar) <= 1e-6)
        let softmax = shifted.exp() / shifted.exp().sum(axis: 1)
        #expect(softmax.value.shape == [64, 10] && probabilities.shape == [64, 10])
        let worstProbability = zip(softmax.value.storage, probabilities.storage).map { abs($0 - $1) }.max() ?? 0
        #expect(worstProbability <= Float(1).ulp, "worst probability difference \(worstProbability)")
        let composedGradient = try #require(input.grad), fusedGradient = try #require(fusedInput.grad)
        #expect(composedGradient.shape == [64, 10] && fusedGradient.shape == [64, 10])
        let bound = (1 / Float(64)).ulp                             // 2⁻²⁹ ≈ 1.9e-9
        #expect(fusedGradient.storage.allSatisfy { abs($0) <= 1 / Float(64) })
        let worst = zip(composedGradient.storage, fusedGradient.storage).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= bound, "worst gradient difference \(worst), bound \(bound)")
    }

    /// MSE as `mean((ŷ − y) ⊙ (ŷ − y))`: the loss rounds exactly as the fused kernel (same
    /// differences, squares and sum order), but its gradient is `(g/n)·d + (g/n)·d` from the
    /// tape (two uses of `d`), against `2d/n·g` fused, rounded differently: tolerance 1e-6
    /// of the largest gradient (a few ulps).
    @Test("mean squared error from primitives matches the fused op")
    func meanSquaredErrorFromPrimitives() throws {
        let prediction = randomMatrix(64, 1, seed: 1, as: Float.self)
        let target = Tensor(randomMatrix(64, 1, seed: 2, as: Float.self))

        let fusedInput = Tensor(prediction, requiresGrad: true)
        let fused = fusedInput.meanSquaredError(target: target)
        fused.backward()

        let input = Tensor(prediction, requiresGrad: true)
        let difference = input - target
        let composed = (difference * difference).mean()
        composed.backward()

        #expect(composed.scalar.bitPattern == fused.scalar.bitPattern)
        let a = try #require(input.grad), b = try #require(fusedInput.grad)
        let scale = b.storage.map { abs($0) }.max() ?? 1
        let worst = zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-6 * scale, "worst gradient difference \(worst), largest gradient \(scale)")
    }
}
