// TraceTests.swift — `compare-levels --trace`: every style's first step makes the same kernel
// calls, and each call's origin names the construct of that style that made it.
//
// Teaches: what the trace claims, as tests: the same arithmetic (kernel, shapes, order) in all
// eight styles, reached through `optimizer.step()`, `loss.backward()`, `tape.gradient`, the
// compiler's pullbacks, or a line of ManualNetwork.swift that really calls that kernel.
// Leaves out: the printed table (CompareLevelsTests runs `--trace`).

import Foundation
@testable import LevelComparison
import Shared
import Testing

@Suite("--trace: the same kernel calls in every style, each from its own construct")
struct TraceTests {
    /// A network and batch of their own sizes (47 → 37 → 19 → 11, batches of 43), so that a
    /// call's shapes say which layer made it.
    static let batch = 43

    static func job() -> TrainingJob {
        let shape = NetworkShape(task: .classification, inputSize: 47, hidden: [37, 19], outputSize: 11)
        var generator = SeededGenerator(seed: 5, stream: .initialWeights)
        let inputs = Matrix<Float>(rows: batch, columns: 47,
                                   storage: (0..<(batch * 47)).map { _ in Float.random(in: 0...1, using: &generator) })
        let train = Dataset.classification(inputs: inputs, labels: (0..<batch).map { Int32($0 % 11) }, classCount: 11)
        return TrainingJob(style: "trace", train: train, test: train, initialParameters: .glorotNormal(shape: shape, seed: 42),
                           recipe: Recipe(epochs: 1, batchSize: batch, learningRate: 0.1, seed: 42),
                           shouldStop: { true })                       // one step, as --trace runs it
    }

    /// The style's first step, traced. Recording is per thread (KernelTrace.swift), so suites
    /// tracing at the same time do not see each other's calls.
    static func calls(_ style: Style) -> [KernelTrace.Call] {
        let job = job()
        return KernelTrace.recording { _ = try? style.run(job) }.calls
    }

    @Test("all eight styles: the same 26 calls (kernel, shapes, order) as manual")
    func sameArithmetic() throws {
        let manual = Self.calls(try #require(Style.named("manual"))).map(\.description)
        #expect(manual.count == 9 + 11 + 6)
        for style in Style.all {
            #expect(Self.calls(style).map(\.description) == manual, "\(style.id)")
        }
    }

    @Test("origins name each style's construct: fit, Trainer.fit, optimizer.step(), backward(), tape.gradient, pullbacks")
    func frameworkOrigins() throws {
        func origins(_ id: String, _ kernel: String) throws -> [String] {
            Self.calls(try #require(Style.named(id))).filter { $0.kernel == kernel }.map(\.origin)
        }
        #expect(try origins("keras", "sgdUpdate") == Array(repeating: "model.fit → optimizer.step()", count: 6))
        #expect(try origins("keras-functional", "sgdUpdate") == Array(repeating: "model.fit → optimizer.step()", count: 6))
        #expect(try origins("lightning", "sgdUpdate") == Array(repeating: "trainer.fit → optimizer.step()", count: 6))
        #expect(try origins("lightning", "tanhForward") == ["trainer.fit → trainingStep → tanh"])
        #expect(try origins("modules", "sgdUpdate") == Array(repeating: "optimizer.step()", count: 6))
        #expect(try origins("modules", "softmaxCrossEntropyForward") == ["criterion(output, y) → softmaxCrossEntropy"])
        #expect(try origins("modules", "tanhBackward") == ["loss.backward(): tanh's backward"])
        // autograd: three forward products, then five in backward (fc1's dx is never computed).
        let autograd = try origins("autograd", "gemm")
        #expect(autograd == Array(repeating: "matmul", count: 3) + Array(repeating: "loss.backward(): matmul's backward", count: 5))
        #expect(try origins("autograd", "columnSums") == Array(repeating: "loss.backward(): +'s backward", count: 3))
        #expect(try origins("autograd", "sgdUpdate").allSatisfy { $0.hasPrefix("AutogradNetwork.swift:") && $0.hasSuffix(" update") })
        #expect(try origins("gradient-tape", "gemm").suffix(5).allSatisfy { $0.hasPrefix("tape.gradient: einsum ") && $0.hasSuffix("'s backward") })
        #expect(try origins("gradient-tape", "sgdUpdate") == Array(repeating: "variable.assignSub", count: 6))
        #expect(try origins("differentiable", "gemm") == Array(repeating: "valueWithGradient → dense", count: 3)
            + Array(repeating: "valueWithGradient → dense's pullback", count: 5))
        #expect(try origins("differentiable", "sgdUpdate").allSatisfy { $0.hasPrefix("DifferentiableNetwork.swift:") })
    }

    @Test("manual: every origin is a line of ManualNetwork.swift that calls that very kernel")
    func manualOrigins() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: root.appendingPathComponent("Sources/Level4Manual/ManualNetwork.swift"), encoding: .utf8)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let calls = Self.calls(try #require(Style.named("manual")))
        #expect(calls.count == 26)
        for call in calls {
            // "ManualNetwork.swift:55 linearBackward"
            let parts = call.origin.split(separator: " ")
            let place = parts.first?.split(separator: ":") ?? []
            #expect(parts.count == 2 && place.count == 2 && place[0] == "ManualNetwork.swift", "\(call.origin)")
            guard parts.count == 2, place.count == 2, let number = Int(place[1]), number >= 1, number <= lines.count else { continue }
            let line = lines[number - 1]
            #expect(line.contains(call.kernel + "("), "\(call.kernel) at \(call.origin): \(line)")
            // and the line is inside the function the origin names
            let header = lines[..<number].last { $0.contains("func ") }
            #expect(header?.contains("func \(parts[1])") == true, "\(call.origin): \(header ?? "")")
        }
        #expect(Set(calls.map(\.origin)).count > 10)       // forward, backward and update lines, not one place
    }
}
