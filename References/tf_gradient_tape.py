"""TensorFlow: tf.Variables, the forward pass under a GradientTape with einsum, and
`tape.gradient(loss, variables)` returning the gradients; the step is a tf.function.

Mirrors the Swift style `gradient-tape` (Level 3, Sources/Level3Autograd: `einsum("bi,oi->bo",
x, w)` is the same product as `x·Wᵀ`). The update is written by hand: `v.assign_sub(lr * g)`.

    python References/tf_gradient_tape.py EXPORT_DIR RESULT_DIR
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import replay_io  # noqa: E402

try:
    import tensorflow as tf
except ImportError as error:
    replay_io.unavailable(error)

run, recorder = replay_io.start("tensorflow", style="gradient-tape")
recorder.versions["tensorflow"] = tf.__version__
lr = tf.constant(run.learning_rate, tf.float32)

variables = [tf.Variable(run.initial[name], name=name) for name in replay_io.TENSOR_NAMES]
w1, b1, w2, b2, w3, b3 = variables


def forward(x):
    h1 = tf.tanh(tf.einsum("bi,oi->bo", x, w1) + b1)        # [B, H1]
    h2 = tf.sigmoid(tf.einsum("bi,oi->bo", h1, w2) + b2)    # [B, H2]
    return tf.einsum("bi,oi->bo", h2, w3) + b3              # [B, O]: logits or ŷ


def loss_of(output, y):
    if run.classifies:
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=output))
    return tf.reduce_mean(tf.square(output - y))


@tf.function(reduce_retracing=True)
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = loss_of(forward(x), y)
    gradients = tape.gradient(loss, variables)
    for variable, gradient in zip(variables, gradients):
        variable.assign_sub(lr * gradient)
    return loss


x_test = tf.constant(run.x_test)
for epoch in range(1, run.epochs + 1):
    recorder.epoch_started()
    for rows in run.batches(epoch):
        loss = train_step(tf.constant(run.x_train[rows]), tf.constant(run.y_train[rows]))
        recorder.step(loss, len(rows))
    recorder.training_ended()
    recorder.epoch_ended(forward(x_test).numpy())

recorder.write({name: variable.numpy() for name, variable in zip(replay_io.TENSOR_NAMES, variables)})
