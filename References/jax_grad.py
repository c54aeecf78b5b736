"""JAX: the loss as a pure function of the parameters, `jax.value_and_grad` for its gradient,
and the whole step compiled with `jax.jit`.

Mirrors the Swift style `differentiable` (Level 3, JAX-style: Swift's compiler-derived
gradients, `valueWithGradient`). Parameters are a dict (a pytree); the step returns new ones.

    python References/jax_grad.py EXPORT_DIR RESULT_DIR
"""

import replay_io

try:
    import jax
    import jax.numpy as jnp
except ImportError as error:
    replay_io.unavailable(error)

run, recorder = replay_io.start("jax", style="differentiable")
recorder.versions["jax"] = jax.__version__
lr = run.learning_rate


def predict(params, x):
    h1 = jnp.tanh(x @ params["fc1.weight"].T + params["fc1.bias"])
    h2 = jax.nn.sigmoid(h1 @ params["fc2.weight"].T + params["fc2.bias"])
    return h2 @ params["fc3.weight"].T + params["fc3.bias"]      # logits or ŷ


def loss_fn(params, x, y):
    output = predict(params, x)
    if run.classifies:                                              # log-sum-exp from the logits
        log_probabilities = jax.nn.log_softmax(output)
        return -jnp.mean(jnp.take_along_axis(log_probabilities, y[:, None], axis=1))
    return jnp.mean((output - y) ** 2)


@jax.jit
def train_step(params, x, y):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
    return jax.tree.map(lambda p, g: p - lr * g, params, grads), loss


params = {name: jnp.asarray(value) for name, value in run.initial.items()}
y_train = run.y_train.astype("int32") if run.classifies else run.y_train   # JAX's default integers are 32-bit
x_test = jnp.asarray(run.x_test)
predict_jit = jax.jit(predict)

for epoch in range(1, run.epochs + 1):
    recorder.epoch_started()
    for rows in run.batches(epoch):
        params, loss = train_step(params, run.x_train[rows], y_train[rows])   # loss: not waited for
        recorder.step(loss, len(rows))
    recorder.training_ended()
    recorder.epoch_ended(predict_jit(params, x_test))

recorder.write({name: jax.device_get(value) for name, value in params.items()})
