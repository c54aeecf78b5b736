// Explain.swift — compare-levels --explain: one training step with every number printed.
//
// Teaches: a training step is a few dozen numbers you can check with a calculator. On a network
// of 4 → 3 → 2 → 2 (or 3 → 3 → 2 → 1 for regression) and a batch of 2, it prints the inputs, the
// weights, every intermediate of the forward pass, the loss, every gradient of the backward pass
// and the updated weights — each with its formula, its shape and the Level 4 function that
// computed it — and then each chosen style's loss and updated weights beside Level 4's.
// Leaves out: the styles' own intermediates (a tape or a module keeps them out of reach, which
// is the point of the abstraction); they are shown to arrive at the same loss and weights.

import Foundation
import Level4Manual
import Shared

public enum Explanation {
    /// The network `--explain` uses for `task`: 4 → 3 → 2 → 2 (classification) or 3 → 3 → 2 → 1
    /// (`gradcheck` uses it too, with other hidden widths if asked).
    public static func shape(for task: Task, hidden: [Int] = [3, 2]) -> NetworkShape {
        task == .classification ? NetworkShape(task: task, inputSize: 4, hidden: hidden, outputSize: 2)
            : NetworkShape(task: task, inputSize: 3, hidden: hidden, outputSize: 1)
    }

    /// `count` samples (two for `--explain`) with inputs on a grid of 0.25 (easy to multiply by
    /// hand): classification labels 0, 1, 0, 1, …; regression targets from the synthetic formula
    /// without its noise. The first two samples are the same for every `count`.
    public static func batch(for task: Task, seed: UInt64, count: Int = 2) -> Dataset<Float> {
        var generator = SeededGenerator(seed: seed, stream: .custom(0xE7))
        let width = shape(for: task).inputSize
        let inputs = Matrix<Float>(rows: count, columns: width,
                                   storage: (0..<(count * width)).map { _ in Float(generator.nextInt(below: 9)) / 4 - 1 })
        switch task {
        case .classification:
            return .classification(inputs: inputs, labels: (0..<count).map { Int32($0 % 2) }, classCount: 2)
        case .regression:
            let targets = (0..<count).map { row -> Float in
                let (x1, x2, x3) = (inputs[row, 0], inputs[row, 1], inputs[row, 2])
                return Float.sin(Float.pi * x1) * x2 + x3 * x3                  // y = sin(πx₁)·x₂ + x₃²
            }
            return .regression(inputs: inputs, targets: Matrix(rows: count, columns: 1, storage: targets))
        }
    }

    /// The text `--explain` prints: every number of one SGD step, then each style of `styles`
    /// (other than `manual`) against Level 4.
    public static func text(task: Task, seed: UInt64, learningRate: Double, styles: [Style]) throws -> String {
        let shape = shape(for: task)
        let data = batch(for: task, seed: seed)
        let initial = NetworkParameters<Float>.glorotNormal(shape: shape, seed: seed)
        let batch = data.batch(rows: 0..<2)
        var network = ManualNetwork(parameters: initial, learningRate: Float(learningRate))
        let loss = network.forward(batch)
        network.backward(batch)
        let gradients = network.gradients
        network.update()

        var lines = ["One training step of \(shape.sizes.map(String.init).joined(separator: " → ")) (\(task.rawValue)), "
                     + "batch B = 2, learning rate \(learningRate), seed \(seed). Level 4's numbers (ManualNetwork.swift), "
                     + "as Float; each is the formula applied to the numbers above it.", ""]
        func show(_ name: String, _ formula: String, _ matrix: Matrix<Float>, _ source: String) {
            lines.append("\(name) [\(matrix.rows), \(matrix.columns)]   \(formula)   — \(source)")
            for row in 0..<matrix.rows {
                lines.append("    " + (0..<matrix.columns).map { "\(matrix[row, $0])" }.joined(separator: "  "))
            }
        }
        lines.append("Inputs and initial weights")
        show("x", "the batch's inputs", batch.inputs, "the data")
        lines.append(task == .classification ? "y  labels: \(batch.labels.map(String.init).joined(separator: ", "))"
                                             : "y [2, 1]   targets: \(batch.targets.storage.map { "\($0)" }.joined(separator: ", "))")
        for (name, tensor) in initial.namedTensors {
            show(name, name.hasSuffix("bias") ? "zeros" : "N(0, 2/(fan_in + fan_out)), seed \(seed)", tensor,
                 "NetworkParameters.glorotNormal")
        }

        lines += ["", "Forward"]
        show("z1", "x·W1ᵀ + b1", network.z1, "linearForward")
        show("a1", "tanh(z1)", network.a1, "tanhForward")
        show("z2", "a1·W2ᵀ + b2", network.z2, "linearForward")
        show("a2", "σ(z2) = 1/(1 + e^(−z2))", network.a2, "sigmoidForward")
        if task == .classification {
            show("z3", "a2·W3ᵀ + b3 (logits)", network.z3, "linearForward")
            show("p", "softmax(z3): e^z3 / Σ e^z3, row by row", network.p, "softmaxCrossEntropyForward")
            lines.append("ℓ = (1/B) Σᵢ −log pᵢ,yᵢ = \(loss)   — softmaxCrossEntropyForward")
        } else {
            show("ŷ = z3", "a2·W3ᵀ + b3", network.z3, "linearForward")
            lines.append("ℓ = (1/(B·O)) Σ (ŷ − y)² = \(loss)   — meanSquaredErrorForward")
        }

        lines += ["", "Backward (the chain rule, last layer first)"]
        show("dz3", task == .classification ? "(p − onehot(y)) / B" : "2(ŷ − y) / (B·O)", network.dz3,
             task == .classification ? "softmaxCrossEntropyBackward" : "meanSquaredErrorBackward")
        show("dW3", "dz3ᵀ·a2", gradients.fc3.weight, "linearBackward")
        show("db3", "Σ_rows dz3", gradients.fc3.bias, "linearBackward")
        show("da2", "dz3·W3", network.da2, "linearBackward")
        show("dz2", "da2 ⊙ a2 ⊙ (1 − a2)", network.dz2, "sigmoidBackward")
        show("dW2", "dz2ᵀ·a1", gradients.fc2.weight, "linearBackward")
        show("db2", "Σ_rows dz2", gradients.fc2.bias, "linearBackward")
        show("da1", "dz2·W2", network.da1, "linearBackward")
        show("dz1", "da1 ⊙ (1 − a1²)", network.dz1, "tanhBackward")
        show("dW1", "dz1ᵀ·x", gradients.fc1.weight, "linearBackward")
        show("db1", "Σ_rows dz1", gradients.fc1.bias, "linearBackward")

        lines += ["", "Update (SGD: w ← w − lr·dw)"]
        for (name, tensor) in network.parameters.namedTensors { show(name, "w − lr·dw", tensor, "sgdUpdate") }

        let others = styles.filter { $0.id != "manual" }
        if !others.isEmpty {
            lines += ["", "The same step in each style (its own loop, one batch), against Level 4:"]
            let job = TrainingJob(style: "explain", train: data, test: data, initialParameters: initial,
                                  recipe: Recipe(epochs: 1, batchSize: 2, learningRate: learningRate, seed: seed, shuffle: false),
                                  shouldStop: { true })                       // stop after the one step
            for style in others {
                let trained = try style.run(job)
                let styleLoss = trained.result.stepLosses.first ?? .nan
                let sameLoss = styleLoss.bitPattern == Double(loss).bitPattern
                let sameWeights = trained.parameters == network.parameters
                    && zip(trained.parameters.namedTensors, network.parameters.namedTensors).allSatisfy {
                        $0.matrix.storage.map(\.bitPattern) == $1.matrix.storage.map(\.bitPattern)
                    }
                lines.append("  \(style.label.padding(toLength: 28, withPad: " ", startingAt: 0)) loss \(Float(styleLoss))"
                             + (sameLoss ? " (= Level 4's, bit for bit)" : " (Level 4: \(loss))")
                             + (sameWeights ? "; updated weights = Level 4's, bit for bit" : "; updated weights DIFFER from Level 4's"))
            }
        }
        return lines.joined(separator: "\n")
    }
}
