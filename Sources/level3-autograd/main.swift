// level3-autograd — train the network with a tape-based autograd Tensor (Level 3), PyTorch's way
// (`loss.backward()`, `.grad`) or TensorFlow's (`GradientTape`, `einsum`).
//
// Teaches: nothing new by itself; the lesson is in the Level3Autograd target.
// Leaves out: everything but parsing the options and calling the style.
//
//     swift run -c release level3-autograd --epochs 3
//     swift run -c release level3-autograd --task regression
//     swift run -c release level3-autograd --style gradient-tape

import ArgumentParser
import Level3Autograd
import Level3Differentiable
import Shared
import TrainingCLI

/// The styles of Level 3 (compare-levels' ids).
enum Style: String, CaseIterable, ExpressibleByArgument {
    /// Raw tensors with `requiresGrad`, `loss.backward()`, `.grad`, the update under no-grad.
    case autograd
    /// Variables, a `GradientTape`, `tape.gradient(loss, variables)`, `assignSub`; `einsum`.
    case gradientTape = "gradient-tape"
    /// A pure loss function, `valueWithGradient` (the compiler's derivative), a functional update.
    case differentiable

    var title: String {
        switch self {
        case .autograd: return "Level 3 — autograd (PyTorch style)"
        case .gradientTape: return "Level 3 — GradientTape and einsum (TensorFlow style)"
        case .differentiable: return "Level 3 — differentiable functions and valueWithGradient (JAX style)"
        }
    }

    var run: (TrainingJob) throws -> TrainedLevel {
        switch self {
        case .autograd: return { try AutogradNetwork.run($0) }
        case .gradientTape: return { try GradientTapeNetwork.run($0) }
        case .differentiable: return { try DifferentiableNetwork.run($0) }
        }
    }
}

struct Level3AutogradCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "level3-autograd",
        abstract: "Level 3: tensors record a tape; loss.backward() or tape.gradient computes the gradients.")

    @OptionGroup var options: TrainingOptions

    @Option(help: "autograd (PyTorch: backward, .grad), gradient-tape (TensorFlow: GradientTape, einsum) or differentiable (JAX: valueWithGradient).")
    var style: Style = .autograd

    func run() throws {
        try runSingleLevel(level: 3, style: style.rawValue, title: style.title, options: options, run: style.run)
    }
}

Level3AutogradCommand.mainWithOneLineErrors()
