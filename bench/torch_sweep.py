#!/usr/bin/env python3
"""PyTorch reference for the sweep benchmark (`make bench`, scripts/bench.mjs): the training part
of a defrost study, written as a plain PyTorch script, on the data a defrost store generated.

It runs what defrost's training stages run, with the same recipe:
- one source network per seed, trained on the whole source set;
- one scratch network per (correlation, n, seed), on the first n target rows (and the similarity
  reference, n = target_reference_size, seed = seeds[0], when it is not already in the sweep);
- one transfer run per (correlation, n, mode, depth, seed): blocks copied from the seed's source
  network (`defrost`: all, `reinit`: 1..depth), blocks 1..depth frozen, a fresh readout;
- each run: He-uniform hidden kernels, Glorot-uniform readout, zero biases; a seeded shuffle per
  epoch; batches of batch_size; softmax cross-entropy; the optimizer with TensorFlow.js's
  settings (Adam epsilon 1e-7); epochs extended to min_steps steps; early stopping on a
  validation set with patience (in checks), a budget and best-check restore when the recipe asks
  for it (the task's own validation set when the store has one, with each seed's own subset of
  the target pool; else a held-out fraction of the training rows); every learning rate of a
  list, keeping the best on validation; then the test accuracy.
It does not compute the similarity measures, the predictors or the report (defrost does), so
the comparison favours PyTorch slightly.

    python3 bench/torch_sweep.py PROTOCOL.json

PROTOCOL.json (written by scripts/bench.mjs from the resolved config and the exported data):
  {"workers", "model", "train", "seeds", "modes", "depths", "target_sizes", "reference_size",
   "source": {"train_x", "train_y", "test_x", "test_y", "shape"},
   "targets": [{"correlation", "train_x", "train_y", "test_x", "test_y", "shape"}]}
Prints one JSON line: {"runs", "seconds", "mean_test_accuracy", "torch", "threads"}.
"""
import json
import math
import multiprocessing
import sys
import time
import zlib

import numpy as np

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - depends on the machine
    print("torch_sweep: PyTorch is not installed (Debian: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(3)

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "elu": nn.ELU, "linear": nn.Identity}
RECTIFIERS = {"relu", "elu", "selu", "swish"}


class Network(nn.Module):
    """L hidden blocks (dense or conv + activation [+ 2x2 max pool]) and a linear readout."""

    def __init__(self, model: dict, shape: list, classes: int):
        super().__init__()
        act = ACTIVATIONS[model["activation"]]
        blocks = []
        if model["kind"] == "mlp":
            width = int(np.prod(shape))
            for units in model["hidden"]:
                blocks.append(nn.Sequential(nn.Linear(width, units), act()))
                width = units
            self.head = nn.Identity()
        else:
            channels = shape[2]
            k = model["kernel_size"]
            for i, filters in enumerate(model["hidden"], start=1):
                layers = [nn.Conv2d(channels, filters, k, padding="same"), act()]
                if i in model["pool_after"]:
                    layers.append(nn.MaxPool2d(2))
                blocks.append(nn.Sequential(*layers))
                channels = filters
            width = channels
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.blocks = nn.ModuleList(blocks)
        self.readout = nn.Linear(width, classes)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.readout(self.head(x))


def weighted(block: nn.Module) -> nn.Module:
    return block[0]


def init_layer(layer: nn.Module, generator: torch.Generator, rectifier: bool) -> None:
    w = layer.weight
    receptive = int(np.prod(w.shape[2:])) if w.dim() > 2 else 1
    fan_in, fan_out = w.shape[1] * receptive, w.shape[0] * receptive
    limit = math.sqrt(6 / fan_in) if rectifier else math.sqrt(6 / (fan_in + fan_out))
    with torch.no_grad():
        w.copy_((torch.rand(w.shape, generator=generator) * 2 - 1) * limit)
        layer.bias.zero_()


def stream(seed: int, name: str) -> torch.Generator:
    """A generator per (seed, named stream), as defrost's Rng streams (not the same numbers)."""
    return torch.Generator().manual_seed(zlib.crc32(f"{seed}/{name}".encode()))


def build(model: dict, shape: list, classes: int, seed: int, scope: str) -> Network:
    net = Network(model, shape, classes)
    rectifier = model["activation"] in RECTIFIERS
    for i, block in enumerate(net.blocks, start=1):
        init_layer(weighted(block), stream(seed, f"{scope}/block{i}"), rectifier)
    init_layer(net.readout, stream(seed, f"{scope}/readout"), False)
    return net


def optimizer_for(train: dict, params):
    if train["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=train["learning_rate"], eps=1e-7)
    if train["optimizer"] == "momentum":
        return torch.optim.SGD(params, lr=train["learning_rate"], momentum=train["momentum"])
    return torch.optim.SGD(params, lr=train["learning_rate"])


def evaluate(net: Network, x: torch.Tensor, y: torch.Tensor, chunk: int = 1024):
    net.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(y), chunk):
            logits = net(x[start:start + chunk])
            loss += nn.functional.cross_entropy(logits, y[start:start + chunk], reduction="sum").item()
            correct += (logits.argmax(1) == y[start:start + chunk]).sum().item()
    net.train()
    return correct / len(y), loss / len(y)


def better(a: tuple, b: tuple, monitor: str) -> bool:
    """(accuracy, loss) a is strictly better than b under the monitor."""
    return a[1] < b[1] if monitor == "val_loss" else a[0] > b[0]


def train(net: Network, x: torch.Tensor, y: torch.Tensor, train: dict, seed: int, validation=None) -> tuple:
    """The seeded loop of stages/lib/models/training.ts, for every learning rate of the recipe (the best on
    validation is kept); returns the kept weights' validation (accuracy, loss) or None."""
    rates = train["learning_rate"] if isinstance(train["learning_rate"], list) else [train["learning_rate"]]
    stopping = train.get("early_stopping")
    if stopping and "validation_fraction" in stopping and len(y) >= 2:
        # The earlier protocol: a held-out fraction of the training rows.
        order = np.random.default_rng([seed, 1]).permutation(len(y))
        held = min(len(y) - 1, max(1, round(stopping["validation_fraction"] * len(y))))
        validation = (x[order[:held]], y[order[:held]])
        x, y = x[order[held:]], y[order[held:]]
    if len(rates) == 1:
        return train_with_rate(net, x, y, train, rates[0], seed, validation)
    params = [p for p in net.parameters() if p.requires_grad]
    start = [p.detach().clone() for p in params]
    monitor = (stopping or {}).get("monitor", "val_loss")
    kept = None
    for rate in rates:
        with torch.no_grad():
            for p, s in zip(params, start):
                p.copy_(s)
        result = train_with_rate(net, x, y, train, rate, seed, validation)
        if kept is None or better(result, kept[0], monitor):
            kept = (result, [p.detach().clone() for p in params])
    with torch.no_grad():
        for p, s in zip(params, kept[1]):
            p.copy_(s)
    return kept[0]


def train_with_rate(net: Network, x: torch.Tensor, y: torch.Tensor, train: dict, rate: float, seed: int, validation):
    rows = len(y)
    stopping = train.get("early_stopping")
    batch = max(1, min(train["batch_size"], rows))
    per_epoch = math.ceil(rows / batch)
    budget = stopping.get("max_epochs", train["epochs"]) if stopping else train["epochs"]
    epochs = max(budget, math.ceil(train["min_steps"] / per_epoch))
    check_every = max(1, math.ceil(stopping.get("check_steps", 1) / per_epoch)) if stopping else epochs
    monitor = stopping.get("monitor", "val_loss") if stopping else "val_loss"
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = optimizer_for({**train, "learning_rate": rate}, params)
    steps, checks, best = 0, 0, None
    for epoch in range(1, epochs + 1):
        order = torch.from_numpy(np.random.default_rng([seed, 2, epoch]).permutation(rows))
        for step in range(per_epoch):
            index = order[step * batch:(step + 1) * batch]
            optimizer.zero_grad(set_to_none=True)
            logits = net(x[index])
            loss = nn.functional.cross_entropy(logits, y[index])
            loss.backward()
            optimizer.step()
            # As defrost: the loss and hits are read back every step (to stop on divergence).
            float(loss.item())
            steps += 1
        if stopping and validation is not None and (epoch % check_every == 0 or epoch == epochs):
            checks += 1
            result = evaluate(net, *validation)
            if best is None or better(result, best[0], monitor):
                best = (result, checks, [p.detach().clone() for p in params])
            elif checks - best[1] >= stopping["patience"] and ("max_epochs" in stopping or steps >= train["min_steps"]):
                # The validation-set protocol stops on patience alone (min_steps only sizes the
                # budget); the earlier one never stopped before min_steps.
                break
    if best is not None:
        with torch.no_grad():
            for p, kept in zip(params, best[2]):
                p.copy_(kept)
        return best[0]
    return evaluate(net, *validation) if validation is not None else (0.0, 0.0)


def load(paths: dict, prefix: str, shape: list, kind: str):
    x = torch.from_numpy(np.load(paths[f"{prefix}_x"]).astype(np.float32, copy=False))
    y = torch.from_numpy(np.load(paths[f"{prefix}_y"]).reshape(-1).astype(np.int64))
    x = x.reshape(len(y), *shape)
    if kind == "cnn":
        x = x.permute(0, 3, 1, 2).contiguous()  # NHWC (defrost's layout) -> NCHW
    else:
        x = x.reshape(len(y), -1)
    return x, y


# Per worker process: the protocol, its data, and the source networks it has trained or loaded.
STATE: dict = {}


def worker_init(protocol: dict, sources: dict) -> None:
    torch.set_num_threads(1)
    kind = protocol["model"]["kind"]
    src = protocol["source"]
    STATE["protocol"] = protocol
    STATE["source"] = (load(src, "train", src["shape"], kind), load(src, "test", src["shape"], kind), src["shape"])
    STATE["source_validation"] = load(src, "validation", src["shape"], kind) if "validation_x" in src else None
    STATE["targets"] = [
        (load(t, "train", t["shape"], kind), load(t, "test", t["shape"], kind), t["shape"]) for t in protocol["targets"]
    ]
    STATE["target_validation"] = [
        load(t, "validation", t["shape"], kind) if "validation_x" in t else None for t in protocol["targets"]
    ]
    STATE["sources"] = {}
    for seed, weights in sources.items():
        (_, y), _, shape = STATE["source"]
        net = build(protocol["model"], shape, classes_of(y), seed, "source/init")
        net.load_state_dict(weights)
        STATE["sources"][seed] = net


def classes_of(y: torch.Tensor) -> int:
    return int(y.max().item()) + 1


def source_network(seed: int) -> Network:
    """The source network of `seed`, trained on first use."""
    if seed not in STATE["sources"]:
        protocol = STATE["protocol"]
        (x, y), _, shape = STATE["source"]
        net = build(protocol["model"], shape, classes_of(y), seed, "source/init")
        train(net, x, y, protocol["train"], seed, STATE["source_validation"])
        STATE["sources"][seed] = net
    return STATE["sources"][seed]


def run_source(seed: int) -> tuple:
    """Trains a source network in a pool worker; its weights go back to the parent."""
    net = source_network(seed)
    (_, _), (tx, ty), _ = STATE["source"]
    return evaluate(net, tx, ty)[0], {k: v.clone() for k, v in net.state_dict().items()}


def run(task: tuple) -> float:
    protocol = STATE["protocol"]
    model, recipe = protocol["model"], protocol["train"]
    if task[0] == "source":
        seed = task[1]
        net = source_network(seed)
        (_, _), (tx, ty), _ = STATE["source"]
        return evaluate(net, tx, ty)[0]
    _, target, n, mode, depth, seed = task
    (x, y), (tx, ty), shape = STATE["targets"][target]
    net = build(model, shape, classes_of(y), seed, "target/init")
    if mode is not None:
        source = source_network(seed)
        copied = range(len(net.blocks)) if mode == "defrost" else range(depth)
        for i in copied:
            net.blocks[i].load_state_dict(source.blocks[i].state_dict())
        for i in range(depth):
            for p in net.blocks[i].parameters():
                p.requires_grad_(False)
    validation = STATE["target_validation"][target]
    if validation is not None:
        # The protocol with a validation set also draws each seed's own subset of the pool.
        rows = torch.from_numpy(np.random.default_rng([seed, 3]).permutation(len(y))[:n])
        x, y = x[rows], y[rows]
    else:
        x, y = x[:n], y[:n]
    train(net, x, y, recipe, seed, validation)
    return evaluate(net, tx, ty)[0]


def tasks_of(protocol: dict) -> tuple:
    seeds = protocol["seeds"]
    sources = [("source", seed) for seed in seeds]
    rest = []
    for t in range(len(protocol["targets"])):
        sizes = list(protocol["target_sizes"])
        for n in sizes:
            for seed in seeds:
                rest.append(("target", t, n, None, 0, seed))
                for mode in protocol["modes"]:
                    for depth in protocol["depths"]:
                        rest.append(("target", t, n, mode, depth, seed))
        if protocol["reference_size"] not in sizes:
            rest.append(("target", t, protocol["reference_size"], None, 0, seeds[0]))
    return sources, rest


def main() -> None:
    protocol = json.load(open(sys.argv[1]))
    workers = int(protocol.get("workers", 1))
    sources, rest = tasks_of(protocol)
    start = time.perf_counter()
    if workers == 1:
        worker_init(protocol, {})
        accuracies = [run(task) for task in sources + rest]
    else:
        # Sources first, shared by every worker afterwards (each transfer needs its seed's).
        context = multiprocessing.get_context("fork")
        seeds = [task[1] for task in sources]
        with context.Pool(workers, worker_init, (protocol, {})) as pool:
            trained = pool.map(run_source, seeds, chunksize=1)
        accuracies = [accuracy for accuracy, _ in trained]
        weights = {seed: state for seed, (_, state) in zip(seeds, trained)}
        with context.Pool(workers, worker_init, (protocol, weights)) as pool:
            accuracies += pool.map(run, rest, chunksize=4)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "runs": len(accuracies),
        "seconds": round(seconds, 2),
        "mean_test_accuracy": round(float(np.mean(accuracies)), 4),
        "workers": workers,
        "threads": 1,
        "torch": torch.__version__,
    }), flush=True)


if __name__ == "__main__":
    main()
