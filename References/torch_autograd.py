"""PyTorch raw autograd: six tensors that require grad, the forward pass as maths, backward().

Mirrors the Swift style `autograd` (Level 3, Sources/Level3Autograd/AutogradNetwork.swift):
no nn.Module and no optimizer; `loss.backward()` fills every parameter's `.grad`, and the SGD
update is written by hand under `torch.no_grad()`, followed by zeroing the gradients.

    python References/torch_autograd.py EXPORT_DIR RESULT_DIR
"""

import replay_io

try:
    import torch
    import torch.nn.functional as F
except ImportError as error:
    replay_io.unavailable(error)

run, recorder = replay_io.start("torch", style="autograd")
recorder.versions["torch"] = torch.__version__
lr = run.learning_rate

params = {name: torch.tensor(value, requires_grad=True) for name, value in run.initial.items()}
w1, b1, w2, b2, w3, b3 = (params[name] for name in replay_io.TENSOR_NAMES)
x_train, y_train = torch.from_numpy(run.x_train), torch.from_numpy(run.y_train)
x_test = torch.from_numpy(run.x_test)


def forward(x):
    h1 = torch.tanh(x @ w1.T + b1)                     # [B, H1]
    h2 = torch.sigmoid(h1 @ w2.T + b2)                 # [B, H2]
    return h2 @ w3.T + b3                              # [B, O]: logits or ŷ


def loss_of(output, y):
    return F.cross_entropy(output, y) if run.classifies else F.mse_loss(output, y)


for epoch in range(1, run.epochs + 1):
    recorder.epoch_started()
    for rows in run.batches(epoch):
        rows = torch.from_numpy(rows)
        loss = loss_of(forward(x_train[rows]), y_train[rows])
        loss.backward()                                # every parameter's .grad
        with torch.no_grad():                          # the update is not part of any graph
            for parameter in params.values():
                parameter -= lr * parameter.grad
                parameter.grad = None                  # else the next backward() adds to it
        recorder.step(loss.detach(), len(rows))
    recorder.training_ended()
    with torch.no_grad():
        recorder.epoch_ended(forward(x_test).numpy())

recorder.write({name: value.detach().numpy() for name, value in params.items()})
