"""What every replay shares: reading an exported run, reading the data, writing the result.

Only the standard library and NumPy, so that the NumPy replay needs nothing else. Safetensors
files are read and written by hand: an 8-byte little-endian header length, a JSON header that
says where each tensor lives, then the raw little-endian values.

A replay is started as

    python References/<script>.py EXPORT_DIR RESULT_DIR

EXPORT_DIR is what `compare-levels --export-run DIR` (or `--references`) writes:

    run.json                  the recipe: task, sizes, activations, learning rate, batch size,
                              epochs, seed, shuffle, sample counts, where the data is
    initial.safetensors       the initial weights, fc1.weight [out, in], fc1.bias [out], ...
    batch_order.safetensors   epoch_1 ... epoch_E: int32 [N], the order of the training rows
    data.safetensors          regression only: train_inputs, train_targets, test_inputs,
                              test_targets (float32)

RESULT_DIR receives

    result.json               framework, style, versions, step_losses (every step, in order),
                              epochs (train_loss, test_loss, test_accuracy or test_r2, seconds),
                              seconds_per_epoch (median), samples_per_second, peak_rss_mib
    final.safetensors         the trained weights, in the layout of initial.safetensors

Exit status: 0 done; 3 the framework cannot be imported (one line on stderr says why);
65 the export is unreadable (one line names the file); anything else is a crash.
"""

import gzip
import json
import os
import resource
import struct
import sys
import time

import numpy as np

UNAVAILABLE = 3
BAD_EXPORT = 65

TENSOR_NAMES = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8")}


class ExportError(Exception):
    """The exported run cannot be used: `file` says which file, `reason` why."""

    def __init__(self, file, reason):
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


def unavailable(error):
    """Call when the framework's import fails: says why on one line and exits with status 3."""
    print(f"unavailable: {error}".splitlines()[0], file=sys.stderr)
    sys.exit(UNAVAILABLE)


# MARK: safetensors by hand

def read_safetensors(path):
    """The tensors of a safetensors file, by name, as NumPy arrays (and the metadata)."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise ExportError(path, error.strerror or str(error)) from None
    if len(data) < 8:
        raise ExportError(path, f"{len(data)} bytes, shorter than the 8-byte header length")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise ExportError(path, f"header length {length} runs past the end of the file")
    try:
        header = json.loads(data[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ExportError(path, "header is not UTF-8 JSON") from None
    if not isinstance(header, dict):
        raise ExportError(path, "header is not a JSON object")
    buffer = memoryview(data)[8 + length:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, entry in header.items():
        try:
            dtype = _DTYPES[entry["dtype"]]
            shape = [int(size) for size in entry["shape"]]
            begin, end = (int(offset) for offset in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ExportError(path, f"tensor {name}: entry needs a known dtype, a shape and data_offsets") from None
        count = int(np.prod(shape, dtype=np.int64))
        if not (0 <= begin <= end <= len(buffer)) or end - begin != count * dtype.itemsize:
            raise ExportError(path, f"tensor {name}: data_offsets [{begin}, {end}] do not hold shape {shape}")
        tensors[name] = np.frombuffer(buffer[begin:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes `tensors` (name -> float32 or int32 array) as a safetensors file, in the order given."""
    names = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int32"): "I32", np.dtype("int64"): "I64"}
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(key): str(value) for key, value in metadata.items()}
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": names[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    temporary = path + ".partial"
    with open(temporary, "wb") as file:
        file.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    os.replace(temporary, path)


# MARK: IDX files (MNIST format), plain or gzip

def read_idx(path, count):
    """The first `count` items of an unsigned-byte IDX file, as a uint8 array."""
    try:
        with (gzip.open if path.endswith(".gz") else open)(path, "rb") as file:
            data = file.read()
    except (OSError, EOFError) as error:
        raise ExportError(path, str(error)) from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ExportError(path, "not an unsigned-byte IDX file")
    rank = data[3]
    shape = struct.unpack(f">{rank}I", data[4:4 + 4 * rank])
    if not shape or shape[0] < count:
        raise ExportError(path, f"holds {shape[0] if shape else 0} items, the run uses {count}")
    item = int(np.prod(shape[1:], dtype=np.int64))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size < shape[0] * item:
        raise ExportError(path, "is shorter than its header says")
    return body[:count * item].reshape((count,) + tuple(shape[1:]))


# MARK: the exported run

class Run:
    """An exported run: recipe, initial weights, batch order and data, all as NumPy arrays.

    x_train, x_test: float32 [N, inputs]; y_train, y_test: int64 labels [N] (classification)
    or float32 targets [N, outputs] (regression). initial: name -> float32 array.
    """

    def __init__(self, directory):
        self.directory = directory
        recipe_path = os.path.join(directory, "run.json")
        try:
            with open(recipe_path, encoding="utf-8") as file:
                recipe = json.load(file)
            self.task = recipe["task"]
            self.sizes = [int(size) for size in recipe["sizes"]]
            self.activations = list(recipe["activations"])
            self.learning_rate = float(recipe["learning_rate"])
            self.batch_size = int(recipe["batch_size"])
            self.epochs = int(recipe["epochs"])
            self.seed = int(recipe["seed"])
            self.shuffle = bool(recipe["shuffle"])
            self.train_count = int(recipe["train_count"])
            self.test_count = int(recipe["test_count"])
            files = recipe["files"]
            data = recipe["data"]
        except OSError as error:
            raise ExportError(recipe_path, error.strerror or str(error)) from None
        except (ValueError, KeyError, TypeError) as error:
            raise ExportError(recipe_path, f"not a run recipe ({type(error).__name__}: {error})") from None
        if self.task not in ("classification", "regression") or len(self.sizes) != 4 or self.batch_size < 1:
            raise ExportError(recipe_path, "task, sizes or batch_size out of range")
        self.recipe = recipe

        def path(name):
            return os.path.join(directory, name)

        initial_path = path(files["initial_weights"])
        self.initial, _ = read_safetensors(initial_path)
        for (name, want) in zip(TENSOR_NAMES, self._shapes()):
            got = self.initial.get(name)
            if got is None or list(got.shape) != want or got.dtype != np.float32:
                raise ExportError(initial_path, f"{name} is missing or not float32 {want}")

        order_path = path(files["batch_order"])
        orders, _ = read_safetensors(order_path)
        self.orders = []
        for epoch in range(1, self.epochs + 1):
            order = orders.get(f"epoch_{epoch}")
            if order is None or order.shape != (self.train_count,):
                raise ExportError(order_path, f"epoch_{epoch} is missing or not of shape [{self.train_count}]")
            if order.size and (order.min() < 0 or order.max() >= self.train_count):
                raise ExportError(order_path, f"epoch_{epoch} has a row outside 0..<{self.train_count}")
            self.orders.append(order.astype(np.int64))

        if self.task == "classification":
            def idx(key, count):
                try:
                    return read_idx(data[key], count)
                except KeyError:
                    raise ExportError(recipe_path, f"data.{key} is missing") from None

            def pixels(images):
                return images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255)

            self.x_train = pixels(idx("train_images", self.train_count))
            self.y_train = idx("train_labels", self.train_count).astype(np.int64)
            self.x_test = pixels(idx("test_images", self.test_count))
            self.y_test = idx("test_labels", self.test_count).astype(np.int64)
        else:
            data_path = path(data.get("file", "data.safetensors"))
            tensors, _ = read_safetensors(data_path)
            try:
                self.x_train, self.y_train = tensors["train_inputs"], tensors["train_targets"]
                self.x_test, self.y_test = tensors["test_inputs"], tensors["test_targets"]
            except KeyError as error:
                raise ExportError(data_path, f"missing tensor {error}") from None
        if self.x_train.shape != (self.train_count, self.sizes[0]):
            raise ExportError(recipe_path, f"training inputs are {list(self.x_train.shape)}, "
                                           f"the run needs [{self.train_count}, {self.sizes[0]}]")

    def _shapes(self):
        s = self.sizes
        return [[s[1], s[0]], [s[1]], [s[2], s[1]], [s[2]], [s[3], s[2]], [s[3]]]

    @property
    def classifies(self):
        return self.task == "classification"

    @property
    def steps_per_epoch(self):
        return -(-self.train_count // self.batch_size)

    def batches(self, epoch):
        """The index arrays of epoch `epoch` (1-based), in order; the last may be shorter."""
        order = self.orders[epoch - 1]
        return [order[start:start + self.batch_size] for start in range(0, self.train_count, self.batch_size)]


def start(framework, style):
    """Reads the command line and the exported run; a bad export ends the script (status 65)."""
    if len(sys.argv) != 3:
        print(f"usage: {os.path.basename(sys.argv[0])} EXPORT_DIR RESULT_DIR", file=sys.stderr)
        sys.exit(64)
    try:
        run = Run(sys.argv[1])
    except ExportError as error:
        print(f"bad export: {error.file}: {error.reason}", file=sys.stderr)
        sys.exit(BAD_EXPORT)
    return run, Recorder(framework, style, run, sys.argv[2])


# MARK: measuring and writing the result

def test_metrics(run, outputs):
    """Test loss and accuracy (or R²) from the network's test outputs: logits or predictions."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if run.classifies:
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=1))
        loss = float(np.mean(log_sum - shifted[np.arange(len(run.y_test)), run.y_test]))
        return {"test_loss": loss, "test_accuracy": float(np.mean(outputs.argmax(axis=1) == run.y_test))}
    targets = run.y_test.astype(np.float64)
    residual = float(np.sum((outputs - targets) ** 2))
    total = float(np.sum((targets - targets.mean(axis=0)) ** 2))
    return {"test_loss": residual / targets.size, "test_r2": 1 - residual / total if total > 0 else 0.0}


class Recorder:
    """Collects step losses and epoch records, and writes result.json and final.safetensors."""

    def __init__(self, framework, style, run, directory):
        self.framework, self.style, self.run, self.directory = framework, style, run, directory
        self.step_losses, self.epochs, self.versions = [], [], {"numpy": np.__version__, "python": sys.version.split()[0]}
        self._pending, self._start, self._sum = [], None, 0.0

    def epoch_started(self):
        self._pending = []
        self._start = time.perf_counter()

    def step(self, loss, batch_size):
        """One step's mean batch loss (a float, or a framework scalar read at the end of the epoch)."""
        self._pending.append((loss, batch_size))

    def training_ended(self):
        """Ends the epoch's clock: reads the pending losses (waiting for any asynchronous work)."""
        losses = [(float(np.asarray(loss)), size) for loss, size in self._pending]
        seconds = time.perf_counter() - self._start
        self._pending = []
        self.step_losses += [loss for loss, _ in losses]
        self._epoch_loss = sum(loss * size for loss, size in losses) / max(1, sum(size for _, size in losses))
        self._seconds = seconds

    def epoch_ended(self, test_outputs):
        """Records the epoch: its training loss and time, and test metrics from the test outputs."""
        record = {"epoch": len(self.epochs) + 1, "train_loss": self._epoch_loss}
        record.update(test_metrics(self.run, test_outputs))
        record["seconds"] = self._seconds
        self.epochs.append(record)

    def write(self, final_weights):
        """Writes result.json and final.safetensors (weights: name -> array, [out, in] and [out])."""
        os.makedirs(self.directory, exist_ok=True)
        weights = {name: np.asarray(final_weights[name], dtype=np.float32).reshape(self.run.initial[name].shape)
                   for name in TENSOR_NAMES}
        write_safetensors(os.path.join(self.directory, "final.safetensors"), weights,
                          {"task": self.run.task, "framework": self.framework})
        seconds = sorted(record["seconds"] for record in self.epochs)
        median = (seconds[(len(seconds) - 1) // 2] + seconds[len(seconds) // 2]) / 2 if seconds else 0.0
        result = {
            "framework": self.framework, "style": self.style, "versions": self.versions,
            "task": self.run.task, "steps_per_epoch": self.run.steps_per_epoch,
            "step_losses": self.step_losses, "epochs": self.epochs,
            "seconds_per_epoch": median,
            "samples_per_second": self.run.train_count / median if median > 0 else 0.0,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "final_weights": "final.safetensors",
        }
        path = os.path.join(self.directory, "result.json")
        with open(path + ".partial", "w", encoding="utf-8") as file:
            json.dump(result, file, indent=1)
        os.replace(path + ".partial", path)
        last = self.epochs[-1] if self.epochs else {}
        metric = "test_accuracy" if self.run.classifies else "test_r2"
        print(f"{self.framework} ({self.style}): {len(self.epochs)} epochs, {metric} {last.get(metric, float('nan')):.4f}, "
              f"{median:.3f} s/epoch, result in {self.directory}")
