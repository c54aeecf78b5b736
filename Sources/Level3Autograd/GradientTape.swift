// GradientTape.swift — Level 3: TensorFlow's `tf.GradientTape`, on the same tape.
//
// Teaches: the other way a framework hands out gradients. PyTorch leaves them in each
// parameter's `.grad`, to be zeroed before the next step; TensorFlow records the forward pass
// inside a `with tf.GradientTape() as tape:` block and *returns* the gradients of the loss with
// respect to the variables you name, `tape.gradient(loss, [w1, b1, …])`, as plain values that
// nothing remembers. Underneath it is the same recorded graph and the same backward walk as
// `loss.backward()` (Tensor.swift); only the hand-over differs. And unlike TensorFlow's, this
// tape records every operation on a tensor that requires grad, block or no block, as PyTorch's
// does: `record { }` matters only inside `withNoGrad`, where it switches recording back on.
// Leaves out: the one-`gradient`-call rule of TensorFlow's default tape (this tape is the
// recorded graph itself, so a second call computes the same gradients again, as TensorFlow's
// `persistent=True` would), `watch` for tensors that are not variables, higher-order
// gradients, `tf.function` tracing.
//
// Shape legend: O outputs · I inputs

import Shared

/// A trainable parameter (TensorFlow's `tf.Variable(initial_value)`): returns a plain
/// ``Tensor`` holding `value` that requires grad, which is all a variable is on this tape.
/// There is no `Variable` type; the function is capitalized, against Swift's convention, so that
/// the line reads as the TensorFlow it mirrors.
public func Variable<T: NeuralScalar>(_ value: Matrix<T>) -> Tensor<T> {
    Tensor(value, requiresGrad: true)
}

/// Differentiates a result with respect to the variables you name (TensorFlow's
/// `tf.GradientTape`).
///
/// Unlike TensorFlow, where only the operations inside a tape's `with` block are recorded,
/// recording is on by default here, as in PyTorch: every operation on a tensor that requires
/// grad records itself, inside ``record(_:)`` or not. `record` switches recording back on inside
/// a ``withNoGrad(_:)`` scope and otherwise changes nothing; the step below uses it so that it
/// reads as TensorFlow's does.
///
///     let tape = GradientTape()
///     let loss = try tape.record { try lossFunction(model(x), y) }
///     let gradients = tape.gradient(loss, variables)             // one matrix per variable
///     for (w, g) in zip(variables, gradients) { w.assignSub(g, scaledBy: learningRate) }
public final class GradientTape {
    public init() {}

    /// Runs `body` with recording on (`with tf.GradientTape() as tape:`) and returns what it
    /// returns. Recording is already on outside ``withNoGrad(_:)``; inside one, this turns it
    /// back on for `body`.
    public func record<Result>(_ body: () throws -> Result) rethrows -> Result {
        try GradientRecording.$isEnabled.withValue(true, operation: body)
    }

    /// `∂target/∂source` for every source, in order (`tape.gradient(target, sources)`): shaped
    /// like each source's value; zeros for a source the target does not depend on. Afterwards
    /// every source's `.grad` is nil again: the gradients are handed back, not left in the
    /// sources (whose buffers are kept for the next step's gradients, as ``Tensor/zeroGrad()``
    /// keeps them; a returned matrix still in use is copied before that memory is written).
    public func gradient<T: NeuralScalar>(_ target: Tensor<T>, _ sources: [Tensor<T>]) -> [Matrix<T>] {
        for source in sources { source.zeroGrad() }            // nothing left from another tape
        target.backward(tracedAs: "tape.gradient")
        return sources.map { source in
            defer { source.zeroGrad() }
            return source.grad ?? Matrix(rows: source.value.rows, columns: source.value.columns)
        }
    }
}

extension Tensor {
    /// `value ← value − scale·delta`, outside any graph (TensorFlow's
    /// `variable.assign_sub(learning_rate * gradient)`): Shared's `sgdUpdate`, the update every
    /// style uses, so `scale·delta` and the subtraction round exactly as theirs do.
    public func assignSub(_ delta: Matrix<T>, scaledBy scale: T) {
        let origin = KernelTrace.enter("variable.assignSub"); defer { origin.leave() }   // for compare-levels --trace
        withNoGrad { sgdUpdate(&value, gradient: delta, learningRate: scale) }
    }
}
