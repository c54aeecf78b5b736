// Tensor.swift — Level 3: a value that remembers how it was made, and can run that backwards.
//
// Teaches: reverse-mode automatic differentiation ("autograd", "GradientTape") is a small idea.
// Every op returns a `Tensor` that records its inputs (`parents`) and a closure that, given
// ∂ℓ/∂output, pushes ∂ℓ/∂input to each input. `backward()` orders the recorded graph so that
// every tensor comes after the tensors it was made from, seeds ∂ℓ/∂ℓ = 1, and runs the closures
// from the loss back to the parameters. Gradients *accumulate*: a tensor used twice receives two
// contributions, which is why `zeroGrad()` exists. Inside `withNoGrad { }` nothing is recorded
// (the parameter update, evaluation).
//
// This file holds the machinery; the ops (matmul, +, tanh, the losses, …) are in
// Operations.swift, each forward beside its backward closure, and `einsum` is in Einsum.swift.
// The class's last section, apart from the lesson, is memory: how a step's graph is freed and
// its gradient buffers are reused.
//
// Leaves out: higher-order gradients (closures work on plain matrices, not tensors), the
// version counter PyTorch uses to detect a saved input changed in place between forward and
// backward, views and strides, more than two dimensions, devices.

import Shared

/// A matrix that records the operations applied to it, so that gradients can flow back.
///
/// A tensor is either a *leaf*, made by you (inputs, parameters), or the *result of an op*, which
/// remembers the tensors it came from (``parents``) and how to push a gradient back to them.
///
///     let w = Tensor(weights, requiresGrad: true)          // leaf, a parameter   W: [O, I]
///     let x = Tensor(batch.inputs)                         // leaf, data          x: [B, I]
///     let loss = (x.matmul(w, transposeB: true)).tanh().sum()
///     loss.backward()                                      // w.grad = ∂loss/∂W   [O, I]
///
/// Only tensors that require grad are recorded: a result requires grad when recording is on
/// (not inside ``withNoGrad(_:)``) and at least one of its inputs requires grad. Data (`x`)
/// does not, so no gradient is ever computed for it.
///
/// Memory: a result holds its parents strongly; nothing holds a result except the code that
/// uses it and the results made from it. Backward closures capture their *inputs* and plain
/// matrices, never the tensor they belong to, so there are no reference cycles: when the loss of
/// a step goes out of scope, the whole graph of that step is freed.
public final class Tensor<T: NeuralScalar> {
    /// The numbers. Shape `[rows, columns]`.
    ///
    /// Settable so that an optimizer can change a parameter in place, under ``withNoGrad(_:)``.
    /// Like PyTorch, ops save their inputs by reference: changing an input's value between an
    /// op's forward pass and `backward()` would make that op's gradient wrong.
    public var value: Matrix<T>

    /// `∂ℓ/∂value`, filled by ``backward()``; nil until a gradient has arrived (or after
    /// ``zeroGrad()``). Same shape as ``value``.
    public var grad: Matrix<T>?

    /// Whether gradients flow to (and through) this tensor.
    public let requiresGrad: Bool

    /// The tensors this one was computed from (empty for a leaf, and for any result computed
    /// while nothing was being recorded).
    public private(set) var parents: [Tensor<T>]

    /// The op that made this tensor, e.g. `"matmul"`, `"tanh"`; `"leaf"` for a leaf.
    public let operation: String

    /// Pushes ∂ℓ/∂(this tensor) to ``parents``. Nil for leaves and unrecorded results.
    private(set) var pushGradientToParents: ((_ gradient: Matrix<T>) -> Void)?

    // MARK: Leaves

    /// A leaf tensor over `value`: data (the default), or a parameter with `requiresGrad: true`,
    /// which gets a copy of `value` of its own at once (why at once: "Memory", at the end).
    public init(_ value: Matrix<T>, requiresGrad: Bool = false) {
        self.value = value
        if requiresGrad { self.value.makeStorageUnique() }
        self.requiresGrad = requiresGrad
        self.parents = []
        self.operation = "leaf"
        self.pushGradientToParents = nil
    }

    /// Copies the elements of `newValue` into this tensor's own buffer, as PyTorch's
    /// `tensor.copy_(newValue)` and Keras's `variable.assign(newValue)` do: how `setWeights` and
    /// `loadStateDict` load a parameter. The parameter keeps the buffer it was made with, and its
    /// place in memory (`value = newValue` would share the caller's elements until the first
    /// update copied them, placed as described at ``init(_:requiresGrad:)``).
    /// Shapes: `newValue` has this tensor's shape (callers check it first).
    public func assign(_ newValue: Matrix<T>) {
        precondition(newValue.shape == value.shape, "assign: \(newValue.shape) into a tensor of shape \(value.shape)")
        for i in 0..<value.count { value.storage[i] = newValue.storage[i] }
    }

    /// A `[1, 1]` leaf holding `scalar` (broadcasts against any shape in `+ − * /`).
    public convenience init(scalar: T, requiresGrad: Bool = false) {
        self.init(Matrix(rows: 1, columns: 1, repeating: scalar), requiresGrad: requiresGrad)
    }

    // MARK: Results of ops

    /// The result of an op, recorded on the tape when gradients are being recorded and at least
    /// one input requires grad; otherwise a plain value with no parents and no closure.
    ///
    /// Every op in Operations.swift ends with this; it is also how you add an op of your own
    /// (PyTorch's `autograd.Function`):
    ///
    ///     extension Tensor {
    ///         func squared() -> Tensor {                          // y = x², ∂ℓ/∂x = 2x ⊙ g
    ///             let x = self
    ///             let y = Matrix(rows: x.value.rows, columns: x.value.columns,
    ///                            storage: x.value.storage.map { $0 * $0 })
    ///             return Tensor(y, operation: "squared", parents: [x]) { g in
    ///                 x.accumulateGradient(Matrix(rows: g.rows, columns: g.columns,
    ///                     storage: zip(g.storage, x.value.storage).map { 2 * $1 * $0 }))
    ///             }
    ///         }
    ///     }
    ///
    /// - Parameters:
    ///   - value: the op's output, already computed (by a Shared kernel, for the ops here).
    ///   - operation: a short name for printing the graph.
    ///   - parents: the inputs, in order.
    ///   - backward: given `∂ℓ/∂value`, computes each input's gradient (skipping inputs that do
    ///     not require grad) and hands it to the input's ``accumulateGradient(_:)``. It must
    ///     capture the inputs and the matrices it needs, never the tensor being created: that
    ///     would be a reference cycle, and the graph would never be freed.
    public init(_ value: Matrix<T>, operation: String, parents: [Tensor<T>],
                backward: @escaping (_ gradient: Matrix<T>) -> Void) {
        self.value = value
        self.operation = operation
        if isRecordingGradients && parents.contains(where: { $0.requiresGrad }) {
            self.requiresGrad = true
            self.parents = parents
            self.pushGradientToParents = backward
        } else {
            self.requiresGrad = false
            self.parents = []
            self.pushGradientToParents = nil
        }
    }

    /// The shape, `[rows, columns]`.
    public var shape: [Int] { value.shape }

    /// The value of a `[1, 1]` tensor (a loss), or its first element.
    public var scalar: T { value.storage.first ?? .nan }

    /// The same value as a new leaf that does not require grad: gradients stop here
    /// (PyTorch's `detach()`). The value's storage is shared, not copied.
    public func detached() -> Tensor {
        Tensor(value)
    }

    // MARK: - Gradients

    /// Adds an incoming gradient to ``grad``.
    ///
    /// The first contribution is *stored* (not added to zeros: that is one pass less, the result
    /// is bit for bit the gradient the op computed, and −0.0 stays −0.0); later contributions,
    /// from a tensor used more than once, are added with Shared's `accumulate`:
    /// `grad ← grad + gradient`. Does nothing for a tensor that does not require grad.
    public func accumulateGradient(_ gradient: Matrix<T>) {
        guard requiresGrad else { return }
        precondition(gradient.shape == value.shape,
                     "gradient for \(operation) is \(gradient.shape), value is \(value.shape)")
        guard var sum = grad else {
            grad = gradient
            return
        }
        grad = nil                         // leave `sum` the only owner: added in place, no copy
        accumulate(gradient, into: &sum)
        grad = sum
    }

    /// Forgets the gradient (PyTorch's `zero_grad(set_to_none=True)`): the next ``backward()``
    /// stores its gradient instead of adding to this one. (Its memory is kept for that next
    /// gradient: ``gradientBuffer()``.)
    public func zeroGrad() {
        if requiresGrad, let grad { releasedGradient = grad }
        grad = nil
    }

    /// Back-propagation: fills ``grad`` of every tensor this one depends on that requires grad.
    ///
    /// 1. Order the recorded graph topologically (every tensor after its parents).
    /// 2. Seed `∂ℓ/∂ℓ = 1` (a matrix of ones for a non-scalar tensor, which differentiates the
    ///    sum of its elements).
    /// 3. Walk the order backwards, from this tensor to the leaves: each result, whose gradient
    ///    is complete by then (everything that used it came later in the order, so has already
    ///    pushed its contribution), pushes its gradient to its parents.
    ///
    /// Leaves *accumulate* across calls (call ``zeroGrad()`` between steps); the gradients of
    /// intermediate results are recomputed from scratch by each call. A tensor that does not
    /// require grad has nothing to differentiate, and this does nothing.
    public func backward() {
        backward(tracedAs: "loss.backward()")
    }

    /// ``backward()``, for `compare-levels --trace`: the kernels each op's backward closure calls
    /// are recorded as coming from `"\(caller): matmul's backward"` (`caller` is what the user
    /// called: `loss.backward()`, or `tape.gradient`).
    func backward(tracedAs caller: String) {
        guard requiresGrad else { return }
        let order = topologicalOrder()
        for tensor in order where tensor.pushGradientToParents != nil {
            tensor.grad = nil                       // intermediate: recomputed below
        }
        accumulateGradient(Matrix(rows: value.rows, columns: value.columns, repeating: 1))
        for tensor in order.reversed() {
            guard let gradient = tensor.grad, let push = tensor.pushGradientToParents else { continue }
            let origin = KernelTrace.enter("\(caller): \(tensor.operation)'s backward"); defer { origin.leave() }
            push(gradient)
        }
    }

    /// This tensor and every tensor it depends on that requires grad, each after its parents
    /// (depth-first post-order, with an explicit stack so long chains cannot overflow it).
    public func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(tensor: Tensor, parentsDone: Bool)] = [(self, false)]
        while let (tensor, parentsDone) = stack.popLast() {
            if parentsDone {
                order.append(tensor)
                continue
            }
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for parent in tensor.parents.reversed()
            where parent.requiresGrad && !visited.contains(ObjectIdentifier(parent)) {
                stack.append((parent, false))
            }
        }
        return order
    }

    // MARK: - Memory: freeing a step's graph, reusing gradient buffers
    //
    // Not needed to follow the lesson: how a training loop of many steps stays at constant
    // memory and does not allocate a parameter's gradient again each step (`fc1.weight`'s is
    // 400 KB). And why a parameter copies its value at once: sharing the caller's until the first
    // update wrote to it, copy-on-write would make that copy in the middle of the first step,
    // right after the gradient buffers; memory placed that way was measured to make fc1's update
    // twice as slow (docs/performance.md).

    /// The gradient ``zeroGrad()`` let go of, kept as memory for the next one (see
    /// ``gradientBuffer()``).
    private var releasedGradient: Matrix<T>?

    /// Frees the graph below this tensor without recursion. Released the ordinary way, a chain
    /// of 100,000 ops would free each tensor from inside its child's deinit, 100,000 frames deep,
    /// and overflow the stack. Instead, the parents that only this graph holds are unlinked one
    /// at a time, so each is freed with nothing left to free below it.
    deinit {
        Self.freeGraph(below: self)
    }

    /// The loop of `deinit`: unlinks every tensor below `tensor` that nothing else holds.
    ///
    /// Performance: the runtime calls a `deinit` through the class's metadata, so it always runs
    /// the generic code, where every array operation on `[Tensor<T>]` first looks up that type's
    /// metadata (a hash-table search). At the end of each training step this loop runs over the
    /// whole graph, and those lookups cost more than the rest of the step's bookkeeping together.
    /// `@_specialize` compiles the loop for Float and Double too, and the generic entry jumps to
    /// them: the same code, with the types known.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func freeGraph(below tensor: Tensor) {
        guard !tensor.parents.isEmpty else { return }
        var pending: [Tensor] = []
        swap(&pending, &tensor.parents)                     // the only owner: parents can be unique
        tensor.pushGradientToParents = nil                  // the closure holds the inputs too
        while var parent = pending.popLast() {
            guard isKnownUniquelyReferenced(&parent) else { continue }   // still used elsewhere
            pending.append(contentsOf: parent.parents)
            parent.parents = []
            parent.pushGradientToParents = nil
        }                                                   // `parent` is freed here, shallowly
    }

    /// A matrix shaped like ``value`` for an op's backward to write this tensor's gradient
    /// into — every element of it: the contents are not zeros. It is the memory ``zeroGrad()``
    /// released when there is one, else new. (If someone still holds the old gradient, writing
    /// copies it first, as any Swift array does: nobody else's matrix changes.)
    public func gradientBuffer() -> Matrix<T> {
        if let buffer = releasedGradient, buffer.shape == value.shape {
            releasedGradient = nil
            return buffer
        }
        return .uninitialized(rows: value.rows, columns: value.columns)
    }
}

extension Tensor: CustomStringConvertible {
    /// E.g. `Tensor[64, 128] tanh, requires grad`.
    public var description: String {
        "Tensor[\(value.rows), \(value.columns)] \(operation)" + (requiresGrad ? ", requires grad" : "")
    }
}

// MARK: - No-grad scope

/// Whether ops record themselves for ``Tensor/backward()`` (true, except inside ``withNoGrad(_:)``).
///
/// A task-local value: it belongs to the running task (or thread), so tests running in parallel
/// and concurrent tasks each have their own.
public var isRecordingGradients: Bool { GradientRecording.isEnabled }

enum GradientRecording {
    /// On by default, as in PyTorch (TensorFlow records only inside a `GradientTape` block):
    /// ``withNoGrad(_:)`` turns it off, ``GradientTape/record(_:)`` back on.
    @TaskLocal static var isEnabled = true
}

/// Runs `body` without recording: tensors computed inside have no parents, no backward closure
/// and do not require grad (PyTorch's `with torch.no_grad():`).
///
/// Use it for the parameter update, which must not itself become part of the next step's graph,
/// and for evaluation, where no gradient is needed and the tape would only cost time and memory.
///
///     withNoGrad {
///         for p in parameters { sgdUpdate(&p.value, gradient: g, learningRate: lr) }
///     }
public func withNoGrad<Result>(_ body: () throws -> Result) rethrows -> Result {
    try GradientRecording.$isEnabled.withValue(false, operation: body)
}
