"""PyTorch modules: an nn.Module with three nn.Linear layers, a loss, torch.optim.SGD, and the
four lines of every training loop.

Mirrors the Swift style `modules` (Level 2, Sources/Level2Modules/ModulesNetwork.swift). The
batches come from a DataLoader whose sampler yields the exported order, one batch of indices
at a time; like DistributedSampler, it is told the epoch with `set_epoch`.

    python References/torch_modules.py EXPORT_DIR RESULT_DIR
"""

import replay_io

try:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, Dataset, Sampler
except ImportError as error:
    replay_io.unavailable(error)


class Network(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.fc1 = nn.Linear(sizes[0], sizes[1])
        self.fc2 = nn.Linear(sizes[1], sizes[2])
        self.fc3 = nn.Linear(sizes[2], sizes[3])

    def forward(self, x):
        h1 = torch.tanh(self.fc1(x))                   # [B, H1]
        h2 = torch.sigmoid(self.fc2(h1))               # [B, H2]
        return self.fc3(h2)                            # [B, O]: logits (CrossEntropyLoss applies softmax)


class Rows(Dataset):
    """The training set; indexed by a whole batch of rows at once."""

    def __init__(self, x, y):
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, rows):
        return self.x[rows], self.y[rows]


class ExportedOrder(Sampler):
    """Yields the batches of the exported run, epoch by epoch (set_epoch takes 0-based epochs)."""

    def __init__(self, run):
        self.run, self.epoch = run, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        return iter(torch.from_numpy(rows) for rows in self.run.batches(self.epoch + 1))

    def __len__(self):
        return self.run.steps_per_epoch


if __name__ == "__main__":
    run, recorder = replay_io.start("torch", style="modules")
    recorder.versions["torch"] = torch.__version__

    model = Network(run.sizes)
    model.load_state_dict({name: torch.from_numpy(value) for name, value in run.initial.items()})
    criterion = nn.CrossEntropyLoss() if run.classifies else nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=run.learning_rate)
    sampler = ExportedOrder(run)
    loader = DataLoader(Rows(run.x_train, run.y_train), sampler=sampler, batch_size=None)
    x_test = torch.from_numpy(run.x_test)

    for epoch in range(run.epochs):
        sampler.set_epoch(epoch)
        model.train()
        recorder.epoch_started()
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            recorder.step(loss.detach(), len(x))
        recorder.training_ended()
        model.eval()
        with torch.no_grad():
            recorder.epoch_ended(model(x_test).numpy())

    recorder.write({name: value.numpy() for name, value in model.state_dict().items()})
