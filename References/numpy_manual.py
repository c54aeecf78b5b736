"""NumPy by hand: forward and backward written out, no autograd.

Mirrors the Swift style `manual` (Level 4, Sources/Level4Manual/ManualNetwork.swift): the
forward pass keeps what the backward pass needs, the backward pass walks the layers in
reverse, and SGD updates every array in place. Needs NumPy only.

    python References/numpy_manual.py EXPORT_DIR RESULT_DIR
"""

import numpy as np

import replay_io

run, recorder = replay_io.start("numpy", style="manual")
lr = np.float32(run.learning_rate)
params = {name: value.copy() for name, value in run.initial.items()}   # W: [out, in], b: [out]
W1, b1, W2, b2, W3, b3 = (params[name] for name in replay_io.TENSOR_NAMES)


def forward(x):
    """Returns the outputs (logits or ŷ) and what the backward pass needs."""
    a1 = np.tanh(x @ W1.T + b1)                       # [B, H1]
    a2 = 1 / (1 + np.exp(-(a1 @ W2.T + b2)))           # [B, H2], σ
    z3 = a2 @ W3.T + b3                                # [B, O]
    return z3, (a1, a2)


def loss_and_gradient(z3, y):
    """Mean loss over the batch and its gradient with respect to z3."""
    batch = z3.shape[0]
    if run.classifies:
        shifted = z3 - z3.max(axis=1, keepdims=True)   # log-sum-exp, stable
        log_sum = np.log(np.exp(shifted).sum(axis=1))
        rows = np.arange(batch)
        loss = np.mean(log_sum - shifted[rows, y])
        dz3 = np.exp(shifted - log_sum[:, None])        # softmax
        dz3[rows, y] -= 1
        return loss, dz3 / np.float32(batch)
    residual = z3 - y
    return np.mean(residual * residual), residual * np.float32(2 / residual.size)


for epoch in range(1, run.epochs + 1):
    recorder.epoch_started()
    for rows in run.batches(epoch):
        x, y = run.x_train[rows], run.y_train[rows]
        z3, (a1, a2) = forward(x)
        loss, dz3 = loss_and_gradient(z3, y)
        # backward, last layer first: db = Σ dz, dW = dzᵀ·a, da = dz·W
        dz2 = (dz3 @ W3) * a2 * (1 - a2)                # σ' = σ(1 − σ)
        dz1 = (dz2 @ W2) * (1 - a1 * a1)                # tanh' = 1 − tanh²
        gradients = [dz1.T @ x, dz1.sum(axis=0), dz2.T @ a1, dz2.sum(axis=0), dz3.T @ a2, dz3.sum(axis=0)]
        for parameter, gradient in zip((W1, b1, W2, b2, W3, b3), gradients):
            parameter -= lr * gradient                   # SGD, in place
        recorder.step(loss, len(rows))
    recorder.training_ended()
    recorder.epoch_ended(forward(run.x_test)[0])

recorder.write(params)
