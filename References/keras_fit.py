"""Keras 3: a Sequential model, compile, fit.

Mirrors the Swift style `keras` (Level 1, Sources/Level1HighLevel/KerasNetwork.swift). The
batches come from a tf.data pipeline that cuts each epoch's exported order into batches and
gathers their rows, one epoch after another (so fit's own shuffling is off); the last Dense layer has no activation and the loss takes logits
(`from_logits=True`), which is softmax and cross-entropy fused, as in the Swift level. Keras
keeps kernels as [in, out], so the exported [out, in] weights are transposed in and out.
A metric keeps the last batch's loss (fit's "loss" is the epoch's running mean), and a callback
records it after every batch.

    python References/keras_fit.py EXPORT_DIR RESULT_DIR
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import replay_io  # noqa: E402

try:
    import keras
    import tensorflow as tf
    from keras import layers
except ImportError as error:
    replay_io.unavailable(error)


def exported_batches(run):
    """A tf.data pipeline of the run's batches, every epoch one after another, in the exported order."""
    x, y = tf.constant(run.x_train), tf.constant(run.y_train)
    orders = tf.data.Dataset.from_tensor_slices(np.stack(run.orders))            # [epochs, N]
    rows = orders.flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(run.batch_size))
    return rows.map(lambda batch: (tf.gather(x, batch), tf.gather(y, batch))).prefetch(tf.data.AUTOTUNE)


class BatchLoss(keras.metrics.Metric):
    """The loss of the latest batch, not averaged over the epoch."""

    def __init__(self, loss, name="batch_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.loss = loss
        self.value = self.add_variable(shape=(), initializer="zeros", name="value")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.value.assign(self.loss(y_true, y_pred))

    def result(self):
        return self.value


class Record(keras.callbacks.Callback):
    def __init__(self, recorder, run):
        super().__init__()
        self.recorder, self.run = recorder, run

    def on_epoch_begin(self, epoch, logs=None):
        self.recorder.epoch_started()
        self.sizes = [len(rows) for rows in self.run.batches(epoch + 1)]

    def on_train_batch_end(self, batch, logs=None):
        self.recorder.step(float(logs["batch_loss"]), self.sizes[batch])

    def on_epoch_end(self, epoch, logs=None):
        self.recorder.training_ended()
        self.recorder.epoch_ended(self.model.predict(self.run.x_test, batch_size=1000, verbose=0))


run, recorder = replay_io.start("keras", style="keras")
recorder.versions.update({"keras": keras.__version__, "backend": keras.backend.backend()})
loss = (keras.losses.SparseCategoricalCrossentropy(from_logits=True) if run.classifies
        else keras.losses.MeanSquaredError())

model = keras.Sequential([
    keras.Input((run.sizes[0],)),
    layers.Dense(run.sizes[1], activation="tanh"),       # fc1
    layers.Dense(run.sizes[2], activation="sigmoid"),    # fc2
    layers.Dense(run.sizes[3]),                          # fc3: logits or ŷ
])
model.set_weights([run.initial[name].T if name.endswith("weight") else run.initial[name]
                   for name in replay_io.TENSOR_NAMES])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=run.learning_rate), loss=loss, metrics=[BatchLoss(loss)])
# One stream of batches for the whole run: with steps_per_epoch, fit keeps reading it across epochs.
model.fit(exported_batches(run), epochs=run.epochs, steps_per_epoch=run.steps_per_epoch, shuffle=False, verbose=0,
          callbacks=[Record(recorder, run)])

weights = model.get_weights()
recorder.write({name: value.T if name.endswith("weight") else value
                for name, value in zip(replay_io.TENSOR_NAMES, weights)})
