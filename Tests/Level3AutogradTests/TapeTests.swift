// TapeTests.swift — the machinery around the ops: accumulation, zeroGrad, requiresGrad, the
// no-grad scope, topological order, and that a step's graph is freed when it goes out of scope.
//
// Teaches: what backward() promises besides correct numbers.
// Leaves out: the numbers themselves (GradientCheckTests, LevelAgreementTests).

import Testing
@testable import Level3Autograd
@testable import Shared
import TestSupport

@Suite("Level 3: the tape")
struct TapeTests {
    /// Where a matrix's elements are (to see whether a buffer was copied or kept).
    func address<T: NeuralScalar>(_ m: Matrix<T>) -> UnsafeRawPointer? { m.storage.withUnsafeBytes { $0.baseAddress } }

    @Test("gradients accumulate across backward calls until zeroGrad; intermediates are recomputed")
    func accumulation() throws {
        let x = Tensor(randomMatrix(3, 4, seed: 1, as: Float.self), requiresGrad: true)
        let y = (x * x).tanh().sum()
        y.backward()
        let once = try #require(x.grad)
        y.backward()
        let twice = try #require(x.grad)
        #expect(bits(twice) == once.storage.map { ($0 + $0).bitPattern })     // not 3×: intermediates reset
        x.zeroGrad()
        #expect(x.grad == nil)
        y.backward()
        #expect(bits(try #require(x.grad)) == bits(once))
    }

    @Test("a parameter owns its values from the start; a data tensor shares the caller's")
    func parameterOwnsStorage() {
        let weights = randomMatrix(4, 3, seed: 2, as: Float.self)
        let parameter = Tensor(weights, requiresGrad: true), data = Tensor(weights)
        #expect(address(parameter.value) != address(weights), "copied when made, not at its first update")
        #expect(address(data.value) == address(weights), "data is not copied")
        #expect(parameter.value == weights)
        let before = address(parameter.value)
        withNoGrad { sgdUpdate(&parameter.value, gradient: weights, learningRate: 0.5) }
        #expect(address(parameter.value) == before, "the update writes in place: no copy mid-training")
        #expect(data.value == weights, "the caller's matrix is untouched")
    }

    @Test("assign copies into the parameter's own buffer (PyTorch's copy_): same address, new values, the source not shared")
    func assignKeepsBuffer() {
        let parameter = Tensor(randomMatrix(4, 3, seed: 2, as: Float.self), requiresGrad: true)
        let loaded = randomMatrix(4, 3, seed: 3, as: Float.self)
        let before = address(parameter.value)
        parameter.assign(loaded)
        #expect(parameter.value == loaded)
        #expect(address(parameter.value) == before, "the parameter keeps its buffer")
        #expect(address(loaded) != before)
        withNoGrad { sgdUpdate(&parameter.value, gradient: loaded, learningRate: 0.5) }
        #expect(address(parameter.value) == before, "and the update writes there")
        #expect(loaded == randomMatrix(4, 3, seed: 3, as: Float.self), "the source is untouched")
    }

    @Test("the first gradient is stored, not added to zeros: −0.0 stays −0.0")
    func negativeZero() throws {
        let x = Tensor(Matrix<Float>([[1, 2]]), requiresGrad: true)
        (x * Tensor(scalar: -0.0)).sum().backward()                // ∂/∂x = 1 · (−0.0)
        let gradient = try #require(x.grad)
        #expect(gradient.storage.allSatisfy { $0 == 0 && $0.sign == .minus })
    }

    @Test("inputs that do not require grad get no gradient, and results of data alone are not recorded")
    func requiresGrad() {
        let x = Tensor(randomMatrix(4, 3, seed: 2, as: Float.self))
        let w = Tensor(randomMatrix(5, 3, seed: 3, as: Float.self), requiresGrad: true)
        let y = x.matmul(w, transposeB: true).sum()
        y.backward()
        #expect(x.grad == nil)
        #expect(w.grad != nil)
        let dataOnly = (x * 2).tanh()
        #expect(!dataOnly.requiresGrad && dataOnly.parents.isEmpty)
        dataOnly.sum().backward()                                  // nothing to differentiate: a no-op
        #expect(x.grad == nil)
    }

    @Test("no-grad: an update inside it records nothing, and creates no gradient")
    func noGrad() throws {
        let w = Tensor(randomMatrix(3, 3, seed: 4, as: Float.self), requiresGrad: true)
        (w * w).sum().backward()
        let gradient = try #require(w.grad)

        // Outside no-grad, an update written with tensor ops becomes part of the graph …
        let recorded = w - Tensor(gradient) * 0.1
        #expect(recorded.requiresGrad && recorded.parents.count == 2)

        // … inside, it is a plain value: no parents, no closure, no grad.
        #expect(isRecordingGradients)
        let updated = withNoGrad { () -> Tensor<Float> in
            #expect(!isRecordingGradients)
            return w - Tensor(gradient) * 0.1
        }
        #expect(isRecordingGradients)
        #expect(!updated.requiresGrad && updated.parents.isEmpty && updated.pushGradientToParents == nil)
        #expect(bits(updated.value) == bits(recorded.value))

        // A loss computed under no-grad cannot reach the parameters: backward creates no grad.
        w.zeroGrad()
        let loss = withNoGrad { (w * w).sum() }
        loss.backward()
        #expect(w.grad == nil)

        // The network's own update: afterwards every parameter is still a leaf, its grad zeroed.
        let batch = try realBatch(.regression, count: 16)
        let network = AutogradNetwork(parameters: NetworkParameters<Float>.glorotNormal(shape: .standard(for: .regression), seed: 1),
                                      learningRate: 0.1)
        let before = network.currentParameters
        _ = network.trainStep(on: batch)
        #expect(network.currentParameters != before)
        for parameter in network.parameters {
            #expect(parameter.parents.isEmpty && parameter.operation == "leaf" && parameter.grad == nil)
        }
        // Evaluation builds no tape.
        #expect(withNoGrad { network.forward(batch).loss }.parents.isEmpty)
    }

    @Test("no-grad scopes nest, and restore recording even when the body throws")
    func noGradNesting() {
        struct Failure: Error {}
        withNoGrad {
            withNoGrad { #expect(!isRecordingGradients) }
            #expect(!isRecordingGradients)
        }
        #expect(throws: Failure.self) { try withNoGrad { throw Failure() } }
        #expect(isRecordingGradients)
    }

    @Test("topological order: every tensor after its parents, each once")
    func topologicalOrder() {
        let a = Tensor(Matrix<Float>([[1, 2]]), requiresGrad: true)
        let b = a.tanh()
        let c = a * b
        let d = (c + b).sum()
        let order = d.topologicalOrder()
        #expect(order.count == 5)
        #expect(Set(order.map(ObjectIdentifier.init)).count == order.count)
        for (position, tensor) in order.enumerated() {
            for parent in tensor.parents where parent.requiresGrad {
                let parentPosition = order.firstIndex { $0 === parent } ?? Int.max
                #expect(parentPosition < position)
            }
        }
        #expect(order.last === d)
    }

    @Test("a long chain neither overflows the stack in backward nor when it is freed")
    func longChain() throws {
        let x = Tensor(Matrix<Double>([[0.5]]), requiresGrad: true)
        var y = x
        for _ in 0..<100_000 { y = y * 1.0 }
        y.backward()
        #expect(try #require(x.grad)[0, 0] == 1)
    }

    @Test("no reference cycles: a step's graph is freed when it goes out of scope")
    func graphIsFreed() throws {
        let batch = try realBatch(.classification, count: 8)
        let network = AutogradNetwork(parameters: NetworkParameters<Float>.glorotNormal(shape: .standard(for: .classification), seed: 1),
                                      learningRate: 0.1)
        weak var weakLoss: Tensor<Float>?
        weak var weakDeepest: Tensor<Float>?
        do {
            let (loss, _) = network.forward(batch)
            loss.backward()
            withNoGrad {
                for parameter in network.parameters {
                    if let gradient = parameter.grad {
                        sgdUpdate(&parameter.value, gradient: gradient, learningRate: 0.1)
                    }
                    parameter.zeroGrad()
                }
            }
            // The first op of the forward pass: x·W1ᵀ, reached by walking to the graph's bottom.
            var deepest = loss
            while let next = deepest.parents.first(where: { !$0.parents.isEmpty }) { deepest = next }
            #expect(deepest.operation == "matmul")
            weakLoss = loss
            weakDeepest = deepest
            #expect(weakDeepest != nil)
        }
        #expect(weakLoss == nil)
        #expect(weakDeepest == nil)
    }

    @Test("after zeroGrad the next gradient reuses the parameter's gradient memory, and a gradient someone kept is not changed")
    func gradientMemoryIsReused() throws {
        let x = Tensor(Matrix<Double>([[1, 2, 3], [4, 5, 6]]))                        // [2, 3]
        let w = Tensor(Matrix<Double>([[0.5, -1, 2], [1, 0, -0.5]]), requiresGrad: true)   // [2, 3]

        x.matmul(w, transposeB: true).sum().backward()                                // ∂/∂W = 1ᵀ·x
        let first = try #require(w.grad)
        #expect(first == Matrix([[5, 7, 9], [5, 7, 9]]))
        let firstAddress = address(first)
        w.zeroGrad()
        #expect(w.grad == nil)

        (x * 2).matmul(w, transposeB: true).sum().backward()                          // twice the gradient
        let second = try #require(w.grad)
        #expect(second == Matrix([[10, 14, 18], [10, 14, 18]]))
        #expect(first == Matrix([[5, 7, 9], [5, 7, 9]]))                              // the kept copy is intact
        #expect(address(second) != firstAddress)                                     // …because it was still held

        let secondAddress = address(second)
        _ = consume second
        w.zeroGrad()                                                                  // nobody holds it now
        x.matmul(w, transposeB: true).sum().backward()
        #expect(w.grad == Matrix([[5, 7, 9], [5, 7, 9]]))
        #expect(address(try #require(w.grad)) == secondAddress)                      // the same memory, reused
    }

    @Test("description names the shape and the op")
    func description() {
        let w = Tensor(Matrix<Float>(rows: 2, columns: 3), requiresGrad: true)
        #expect(w.description == "Tensor[2, 3] leaf, requires grad")
        #expect(w.tanh().description == "Tensor[2, 3] tanh, requires grad")
        #expect(Tensor(Matrix<Float>(rows: 1, columns: 1)).description == "Tensor[1, 1] leaf")
    }
}
