"""Lightning: a LightningModule (training_step + configure_optimizers) run by Trainer.fit.

Mirrors the Swift style `lightning` (Level 1, Sources/Level1HighLevel/LightningNetwork.swift).
The network, the batch-indexed dataset and the sampler of the exported order are those of
torch_modules.py; the Trainer calls the sampler's `set_epoch` itself at every epoch, and the
loop, `zero_grad`, `backward` and `step` are its own. A callback records what the report needs.

    python References/lightning_module.py EXPORT_DIR RESULT_DIR
"""

import replay_io

try:
    import lightning as L
    import torch
    from torch import nn
    from torch.utils.data import DataLoader
except ImportError as error:
    replay_io.unavailable(error)

from torch_modules import ExportedOrder, Network, Rows


class Classifier(L.LightningModule):
    def __init__(self, run):
        super().__init__()
        self.run = run
        self.net = Network(run.sizes)
        self.net.load_state_dict({name: torch.from_numpy(value) for name, value in run.initial.items()})
        self.criterion = nn.CrossEntropyLoss() if run.classifies else nn.MSELoss()

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_index):
        x, y = batch
        return self.criterion(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.run.learning_rate)

    def train_dataloader(self):
        return DataLoader(Rows(self.run.x_train, self.run.y_train), sampler=ExportedOrder(self.run), batch_size=None)


class Record(L.Callback):
    """Step losses, the epoch's clock, and the test outputs after each epoch."""

    def __init__(self, recorder, x_test):
        self.recorder, self.x_test = recorder, x_test

    def on_train_epoch_start(self, trainer, module):
        self.recorder.epoch_started()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_index):
        self.recorder.step(outputs["loss"].detach(), len(batch[0]))
        if batch_index + 1 == trainer.num_training_batches:
            self.recorder.training_ended()

    def on_train_epoch_end(self, trainer, module):
        with torch.no_grad():
            self.recorder.epoch_ended(module(self.x_test).numpy())


run, recorder = replay_io.start("lightning", style="lightning")
recorder.versions.update({"lightning": L.__version__, "torch": torch.__version__})
module = Classifier(run)
trainer = L.Trainer(max_epochs=run.epochs, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                    enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                    callbacks=[Record(recorder, torch.from_numpy(run.x_test))])
trainer.fit(module)
recorder.write({name: value.numpy() for name, value in module.net.state_dict().items()})
