// Mistakes.swift — compare-levels --mistake: a classic mistake run beside the clean run.
//
// Teaches: why the rules exist, by breaking one at a time. Each mistake is the clean style with
// one thing changed — a line forgotten, the wrong loss, the wrong data, the wrong start — run
// from the same weights and batches as the clean style, so the first step where the two part
// says exactly where the mistake bites, and the loss curves (mistake.png) show what it does
// after.
// One mistake changes no number at all: `update-on-tape` costs memory, so for it the report and
// mistake.png show the memory the parameters' graph holds after every step beside the clean
// run's, and its run is kept short (the memory grows without end). For a Level 4 mistake the
// report also names the first tensor of step 1 that differs (the backward buffers dz3 … dz1,
// then the gradients).
// Leaves out: mistakes that only cost time (evaluating in training mode: this network has no
// dropout or batch norm to notice).

import Charts
import Level1HighLevel
import Level2Modules
import Level3Autograd
import Level4Manual
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
    /// For a mistake that costs memory: the clean (`false`) or the mistaken (`true`) loop, with
    /// the memory measured after every step. The mistaken run is then this one, not ``run``.
    public var measuredRun: (@Sendable (_ job: TrainingJob, _ mistaken: Bool) throws -> MeasuredRun)?
    /// For a Level 4 mistake: the first tensor of step 1 that differs from the clean step's.
    public var firstDifferentTensor: (@Sendable (TrainingJob) -> String?)?

    public init(id: String, style: String, summary: String, why: String, task: Task? = nil,
                run: @escaping @Sendable (TrainingJob) throws -> TrainedLevel,
                measuredRun: (@Sendable (TrainingJob, Bool) throws -> MeasuredRun)? = nil,
                firstDifferentTensor: (@Sendable (TrainingJob) -> String?)? = nil) {
        (self.id, self.style, self.summary, self.why, self.task, self.run) = (id, style, summary, why, task, run)
        (self.measuredRun, self.firstDifferentTensor) = (measuredRun, firstDifferentTensor)
    }
}

/// A run with the memory its graph held after every step (``Mistake/measuredRun``).
public struct MeasuredRun: Sendable {
    public var trained: TrainedLevel
    public var memory: [GraphMemory]
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
                why: "When the batch size does not divide the samples (60,000 in batches of 64 leave a last batch of 32), "
                    + "dropping the last batch skips different samples each epoch and shifts every later step. It is harmless for accuracy, "
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
        Mistake(id: "update-on-tape", style: "autograd",
                summary: "the update w = w − lr·w.grad runs on the tape (no withNoGrad, as without torch.no_grad()): "
                    + "every step's graph stays reachable from the parameters",
                why: "Recorded on the tape, the new w is no longer a leaf but the result of an op whose input is the old "
                    + "w, so every parameter keeps the whole chain of its past values alive, and each backward() walks it "
                    + "back to the start. No number changes (here the recorded op computes the very update the clean "
                    + "loop does); the memory grows by a copy of the parameters every step until the program dies. "
                    + "Updates and evaluation go under no_grad.",
                run: { try UpdateOnTape.run($0, mistaken: true).trained },
                measuredRun: { try UpdateOnTape.run($0, mistaken: $1) }),
        Mistake(id: "tanh-derivative-of-z", style: "manual",
                summary: "the hand-written tanh backward uses the pre-activation: dz1 = da1 ⊙ (1 − z1²) instead of (1 − a1²)",
                why: "tanh's derivative is 1 − tanh²(z) = 1 − a², a function of the activation, which is why the forward "
                    + "pass keeps a1. With z1 in its place the slope is wrong wherever z1 is not small, and for |z1| > 1 "
                    + "it is negative: those units climb the loss instead of descending it, their pre-activations grow, "
                    + "and the error feeds itself until the loss is NaN. Only fc1's gradient is wrong, so after step 1 "
                    + "fc2 and fc3 are still the clean run's; a gradient check (finite differences) catches it at once.",
                run: { try TanhDerivativeOfZ.run($0) },
                firstDifferentTensor: { TanhDerivativeOfZ.firstDifferentTensor($0) }),
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

// MARK: update-on-tape

/// The memory a graph holds beyond the parameters themselves: the tensors reachable from the
/// parameters through `parents`, and the distinct matrices (values and gradients) they keep.
public struct GraphMemory: Sendable, Equatable, Codable {
    /// Tensors reachable from the parameters, not counting the parameters.
    public var tensors: Int
    /// Bytes of the distinct matrices those tensors hold.
    public var bytes: Int

    public init(tensors: Int, bytes: Int) { (self.tensors, self.bytes) = (tensors, bytes) }

    /// Walks the graph from `parameters` (a clean autograd loop's parameters are leaves: zero).
    init(reachableFrom parameters: [Tensor<Float>]) {
        var visited = Set(parameters.map(ObjectIdentifier.init))
        var buffers = Set<UInt>()                           // a matrix shared by two tensors counts once
        var pending = parameters.flatMap(\.parents)
        (tensors, bytes) = (0, 0)
        while let tensor = pending.popLast() {
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            tensors += 1
            for matrix in [tensor.value] + (tensor.grad.map { [$0] } ?? []) {
                let address = matrix.storage.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
                if buffers.insert(address).inserted { bytes += matrix.count * MemoryLayout<Float>.size }
            }
            pending += tensor.parents
        }
    }
}

/// The `autograd` style's loop, with the update by hand under no-grad (clean, as
/// `AutogradNetwork.update()`) or recorded on the tape (the mistake), for at most
/// ``stepLimit`` steps, measuring the parameters' graph after every step.
enum UpdateOnTape {
    /// The mistaken graph grows by a copy of the parameters a step (0.44 MB for the classifier):
    /// 100 steps hold 44 MB, 10 epochs (9,380 steps) would hold 4 GB.
    static let stepLimit = 100

    static func run(_ job: TrainingJob, mistaken: Bool) throws -> MeasuredRun {
        let network = AutogradNetwork(parameters: job.initialParameters, learningRate: Float(job.recipe.learningRate))
        var parameters = network.parameters                            // w1, b1, w2, b2, w3, b3
        var memory: [GraphMemory] = []
        let trainLoader = job.makeTrainLoader()
        let log = TrainingLog(job)
        try log.run {
            epochs: for epoch in job.epochs {
                for batch in trainLoader.batches(epoch: epoch) {
                    let z3 = forward(parameters, Tensor(batch.inputs))     // x: [B, I] → z3: [B, O]
                    let (loss, _) = network.loss(z3, batch)
                    loss.backward()
                    if mistaken {
                        parameters = parameters.map { $0.steppedOnTape(learningRate: network.learningRate) }
                    } else {
                        network.update()                                  // under withNoGrad, in place
                    }
                    memory.append(GraphMemory(reachableFrom: parameters))
                    try log.step(loss.scalar, outputs: z3.value, batch: batch)
                    if memory.count == stepLimit { break epochs }
                }
                try log.epochEnded(evaluate(parameters, network, on: job.test))
            }
            if memory.count == stepLimit { try log.epochEnded(evaluate(parameters, network, on: job.test)) }
        }
        let trained = TrainedLevel(result: log.result, parameters: NetworkParameters(
            shape: job.initialParameters.shape, checkpointOrder: parameters.map(\.value)))
        return MeasuredRun(trained: trained, memory: memory)
    }

    /// `AutogradNetwork`'s forward pass, on parameters that may be replaced by new tensors.
    static func forward(_ p: [Tensor<Float>], _ x: Tensor<Float>) -> Tensor<Float> {
        let h1 = (x.matmul(p[0], transposeB: true) + p[1]).tanh()           // [B, H1]
        let h2 = (h1.matmul(p[2], transposeB: true) + p[3]).sigmoid()       // [B, H2]
        return h2.matmul(p[4], transposeB: true) + p[5]                     // [B, O]
    }

    static func evaluate(_ p: [Tensor<Float>], _ network: AutogradNetwork<Float>,
                         on data: Dataset<Float>) -> EvaluationTotals {
        withNoGrad {
            var totals = EvaluationTotals()
            for batch in data.chunks(of: 1000) {
                let (loss, outputs) = network.loss(forward(p, Tensor(batch.inputs)), batch)
                totals.add(loss: loss.scalar, outputs: outputs, batch: batch)
            }
            return totals
        }
    }
}

extension Tensor where T == Float {
    /// `w − lr·w.grad` as an op on the tape (what `w = w - lr * w.grad` records outside
    /// `torch.no_grad()`): the value is Shared's `sgdUpdate`, the clean update's very numbers, and
    /// the result's parent is the old `w` (∂(w − lr·g)/∂w = 1, g being data), so the old `w`
    /// stays alive, and with it every earlier one.
    fileprivate func steppedOnTape(learningRate: Float) -> Tensor {
        let w = self
        var value = w.value
        if let gradient = w.grad { sgdUpdate(&value, gradient: gradient, learningRate: learningRate) }
        return Tensor(value, operation: "w − lr·w.grad", parents: [w]) { g in w.accumulateGradient(g) }
    }
}

// MARK: tanh-derivative-of-z

/// Level 4's loop with one line of the backward pass wrong: `tanhBackward` given `z1`, so
/// `dz1 = da1 ⊙ (1 − z1²)`.
enum TanhDerivativeOfZ {
    static func run(_ job: TrainingJob) throws -> TrainedLevel {
        var network = ManualNetwork(parameters: job.initialParameters, learningRate: Float(job.recipe.learningRate))
        let trainLoader = job.makeTrainLoader()
        let log = TrainingLog(job)
        try log.run {
            for epoch in job.epochs {
                for batch in trainLoader.batches(epoch: epoch) {
                    let loss = network.forward(batch)
                    _ = backward(&network, batch)                        // the mistake is in here
                    network.update()
                    try log.step(loss, outputs: network.z3, batch: batch)
                }
                try log.epochEnded(network.evaluate(on: job.test))
            }
        }
        return TrainedLevel(result: log.result, parameters: network.parameters)
    }

    /// `ManualNetwork.backward(_:)` with the tanh line wrong (see ``SlippedBackward``).
    static func backward(_ network: inout ManualNetwork<Float>, _ batch: Batch<Float>) -> [(String, Matrix<Float>)] {
        SlippedBackward.backward(&network, batch, derivativeOfZ: .tanh)
    }

    /// The first of step 1's backward buffers (then gradients) that differs from the clean step's.
    static func firstDifferentTensor(_ job: TrainingJob) -> String? {
        guard let batch = job.makeTrainLoader().batches(epoch: 1).first(where: { _ in true }) else { return nil }
        var clean = ManualNetwork(parameters: job.initialParameters, learningRate: Float(job.recipe.learningRate))
        var mistaken = clean
        _ = clean.forward(batch)
        clean.backward(batch)
        _ = mistaken.forward(batch)
        let buffers = backward(&mistaken, batch)
        let cleanBuffers = [("dz3", clean.dz3), ("da2", clean.da2), ("dz2", clean.dz2), ("da1", clean.da1),
                            ("dz1", clean.dz1)] + clean.gradients.namedTensors.reversed().map { ("∂ℓ/∂" + $0.name, $0.matrix) }
        func bits(_ matrix: Matrix<Float>) -> [UInt32] { matrix.storage.map(\.bitPattern) }
        return zip(cleanBuffers, buffers).first { bits($0.0.1) != bits($0.1.1) }?.0.0
    }
}

// MARK: - A derivative taken from z

/// Level 4's backward pass, `ManualNetwork.backward(_:)` line for line, with one activation's
/// derivative computed from its input `z` where its output `a` belongs: `tanhBackward` and
/// `sigmoidBackward` take the layer's *output*, and handing them the input is an easy slip, since
/// both are `[B, H]`. compare-levels' `tanh-derivative-of-z` trains with it (Float); gradcheck's
/// `--mistake` checks its gradients (Double).
enum SlippedBackward {
    /// Which activation's derivative takes `z`.
    enum Derivative: Sendable { case tanh, sigmoid }

    /// Fills `network.gradients` (after `network.forward(batch)`) with the slip in it; returns
    /// the buffers it filled, in order, by name: `dz3 … dz1`, then `∂ℓ/∂fc3.bias … ∂ℓ/∂fc1.weight`.
    static func backward<T: NeuralScalar>(_ network: inout ManualNetwork<T>, _ batch: Batch<T>,
                                          derivativeOfZ slip: Derivative) -> [(String, Matrix<T>)] {
        let (rows, sizes) = (batch.count, network.parameters.shape.sizes)
        var dz3 = Matrix<T>(rows: rows, columns: sizes[3])                                      // [B, O]
        var (da2, dz2) = (Matrix<T>(rows: rows, columns: sizes[2]), Matrix<T>(rows: rows, columns: sizes[2]))   // [B, H2]
        var (da1, dz1) = (Matrix<T>(rows: rows, columns: sizes[1]), Matrix<T>(rows: rows, columns: sizes[1]))   // [B, H1]
        switch network.parameters.shape.task {
        case .classification: softmaxCrossEntropyBackward(probabilities: network.p, labels: batch.labels, into: &dz3)
        case .regression: meanSquaredErrorBackward(predictions: network.z3, targets: batch.targets, into: &dz3)
        }
        linearBackward(dz3, input: network.a2, layer: network.parameters.fc3, gradient: &network.gradients.fc3, inputGradient: &da2)
        sigmoidBackward(output: slip == .sigmoid ? network.z2 : network.a2, outputGradient: da2, into: &dz2)  // slip: z2
        linearBackward(dz2, input: network.a1, layer: network.parameters.fc2, gradient: &network.gradients.fc2, inputGradient: &da1)
        tanhBackward(output: slip == .tanh ? network.z1 : network.a1, outputGradient: da1, into: &dz1)        // slip: z1
        linearBackward(dz1, input: batch.inputs, gradient: &network.gradients.fc1)
        return [("dz3", dz3), ("da2", da2), ("dz2", dz2), ("da1", da1), ("dz1", dz1)]
            + network.gradients.namedTensors.reversed().map { ("∂ℓ/∂" + $0.name, $0.matrix) }
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
    /// A Level 4 mistake: the first tensor of step 1 that differs (`dz1`).
    public var firstDifferentTensor: String?
    /// A memory mistake: the first step (from 1) after which the parameters' graph holds other
    /// memory than the clean run's.
    public var firstMemoryDifferentStep: Int?
    /// A memory mistake: the parameters' graph after the last step, clean and mistaken.
    public var cleanMemoryAtEnd: GraphMemory?
    public var mistakenMemoryAtEnd: GraphMemory?
    /// The step losses of both runs (mistake.png), not written to summary.json.
    public var cleanLosses: [Double] = []
    public var mistakenLosses: [Double] = []
    /// A memory mistake: the parameters' graph after every step (mistake.png), not written to summary.json.
    public var cleanMemory: [GraphMemory] = []
    public var mistakenMemory: [GraphMemory] = []

    enum CodingKeys: String, CodingKey {
        case mistake, style, summary, why, firstDifferentStep, lossesThere, mostDifferentTensor, cleanSteps,
             mistakenSteps, cleanFinal, mistakenFinal, mistakenStopped, firstDifferentTensor,
             firstMemoryDifferentStep, cleanMemoryAtEnd, mistakenMemoryAtEnd
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
        let mistaken: TrainedLevel
        var (cleanMemory, mistakenMemory) = ([GraphMemory](), [GraphMemory]())
        if let measuredRun = mistake.measuredRun {               // a memory mistake: both runs measured
            let run = try measuredRun(mistakenJob, true)
            (mistaken, mistakenMemory) = (run.trained, run.memory)
            var quiet = job                                      // measured only: no second progress line
            quiet.onEvent = { _ in }
            cleanMemory = try measuredRun(quiet, false).memory
        } else {
            mistaken = try mistake.run(mistakenJob)
        }
        let (a, b) = (clean.result.stepLosses, mistaken.result.stepLosses)
        // A shorter mistaken run parts where it stops, unless it was cut short on purpose (memory).
        var first: Int? = a.count == b.count || mistake.measuredRun != nil ? nil : min(a.count, b.count) + 1
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
            mistakenStopped: mistaken.result.stopError?.description,
            firstDifferentTensor: mistake.firstDifferentTensor?(job),
            firstMemoryDifferentStep: zip(cleanMemory, mistakenMemory).enumerated().first { $0.element.0 != $0.element.1 }
                .map { $0.offset + 1 },
            cleanMemoryAtEnd: cleanMemory.last, mistakenMemoryAtEnd: mistakenMemory.last,
            cleanLosses: a, mistakenLosses: b, cleanMemory: cleanMemory, mistakenMemory: mistakenMemory)
    }

    /// The lines compare-levels prints.
    public var text: String {
        var lines = ["Mistake \(mistake) (style \(style)): \(summary).", ""]
        if let step = firstDifferentStep {
            lines.append("The runs part at step \(step)"
                + (lossesThere.map { ": loss \(format($0[0], 6)) clean, \(format($0[1], 6)) with the mistake" } ?? "")
                + (mostDifferentTensor.map { "; at the end \($0) differs most" } ?? "") + ".")
        } else if mistakenMemory.isEmpty {
            lines.append("The runs never part: every step's loss is the same.")
        } else {
            lines.append("The losses never part: each of the \(mistakenSteps) steps' losses is the same bits "
                         + "as the clean run's.")
        }
        if let tensor = firstDifferentTensor {
            lines.append("The first tensor that differs is \(tensor), in step 1's backward pass.")
        }
        if let step = firstMemoryDifferentStep, let end = mistakenMemoryAtEnd, let cleanEnd = cleanMemoryAtEnd {
            func held(_ memory: GraphMemory) -> String { "\(memory.tensors) tensors, \(megabytes(memory.bytes))" }
            let there = mistakenMemory[step - 1]
            let perStep = mistakenMemory.count > 1
                ? Double(end.bytes - mistakenMemory[0].bytes) / Double(mistakenMemory.count - 1) : Double(end.bytes)
            lines.append("The memory parts at step \(step): after it the parameters' graph holds \(held(there)) "
                + "(clean: \(held(cleanMemory[step - 1]))); after step \(mistakenMemory.count), \(held(end)) "
                + "(clean: \(held(cleanEnd))), \(megabytes(Int(perStep))) more every step.")
            if mistakenMemory.count == UpdateOnTape.stepLimit {
                lines.append("The mistaken run stops after \(UpdateOnTape.stepLimit) steps on purpose: "
                             + "its memory never stops growing.")
            }
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

    /// `mistake.png`: both runs' step losses, or for a memory mistake, the memory the
    /// parameters' graph holds after every step.
    public var chart: LineChart {
        if !mistakenMemory.isEmpty {
            func megabytes(_ memory: [GraphMemory]) -> [Double] { memory.map { Double($0.bytes) / 1_000_000 } }
            return LineChart(title: "Mistake \(mistake): memory the parameters' graph holds after every step (\(style))",
                             xLabel: "training step", yLabel: "MB held beyond the parameters", yScale: .linear,
                             series: [LineSeries(name: "\(style), clean", values: megabytes(cleanMemory)),
                                      LineSeries(name: "\(style), \(mistake)", values: megabytes(mistakenMemory))])
        }
        return LineChart(title: "Mistake \(mistake): loss at every step, clean and mistaken (\(style))",
                  xLabel: "training step", yLabel: "batch loss", yScale: .logarithmic,
                  series: [LineSeries(name: "\(style), clean", values: cleanLosses),
                           LineSeries(name: "\(style), \(mistake)", values: mistakenLosses)])
    }
}

/// `437544` → `"0.44 MB"` (powers of 1000).
private func megabytes(_ bytes: Int) -> String {
    format(Double(bytes) / 1_000_000, 2) + " MB"
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

extension Mistake {
    /// What this mistake's run holds beyond a clean run's, for the memory check before training:
    /// `update-on-tape` keeps a copy of the weights for every step it runs (up to
    /// 100), `unscaled-inputs` a rescaled Float copy of the data.
    public func addMemory(to need: inout MemoryBudget.Need, inputValues: Int) {
        switch id {
        case "update-on-tape": need.weightCopies += UpdateOnTape.stepLimit
        case "unscaled-inputs": need.extraBytes += 4 * Double(inputValues)
        default: break
        }
    }
}
