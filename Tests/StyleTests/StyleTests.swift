// StyleTests.swift — every style of the registry, with its own loop, against `manual`: the same
// step losses, epoch numbers and final weights to the last bit, on both tasks, shuffled, with a
// partial last batch; the same stop at a non-finite loss and at Ctrl-C; and `--levels` parsing.
//
// Teaches: "the same computation" as a test: seven loops, written seven ways, one set of bits.
// Leaves out: the command line (CommandLineTests, ReliabilityTests run the executables).

import Foundation
import Level1HighLevel
import LevelComparison
import Shared
import Testing
import TestSupport

/// A slice of the task's data: 1,000 training samples (15 batches of 64 and a partial one of 40)
/// and 300 test samples.
func slice(_ task: Task) throws -> (train: Dataset<Float>, test: Dataset<Float>) {
    try slice(task, train: 1000, test: 300, regressionSeed: 9)
}

func makeJob(_ task: Task, recipe: Recipe = Recipe(epochs: 2, batchSize: 64, learningRate: 0.1, seed: 42, shuffle: true),
         shouldStop: @escaping () -> Bool = { false }) throws -> TrainingJob {
    let (train, test) = try slice(task)
    return TrainingJob(style: "test", train: train, test: test,
                       initialParameters: .glorotNormal(shape: .standard(for: task), seed: 42), recipe: recipe,
                       shouldStop: shouldStop)
}

/// The style's epoch records without their timings.
func numbers(_ epochs: [EpochRecord]) -> [[UInt64]] {
    epochs.map { [Double($0.epoch), $0.trainLoss, $0.testLoss, $0.testAccuracy ?? -1, $0.testR2 ?? -1].map(\.bitPattern) }
}

/// Counts what `fit` or `Trainer.fit` tells a user's callback.
final class StepRecorder: Callback {
    var batchLosses: [Double] = []
    var epochs: [Int] = []
    func onBatchEnd(_ batch: Int, logs: Logs, run: TrainingRun) throws { batchLosses.append(logs["batch_loss"] ?? .nan) }
    func onEpochEnd(_ epoch: Int, logs: Logs, run: TrainingRun) throws { epochs.append(epoch) }
}

@Suite("Every style against manual")
struct StyleAgreementTests {
    static let compared = Style.all.filter { $0.id != "manual" }.map(\.id)

    @Test("2 shuffled epochs, partial last batch: every step loss, epoch number and weight bitwise identical to manual",
          arguments: compared, Task.allCases)
    func agreesWithManual(style id: String, task: Task) throws {
        let style = try #require(Style.named(id))
        let job = try makeJob(task)
        let manual = try #require(Style.named("manual")).run(job)
        let trained = try style.run(job)
        #expect(trained.result.stopError == nil)
        #expect(trained.result.stepLosses.count == 2 * 16)                       // ⌈1000 / 64⌉ = 16 per epoch
        #expect(trained.result.stepLosses.map(\.bitPattern) == manual.result.stepLosses.map(\.bitPattern))
        #expect(numbers(trained.result.epochs) == numbers(manual.result.epochs))
        #expect(bits(trained.parameters) == bits(manual.parameters))
        #expect(trained.parameters != job.initialParameters)                    // it trained
        let agreement = compare(id, trained, with: manual, tolerance: 0)
        #expect(agreement.bitwiseIdentical && agreement.passed)
    }

    @Test("file order (no shuffle) and a batch larger than the data set: still bitwise", arguments: compared)
    func fileOrderAndWholeBatch(style id: String) throws {
        let style = try #require(Style.named(id))
        for recipe in [Recipe(epochs: 1, batchSize: 100, learningRate: 0.1, seed: 1, shuffle: false),
                       Recipe(epochs: 2, batchSize: 5000, learningRate: 0.5, seed: 1, shuffle: true)] {
            let job = try makeJob(.regression, recipe: recipe)
            let manual = try #require(Style.named("manual")).run(job)
            let trained = try style.run(job)
            #expect(trained.result.stepLosses == manual.result.stepLosses, "\(recipe)")
            #expect(bits(trained.parameters) == bits(manual.parameters), "\(recipe)")
        }
    }

    @Test("a diverging learning rate stops every style at manual's step, with the style named", arguments: compared)
    func divergence(style id: String) throws {
        let style = try #require(Style.named(id))
        let job = try makeJob(.regression, recipe: Recipe(epochs: 3, batchSize: 64, learningRate: 50, seed: 42))
        let manual = try #require(Style.named("manual")).run(job)
        var styleJob = job
        styleJob.style = id
        let trained = try style.run(styleJob)
        guard case let .diverged(name, epoch, step, _)? = trained.result.stopError,
              case let .diverged(_, manualEpoch, manualStep, _)? = manual.result.stopError else {
            Issue.record("\(id): expected divergence, got \(String(describing: trained.result.stopError))")
            return
        }
        #expect(name == id)
        #expect(epoch == manualEpoch && step == manualStep)
        #expect(trained.result.stepLosses == manual.result.stepLosses)
        #expect(trained.result.epochs.count == epoch - 1)
    }

    @Test("Ctrl-C after the 5th step: every style stops there, with its 5 step losses and no epoch", arguments: compared)
    func interruption(style id: String) throws {
        let style = try #require(Style.named(id))
        var steps = 0
        let job = try makeJob(.classification, shouldStop: { steps += 1; return steps == 5 })
        let trained = try style.run(job)
        #expect(trained.result.stopError == .failure("interrupted at epoch 1, step 5"))
        #expect(trained.result.stepLosses.count == 5 && trained.result.epochs.isEmpty)
    }
}

@Suite("Level 1 rows are fit and Trainer.fit")
struct HighLevelRowTests {
    @Test("a callback passed to fit sees every step and epoch of the keras row", arguments: Task.allCases)
    func fitCallbackSeesEveryStep(task: Task) throws {
        let job = try makeJob(task)
        let recorder = StepRecorder()
        let model = try KerasNetwork.makeModel(startingFrom: job.initialParameters, learningRate: job.recipe.learningRate)
        let trained = try KerasNetwork.fit(model, job, callbacks: [recorder])
        #expect(recorder.batchLosses.count == 32)
        #expect(recorder.batchLosses == trained.result.stepLosses)
        #expect(recorder.epochs == [1, 2])
        let row = try #require(Style.named("keras")).run(job)
        #expect(row.result.stepLosses == trained.result.stepLosses)
    }

    @Test("a callback given to the Trainer sees every step and epoch of the lightning row")
    func trainerCallbackSeesEveryStep() throws {
        let job = try makeJob(.classification)
        let recorder = StepRecorder()
        let trained = try LightningNetwork.run(job, callbacks: [recorder])
        #expect(recorder.batchLosses == trained.result.stepLosses && recorder.batchLosses.count == 32)
        #expect(recorder.epochs == [1, 2])
    }
}

@Suite("--levels")
struct LevelListTests {
    @Test("level numbers select every style of the level, style ids one; the order is kept")
    func parsing() throws {
        #expect(try Style.parseList("1").map(\.id) == ["keras", "keras-functional", "lightning"])
        #expect(try Style.parseList("gradient-tape,manual").map(\.id) == ["gradient-tape", "manual"])
        #expect(try Style.parseList("4, 1 ,modules").map(\.id) == ["manual", "keras", "keras-functional", "lightning", "modules"])
        #expect(try Style.parseList(Style.all.map(\.id).joined(separator: ",")).count == Style.all.count)
        #expect(try Style.parseList("1,2,3,4").map(\.id) == Style.all.map(\.id))
    }

    @Test("the reference is manual when it runs, else the first style of the lowest level")
    func reference() throws {
        #expect(Style.reference(among: try Style.parseList("manual,keras"))?.id == "manual")
        #expect(Style.reference(among: try Style.parseList("1"))?.id == "keras")
        #expect(Style.reference(among: try Style.parseList("lightning,gradient-tape,modules"))?.id == "gradient-tape")
    }

    @Test("bad lists are refused with one line", arguments: [
        ("1,1", "names the style keras twice"), ("keras,1", "names the style keras twice"), ("0", "no level 0"),
        ("5", "no level 5"), ("tape", "'tape' is not a level or a style"), ("", "'' is not a level or a style"),
        ("manual,", "'' is not a level or a style"),
    ])
    func badLists(text: String, message: String) {
        do {
            _ = try Style.parseList(text)
            Issue.record("'\(text)' was accepted")
        } catch {
            let description = "\(error)"
            #expect(description.contains(message), "\(description)")
            #expect(!description.contains("\n"))
        }
    }
}
