// AgreementTests.swift — Level 1 against Level 2, bit for bit: `fit`, `Trainer.fit`, the
// `train(job)` path of both styles, and the functional model against the Sequential one.

import Testing
import Level1HighLevel
import Level2Modules
import Level3Autograd
import Shared
import TestSupport

@Suite("Level 1: compile/fit and the Trainer agree with Level 2 bit for bit")
struct Level1AgreementTests {
    @Test("Sequential + compile + fit ends with Level 2's weights (2 epochs, 2,000 samples)", arguments: Task.allCases)
    func fitEqualsLevel2(task: Task) throws {
        let (train, test) = try slice(task)
        let reference = try level2Reference(task)
        let (model, history) = try kerasFit(train: train, test: test, initial: initialWeights(task),
                                                    recipe: agreementRecipe, verbose: 0)
        let weights = try model.currentParameters
        #expect(weights != initialWeights(task))
        #expect(bits(weights) == bits(reference.parameters))
        #expect(history.loss == reference.result.epochs.map(\.trainLoss))
    }

    @Test("TrainingModule + Trainer.fit ends with Level 2's weights", arguments: Task.allCases)
    func trainerEqualsLevel2(task: Task) throws {
        let (train, test) = try slice(task)
        let reference = try level2Reference(task)
        let (module, history) = try lightningFit(train: train, test: test, initial: initialWeights(task),
                                                         recipe: agreementRecipe, enableProgressBar: false)
        #expect(bits(module.currentParameters) == bits(reference.parameters))
        #expect(history.loss == reference.result.epochs.map(\.trainLoss))
        #expect(history.validationLoss.count == 2)
    }

    @Test("run(job), all three styles (fit, fit, Trainer.fit): Level 2's weights, step losses and epoch numbers",
          arguments: Task.allCases)
    func jobEqualsLevel2(task: Task) throws {
        let (train, test) = try slice(task)
        let reference = try level2Reference(task)
        let job = TrainingJob(style: "level 1", train: train, test: test, initialParameters: initialWeights(task),
                              recipe: agreementRecipe)
        for trained in [try KerasNetwork.run(job), try KerasFunctionalNetwork.run(job), try LightningNetwork.run(job)] {
            #expect(trained.result.stopError == nil)
            #expect(bits(trained.parameters) == bits(reference.parameters))
            #expect(trained.result.stepLosses == reference.result.stepLosses)
            #expect(trained.result.stepLosses.count == 2 * 32)                  // ⌈2000 / 64⌉ = 32 per epoch
            #expect(trained.result.epochs.map(\.trainLoss) == reference.result.epochs.map(\.trainLoss))
            #expect(trained.result.epochs.map(\.testLoss) == reference.result.epochs.map(\.testLoss))
            #expect(trained.result.epochs.map(\.testAccuracy) == reference.result.epochs.map(\.testAccuracy))
            #expect(trained.result.epochs.map(\.testR2) == reference.result.epochs.map(\.testR2))
        }
    }

    @Test("a default-seeded model starts from the shared initial weights", arguments: Task.allCases)
    func defaultSeedIsSharedInit(task: Task) throws {
        let shape = NetworkShape.standard(for: task)
        let model = try Sequential([
            Dense(shape.hidden[0], activation: .tanh), Dense(shape.hidden[1], activation: .sigmoid),
            Dense(shape.outputSize, activation: task == .classification ? .softmax : .linear),
        ], inputSize: shape.inputSize)
        #expect(try bits(model.currentParameters) == bits(initialWeights(task)))
        let other = try Sequential([Dense(8), Dense(2)], inputSize: 3, seed: 7)
        var generator = SeededGenerator(seed: 7, stream: .initialWeights)
        #expect(other.weights == [LinearParameters<Float>.glorotNormal(inputSize: 3, outputSize: 8, using: &generator),
                                  LinearParameters<Float>.glorotNormal(inputSize: 8, outputSize: 2, using: &generator)])
    }

    @Test("the functional model builds the same layers and trains to the same weights as Sequential",
          arguments: Task.allCases)
    func functionalEqualsSequential(task: Task) throws {
        let (train, test) = try slice(task)
        let shape = NetworkShape.standard(for: task)
        let head: Activation = task == .classification ? .softmax : .linear
        let input = Input(shape.inputSize)
        let h1 = Dense(shape.hidden[0], activation: .tanh)(input)
        let h2 = Dense(shape.hidden[1], activation: .sigmoid)(h1)
        let output = Dense(shape.outputSize, activation: head)(h2)
        let functional = try Model(inputs: input, outputs: output)
        let sequential = try Sequential([
            Dense(shape.hidden[0], activation: .tanh), Dense(shape.hidden[1], activation: .sigmoid),
            Dense(shape.outputSize, activation: head),
        ], inputSize: shape.inputSize)
        #expect(functional.namedParameters.map(\.name) == sequential.namedParameters.map(\.name))
        #expect(functional.namedParameters.map(\.name) == NetworkParameters<Float>.checkpointTensorNames)
        #expect(try bits(functional.currentParameters) == bits(sequential.currentParameters))

        let loss: LossFunction = task == .classification ? .sparseCategoricalCrossentropy : .meanSquaredError
        for model in [functional, sequential] {
            try model.compile(optimizer: .sgd(learningRate: 0.1), loss: loss)
            try model.fit(train, epochs: 2, batchSize: 64, validationData: test, verbose: 0)
        }
        #expect(try bits(functional.currentParameters) == bits(sequential.currentParameters))
        #expect(try bits(functional.currentParameters) == bits(try level2Reference(task).parameters))
    }

    @Test("fit(x:y:) with labels, with one-hot rows (categorical) and fit(Dataset) take the same steps")
    func inputFormsAgree() throws {
        let (train, _) = try slice(.classification)
        let small = train.prefix(300)
        var oneHot = Matrix<Float>(rows: small.count, columns: 10)
        for (row, label) in small.labels.enumerated() { oneHot[row, Int(label)] = 1 }

        func trained(_ loss: LossFunction, _ fit: (Level1HighLevel.Sequential<Float>) throws -> Void) throws -> NetworkParameters<Float> {
            let model = try KerasNetwork.makeModel(startingFrom: initialWeights(.classification), learningRate: 0.1)
            try model.compile(optimizer: .sgd(learningRate: 0.1), loss: loss, metrics: [.accuracy])
            try fit(model)
            return try model.currentParameters
        }
        let viaDataset = try trained(.sparseCategoricalCrossentropy) { try $0.fit(small, epochs: 2, batchSize: 64, verbose: 0) }
        let viaLabels = try trained(.sparseCategoricalCrossentropy) {
            try $0.fit(x: small.inputs, y: small.labels, epochs: 2, batchSize: 64, verbose: 0)
        }
        let viaOneHot = try trained(.categoricalCrossentropy) {
            try $0.fit(x: small.inputs, y: oneHot, epochs: 2, batchSize: 64, verbose: 0)
        }
        #expect(bits(viaLabels) == bits(viaDataset))
        #expect(bits(viaOneHot) == bits(viaDataset))
    }

    @Test("momentum SGD and Adam go through Level 2's optimizers")
    func otherOptimizersMatchLevel2() throws {
        let (train, _) = try slice(.regression)
        let small = train.prefix(256)
        let initial = initialWeights(.regression)
        for configuration in [OptimizerConfiguration.sgd(learningRate: 0.05, momentum: 0.9, nesterov: true),
                              .adam(learningRate: 0.01)] {
            let model = try KerasNetwork.makeModel(startingFrom: initial, learningRate: 0.1)
            try model.compile(optimizer: configuration, loss: .meanSquaredError)
            try model.fit(small, epochs: 2, batchSize: 64, verbose: 0)

            let mlp = MLP(initial)
            let optimizer: any Optimizer<Float>
            switch configuration {
            case .sgd: optimizer = SGD(parameters: mlp.parameters, learningRate: 0.05, momentum: 0.9, nesterov: true)
            case .adam: optimizer = Adam(parameters: mlp.parameters, learningRate: 0.01, epsilon: 1e-7)
            }
            let loader = BatchLoader(small, schedule: BatchSchedule(sampleCount: small.count, batchSize: 64,
                                                                    shuffle: true, seed: 42))
            for epoch in 1...2 {                                        // Level 2's loop, this optimizer
                for batch in loader.batches(epoch: epoch) {
                    optimizer.zeroGrad()
                    MSELoss()(mlp(Tensor(batch.inputs)), .values(Tensor(batch.targets))).backward()
                    optimizer.step()
                }
            }
            #expect(try bits(model.currentParameters) == bits(mlp.currentParameters))
        }
    }
}
