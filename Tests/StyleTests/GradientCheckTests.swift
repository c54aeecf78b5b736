// GradientCheckTests.swift — gradcheck's library: every style's gradient, in Double and through
// its own idiom, against central finite differences on both tasks; backward passes broken on
// purpose, which must fail and be named; the error's definition.
//
// Teaches: that a gradient check is itself tested by breaking what it checks: a check that
// cannot fail proves nothing.
// Leaves out: the executable (CommandLineTests/GradcheckTests.swift runs it).

import LevelComparison
import Shared
import Testing

/// Every style on every task.
let styleTaskPairs: [(String, Task)] = Style.all.flatMap { style in Task.allCases.map { (style.id, $0) } }

@Suite("gradcheck: every style's gradient against finite differences (Double)")
struct GradientCheckTests {
    @Test("every style passes on both tasks: every error ≤ 1e-6, and its loss is Level 4's", arguments: styleTaskPairs)
    func stylePasses(_ id: String, _ task: Task) throws {
        let style = try #require(Style.named(id))
        let report = try GradientCheckSetup(task: task).check(style)
        #expect(report.passes, "\(report.text)")
        #expect(report.rows.map(\.tensor) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"])
        #expect(report.rows.allSatisfy { $0.maxError <= GradientCheck.tolerance }, "\(report.text)")
        #expect(report.lossError <= 1e-12, "\(report.text)")
        // The gradients are not all zero (a check of zeros against zeros would prove nothing).
        #expect(report.rows.allSatisfy { abs($0.analytic) > 1e-8 }, "\(report.text)")
    }

    @Test("every style's Double gradient equals Level 4's to 1e-12 on a wider network and a larger batch",
          arguments: Task.allCases)
    func stylesAgreeWithManual(_ task: Task) throws {
        let setup = GradientCheckSetup(task: task, hidden: [6, 5], samples: 9, seed: 7)
        let (parameters, batch) = (setup.parameters, setup.batch)
        let reference = StyleGradients.manual(parameters, batch).gradients
        for style in Style.all {
            let (loss, gradients) = try style.gradients(parameters, batch)
            #expect(abs(loss - GradientCheck.loss(at: parameters, on: batch)) <= 1e-12, "\(style.id)")
            for ((name, mine), (_, theirs)) in zip(gradients.namedTensors, reference.namedTensors) {
                #expect(mine.shape == theirs.shape, "\(style.id) \(name)")
                let worst = zip(mine.storage, theirs.storage).map { abs($0 - $1) }.max() ?? .nan
                #expect(worst <= 1e-12, "\(style.id) \(name): differs from manual by \(worst)")
            }
            #expect(try setup.check(style).passes, "\(style.id) on the wider network")
        }
    }

    /// The case the two-point differences `(ℓ(w + h) − ℓ(w − h)) / 2h` (h = 1e-5) failed: a loss
    /// of 4 gave them a rounding error of 3.6e-10, and fc2.weight has gradients below the floor,
    /// where that is 3.6e-6 relative. The five-point differences are within 1e-12·|ℓ|.
    static let largeRegression = GradientCheckSetup(task: .regression, hidden: [32, 32], samples: 256, seed: 123456)

    @Test("right gradients pass on 3 → 32 → 32 → 1 with 256 samples (a loss of 4, gradients under the floor)")
    func largeRegressionPasses() throws {
        let report = try Self.largeRegression.check(try #require(Style.named("manual")))
        #expect(report.passes, "\(report.text)")
        #expect(report.referenceLoss > 3, "the loss the two-point differences were too coarse for: \(report.text)")
        let gradients = StyleGradients.manual(Self.largeRegression.parameters, Self.largeRegression.batch).gradients
        #expect(gradients.fc2.weight.storage.contains { $0 != 0 && abs($0) < GradientCheck.floor },
                "some gradients are compared absolutely, where the differences' error counts most")
    }

    @Test("a mistaken backward still fails on 3 → 32 → 32 → 1 with 256 samples, in fc1 only")
    func largeRegressionMistakeFails() throws {
        let mistake = try #require(BrokenBackward.named("tanh-derivative-of-z"))
        let report = try Self.largeRegression.check(mistake.gradients, label: "broken")
        #expect(report.failingTensors == ["fc1.weight", "fc1.bias"], "\(report.text)")
        #expect(report.rows[0].maxError > 1e-2, "a real mistake is not a rounding error: \(report.text)")
    }

    @Test("Level 4 with the tanh derivative taken from z (1 − z1² for 1 − a1²) fails in fc1 only")
    func tanhDerivativeFromZ() throws {
        for task in Task.allCases {
            let mistake = try #require(BrokenBackward.named("tanh-derivative-of-z"))
            let report = try GradientCheckSetup(task: task).check(mistake.gradients, label: "broken")
            #expect(!report.passes)
            #expect(report.failingTensors == ["fc1.weight", "fc1.bias"], "\(report.text)")
            #expect(report.rows[0].maxError > 1e-2, "a real mistake is not a rounding error: \(report.text)")
            #expect(report.lossError == 0)                                   // the forward pass is untouched
            #expect(report.text.contains("FAIL: gradients off in fc1.weight, fc1.bias"))
        }
    }

    @Test("the sigmoid derivative taken from z fails in fc2 and in every layer below it, not above")
    func sigmoidDerivativeFromZ() throws {
        let mistake = try #require(BrokenBackward.named("sigmoid-derivative-of-z"))
        let report = try GradientCheckSetup(task: .regression).check(mistake.gradients, label: "broken")
        #expect(report.failingTensors == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], "\(report.text)")
    }

    @Test("any gradient function can be checked: one wrong element of fc3.bias is found and located")
    func oneWrongElement() throws {
        let setup = GradientCheckSetup(task: .classification)
        let broken: GradientFunction = { parameters, batch in
            let (loss, right) = StyleGradients.manual(parameters, batch)
            var gradients = right
            gradients.fc3.bias.storage[1] *= 1.001                            // off by 0.1 %
            return (loss, gradients)
        }
        let report = try setup.check(broken, label: "fc3.bias off by 0.1 %")
        #expect(report.failingTensors == ["fc3.bias"])
        let row = try #require(report.rows.last)
        #expect(row.worstRow == 0 && row.worstColumn == 1)
        #expect(abs(row.maxError - 0.001 / 1.001) < 1e-6, "\(row.maxError)")
    }

    @Test("a style whose loss is not Level 4's fails even when its gradient is right")
    func wrongLoss() throws {
        let report = try GradientCheckSetup(task: .regression).check({ parameters, batch in
            let (loss, gradients) = StyleGradients.manual(parameters, batch)
            return (loss * 2, gradients)
        }, label: "loss doubled")
        #expect(report.failingTensors.isEmpty && !report.passes)
        #expect(report.text.contains("FAIL: the loss differs from Level 4's forward pass"))
    }

    @Test("the error is relative above the floor, absolute below it, and NaN for a NaN")
    func relativeError() {
        #expect(GradientCheck.relativeError(0.5, 0.5) == 0)
        #expect(GradientCheck.relativeError(2, 1) == 0.5)
        #expect(GradientCheck.relativeError(-1, 1) == 2)
        #expect(abs(GradientCheck.relativeError(3e-11, 1e-11) - 2e-11 / GradientCheck.floor) < 1e-20)   // below the floor
        #expect(GradientCheck.relativeError(3e-11, 1e-11) < GradientCheck.tolerance)
        #expect(GradientCheck.relativeError(.nan, 1).isNaN)
    }

    @Test("a NaN in a gradient fails its tensor, and the NaN is the worst element reported")
    func notANumber() throws {
        let report = try GradientCheckSetup(task: .regression).check({ parameters, batch in
            let (loss, right) = StyleGradients.manual(parameters, batch)
            var gradients = right
            gradients.fc2.weight.storage[4] = .nan                            // row 1, column 1 of [2, 3]
            return (loss, gradients)
        }, label: "NaN")
        #expect(report.failingTensors == ["fc2.weight"])
        let row = report.rows[2]
        #expect(row.maxError.isNaN && row.worstRow == 1 && row.worstColumn == 1)
    }
}
