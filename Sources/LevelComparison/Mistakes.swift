// Mistakes.swift — compare-levels --mistake: a classic mistake run beside the clean run.
//
// Teaches: why the rules exist, by breaking one at a time. Each mistake is the clean style with
// one thing changed — a line forgotten, the wrong loss, the wrong data, the wrong start — run
// from the same weights and batches as the clean style, so the first step where the two part
// says exactly where the mistake bites, and the loss curves (mistake.png) show what it does
// after.
// Leaves out: mistakes that only cost time or memory without changing a number (evaluating in
// training mode: this network has no dropout or batch norm to notice).

import Charts
import Level1HighLevel
import Level2Modules
import Level3Autograd
import Shared
import TrainingCLI

/// One classic mistake: which style it breaks, how, and why the rule exists.
public struct Mistake: Sendable {
    public var id: String
    /// The style whose clean run it is compared with.
    public var style: String
    /// What is done wrong, in one line.
    public var summary: String
    /// Two or three sentences on why the rule exists.
    public var why: String
    /// Only for this task (nil: both).
    public var task: Task?
    /// The mistaken run of the job.
    public var run: @Sendable (TrainingJob) throws -> TrainedLevel

    public init(id: String, style: String, summary: String, why: String, task: Task? = nil,
                run: @escaping @Sendable (TrainingJob) throws -> TrainedLevel) {
        (self.id, self.style, self.summary, self.why, self.task, self.run) = (id, style, summary, why, task, run)
    }
}

extension Mistake {
    public static let all: [Mistake] = [
        Mistake(id: "forgot-zero-grad", style: "modules",
                summary: "the loop never calls optimizer.zeroGrad(): each backward() adds to the last step's gradients",
                why: "backward() accumulates into .grad on purpose (a tensor used twice needs both contributions), "
                    + "so a loop must clear the gradients before each backward. Without it, step 2 descends along "
                    + "g1 + g2, step 3 along g1 + g2 + g3: a momentum that never decays. It can even look faster "
                    + "at first; then the steps keep growing and training diverges.",
                run: { job in
                    try ModulesNetwork.run(job, optimizer: { parameters in
                        ForgetfulOptimizer(SGD(parameters: parameters, learningRate: Float(job.recipe.learningRate)))
                    })
                }),
        Mistake(id: "softmax-before-cross-entropy", style: "modules", summary:
                "the model applies softmax itself, then CrossEntropyLoss (which expects logits) applies it again",
                why: "PyTorch's CrossEntropyLoss (like Keras's from_logits=True) takes logits and applies the softmax "
                    + "inside, fused with the log. Feeding it probabilities squashes them into [0, 1] logits: the loss "
                    + "can no longer get near 0 and its gradients shrink, so training crawls.",
                task: .classification,
                run: { try ModulesNetwork.run($0, criterion: SoftmaxThenCrossEntropy()) }),
        Mistake(id: "summed-loss", style: "modules",
                summary: "the batch loss is summed over the samples instead of averaged",
                why: "A summed loss makes every gradient B times larger (64× here), so the learning rate that suits a "
                    + "mean loss is 64× too large; it also ties the step size to the batch size, and the last, "
                    + "smaller batch takes a smaller step. Frameworks average by default for this reason.",
                run: { try ModulesNetwork.run($0, criterion: SummedLoss()) }),
        Mistake(id: "dropped-last-batch", style: "modules",
                summary: "each epoch's last, partial batch is dropped (DataLoader(drop_last=True))",
                why: "With 60,000 samples and batches of 64, the last batch of each epoch has 32 samples; dropping it "
                    + "skips a different 32 each epoch and shifts every later step. It is harmless for accuracy, "
                    + "but it breaks the contract of every style seeing every sample: the runs part at the first "
                    + "dropped batch.",
                run: { job in
                    var job = job
                    job.recipe.dropLast = true
                    return try ModulesNetwork.run(job)
                }),
        Mistake(id: "truncated-glorot", style: "keras",
                summary: "the model starts from Keras's truncated Glorot normal instead of the plain one PyTorch uses",
                why: "Both have variance 2/(fan_in + fan_out), but Keras's GlorotNormal redraws beyond 2σ and rescales: "
                    + "different numbers from the first weight on. Porting a model with the same-named initializer starts "
                    + "it elsewhere, so two frameworks' runs cannot agree step by step.",
                run: { job in
                    var job = job
                    job.initialParameters = .initialized(shape: job.initialParameters.shape, seed: job.recipe.seed,
                                                         scheme: .truncatedNormal)
                    return try KerasNetwork.run(job)
                }),
        Mistake(id: "unscaled-inputs", style: "modules",
                summary: "the pixels go in as 0…255 instead of 0…1",
                why: "Glorot's scale assumes inputs of order 1. With pixels up to 255 the first layer's "
                    + "pre-activations are hundreds of times larger, nearly every tanh unit saturates at ±1 where its "
                    + "slope is 0, and learning stalls. Scale (or standardise) the inputs first.",
                task: .classification,
                run: { job in
                    var job = job
                    job.train = job.train.scaled(by: 255)
                    job.test = job.test.scaled(by: 255)
                    return try ModulesNetwork.run(job)
                }),
    ]

    /// The mistake called `id`, if there is one.
    public static func named(_ id: String) -> Mistake? { all.first { $0.id == id } }

    /// `--mistake list`: one line per mistake, with the style it breaks.
    public static var listText: String {
        let width = all.map(\.id.count).max() ?? 0
        return all.map { "\($0.id.padding(toLength: width, withPad: " ", startingAt: 0))  (\($0.style)"
            + ($0.task.map { ", \($0.rawValue) only" } ?? "") + ")  \($0.summary)" }.joined(separator: "\n")
    }
}

// MARK: - The broken pieces

/// An optimizer whose `zeroGrad()` does nothing: the loop's `optimizer.zeroGrad()` line might as
/// well not be there. `step()` is the wrapped optimizer's.
final class ForgetfulOptimizer: Optimizer {
    let wrapped: any Optimizer<Float>
    init(_ wrapped: any Optimizer<Float>) { self.wrapped = wrapped }
    /// None: `zeroGrad()` walks this list, so it clears nothing.
    var parameters: [Tensor<Float>] { [] }
    func step() { wrapped.step() }
}

/// `softmax(z)` computed by the model (Level 1's softmax activation, from tape ops), then
/// `CrossEntropyLoss`, which applies softmax again.
struct SoftmaxThenCrossEntropy: Loss {
    func callAsFunction(_ logits: Tensor<Float>, _ target: LossTarget<Float>) -> Tensor<Float> {
        CrossEntropyLoss()(Activation.softmax(logits), target)               // probabilities as "logits"
    }
}

/// The task's mean loss times the batch size: the sum over the batch.
struct SummedLoss: Loss {
    func callAsFunction(_ output: Tensor<Float>, _ target: LossTarget<Float>) -> Tensor<Float> {
        let batchSize = Float(output.value.rows)
        switch target {
        case .classes: return CrossEntropyLoss()(output, target) * batchSize
        case .values: return MSELoss()(output, target) * batchSize
        }
    }
}

// MARK: - Running one beside the clean run

/// What `--mistake` found.
public struct MistakeReport: Codable, Sendable {
    public var mistake: String
    public var style: String
    public var summary: String
    public var why: String
    /// The first step (from 1) whose loss differs from the clean run's; nil if none did.
    public var firstDifferentStep: Int?
    /// The step losses there: clean, mistaken.
    public var lossesThere: [Double]?
    /// The weight tensor that differs most at the end (relative to its largest clean value).
    public var mostDifferentTensor: String?
    public var cleanSteps: Int
    public var mistakenSteps: Int
    public var cleanFinal: EpochRecord?
    public var mistakenFinal: EpochRecord?
    /// Why the mistaken run stopped early (divergence), if it did.
    public var mistakenStopped: String?
    /// The step losses of both runs (mistake.png), not written to summary.json.
    public var cleanLosses: [Double] = []
    public var mistakenLosses: [Double] = []

    enum CodingKeys: String, CodingKey {
        case mistake, style, summary, why, firstDifferentStep, lossesThere, mostDifferentTensor, cleanSteps,
             mistakenSteps, cleanFinal, mistakenFinal, mistakenStopped
    }

    /// Runs the mistake from `job` and compares it with the clean style's run of the same job
    /// (`clean`; run here when not given).
    public static func run(_ mistake: Mistake, job: TrainingJob, clean: TrainedLevel? = nil) throws -> MistakeReport {
        guard let style = Style.named(mistake.style) else {
            throw NeuralLevelsError.failure("mistake \(mistake.id): no style \(mistake.style)")
        }
        let clean = try clean ?? style.run(job)
        var mistakenJob = job
        mistakenJob.style = "\(mistake.style) with mistake \(mistake.id)"
        let mistaken = try mistake.run(mistakenJob)
        let (a, b) = (clean.result.stepLosses, mistaken.result.stepLosses)
        var first: Int? = a.count == b.count ? nil : min(a.count, b.count) + 1
        if let index = (0..<min(a.count, b.count)).first(where: { a[$0].bitPattern != b[$0].bitPattern }) {
            first = index + 1
        }
        let tensor = zip(clean.parameters.namedTensors, mistaken.parameters.namedTensors).map { cleanTensor, other in
            let scale = cleanTensor.matrix.storage.map { abs(Double($0)) }.max() ?? 1
            let difference = zip(cleanTensor.matrix.storage, other.matrix.storage).map { abs(Double($0) - Double($1)) }.max() ?? 0
            return (name: cleanTensor.name, relative: scale > 0 ? difference / scale : difference)
        }.max { $0.relative < $1.relative }
        return MistakeReport(
            mistake: mistake.id, style: mistake.style, summary: mistake.summary, why: mistake.why,
            firstDifferentStep: first,
            lossesThere: first.flatMap { $0 <= min(a.count, b.count) ? [a[$0 - 1], b[$0 - 1]] : nil },
            mostDifferentTensor: (tensor?.relative ?? 0) > 0 ? tensor?.name : nil,
            cleanSteps: a.count, mistakenSteps: b.count,
            cleanFinal: clean.result.epochs.last, mistakenFinal: mistaken.result.epochs.last,
            mistakenStopped: mistaken.result.stopError?.description, cleanLosses: a, mistakenLosses: b)
    }

    /// The lines compare-levels prints.
    public var text: String {
        var lines = ["Mistake \(mistake) (style \(style)): \(summary).", ""]
        if let step = firstDifferentStep {
            lines.append("The runs part at step \(step)"
                + (lossesThere.map { ": loss \(format($0[0], 6)) clean, \(format($0[1], 6)) with the mistake" } ?? "")
                + (mostDifferentTensor.map { "; at the end \($0) differs most" } ?? "") + ".")
        } else {
            lines.append("The runs never part: every step's loss is the same.")
        }
        func describe(_ record: EpochRecord?) -> String {
            guard let record else { return "no epoch completed" }
            return "train loss \(format(record.trainLoss, 4)), test loss \(format(record.testLoss, 4))"
                + (record.testAccuracy.map { ", test accuracy \(format($0, 4))" } ?? "")
                + (record.testR2.map { ", test R² \(format($0, 4))" } ?? "")
        }
        lines.append("After \(cleanSteps) steps clean: \(describe(cleanFinal)).")
        lines.append("After \(mistakenSteps) steps with the mistake: \(describe(mistakenFinal))"
                     + (mistakenStopped.map { " — stopped: \($0)" } ?? "") + ".")
        lines += ["", "Why the rule exists: \(why)"]
        return lines.joined(separator: "\n")
    }

    /// `mistake.png`: both runs' step losses.
    public var chart: LineChart {
        LineChart(title: "Mistake \(mistake): loss at every step, clean and mistaken (\(style))",
                  xLabel: "training step", yLabel: "batch loss", yScale: .logarithmic,
                  series: [LineSeries(name: "\(style), clean", values: cleanLosses),
                           LineSeries(name: "\(style), \(mistake)", values: mistakenLosses)])
    }
}

extension Dataset where Scalar == Float {
    /// The same samples with every input multiplied by `factor` (`unscaled-inputs`: ×255 undoes
    /// the loader's `byte / 255`).
    fileprivate func scaled(by factor: Float) -> Dataset {
        var scaled = self
        let inputs = self.inputs
        scaled.inputs = Matrix(rows: inputs.rows, columns: inputs.columns, storage: inputs.storage.map { $0 * factor })
        return scaled
    }
}
