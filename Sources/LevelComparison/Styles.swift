// Styles.swift — every way of writing the network, as the runner knows them.
//
// Teaches: that every style is, to the runner, the same thing: a function from a training job
// (shared data, shared initial weights, shared recipe) to a history and final weights, and, to
// gradcheck, a function from weights and a batch to a loss and its gradient (in Double). A style
// is one way a framework user writes and trains the network; a level (1–4) is how much the
// framework does for them. Adding a style is adding one entry here.
// Leaves out: how each style trains (each style's own network file) and hands over its gradient
// (StyleGradients.swift).

import ArgumentParser
import Level1HighLevel
import Level2Modules
import Level3Autograd
import Level3Differentiable
import Level4Manual
import Shared

/// One way of writing and training the network: a row of compare-levels.
public struct Style: Sendable, Identifiable {
    /// 1 (highest abstraction) to 4 (the chain rule by hand).
    public var level: Int
    /// The id used on the command line and in reports: "keras", "modules", "manual", ….
    public var id: String
    /// The framework idiom it stands for.
    public var idiom: String
    /// Trains this style on a job, with the style's own loop.
    public var run: @Sendable (TrainingJob) throws -> TrainedLevel
    /// The loss and its gradient at given weights on a batch, in Double, through the style's own
    /// idiom (StyleGradients.swift): what gradcheck checks.
    public var gradients: GradientFunction

    /// "Level 4 · manual".
    public var label: String { "Level \(level) · \(id)" }
}

extension Style {
    /// Every style, highest abstraction first; `manual` is the reference the others are checked against.
    public static let all: [Style] = [
        Style(level: 1, id: "keras", idiom: "Keras Sequential, compile, fit", run: { try KerasNetwork.run($0) },
              gradients: StyleGradients.keras(functional: false)),
        Style(level: 1, id: "keras-functional", idiom: "Keras functional API: Input → layers → Model, fit",
              run: { try KerasFunctionalNetwork.run($0) }, gradients: StyleGradients.keras(functional: true)),
        Style(level: 1, id: "lightning", idiom: "Lightning module + Trainer.fit", run: { try LightningNetwork.run($0) },
              gradients: { StyleGradients.lightning($0, $1) }),
        Style(level: 2, id: "modules", idiom: "PyTorch nn.Module, loss, optimizer, hand-written loop",
              run: { try ModulesNetwork.run($0) }, gradients: { StyleGradients.modules($0, $1) }),
        Style(level: 3, id: "autograd", idiom: "PyTorch raw autograd: requiresGrad, backward(), .grad",
              run: { try AutogradNetwork.run($0) }, gradients: { StyleGradients.autograd($0, $1) }),
        Style(level: 3, id: "gradient-tape", idiom: "TensorFlow GradientTape + einsum",
              run: { try GradientTapeNetwork.run($0) }, gradients: { try StyleGradients.gradientTape($0, $1) }),
        Style(level: 3, id: "differentiable", idiom: "JAX value_and_grad as Swift @differentiable + valueWithGradient",
              run: { try DifferentiableNetwork.run($0) }, gradients: { StyleGradients.differentiable($0, $1) }),
        Style(level: 4, id: "manual", idiom: "NumPy from scratch: forward and backward by hand",
              run: { try ManualNetwork.run($0) }, gradients: { StyleGradients.manual($0, $1) }),
    ]

    /// The style called `id`, if there is one.
    public static func named(_ id: String) -> Style? { all.first { $0.id == id } }

    /// The styles of level `level`, in registry order.
    public static func ofLevel(_ level: Int) -> [Style] { all.filter { $0.level == level } }

    /// The styles a `--levels` list names: level numbers (every style of that level) and style
    /// ids, comma-separated, in the order given, e.g. `1,modules,gradient-tape`.
    ///
    /// - Throws: `ValidationError` (one line, exit status 64) for an empty item, an unknown
    ///   level or style, or a style named twice.
    public static func parseList(_ text: String) throws -> [Style] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let known = "levels 1–4 or styles \(all.map(\.id).joined(separator: ", "))"
        var styles: [Style] = []
        for item in items {
            let named: [Style]
            if let number = Int(item) {
                named = ofLevel(number)
                guard !named.isEmpty else { throw ValidationError("--levels: no level \(number) (\(known)), got '\(text)'") }
            } else if let style = Style.named(item) {
                named = [style]
            } else {
                throw ValidationError("--levels: '\(item)' is not a level or a style (\(known))")
            }
            for style in named {
                guard !styles.contains(where: { $0.id == style.id }) else {
                    throw ValidationError("--levels: '\(text)' names the style \(style.id) twice")
                }
                styles.append(style)
            }
        }
        return styles
    }

    /// The style the others are compared with: `manual` when it runs, else the first style of
    /// the lowest level run (the highest number).
    public static func reference(among styles: [Style]) -> Style? {
        styles.first { $0.id == "manual" } ?? styles.filter { $0.level == styles.map(\.level).max() }.first
    }
}
