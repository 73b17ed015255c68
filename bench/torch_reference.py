#!/usr/bin/env python3
"""PyTorch reference for `defrost bench train`: trains the same two reference networks the same
way (random data, softmax cross-entropy, Adam lr 1e-3, a custom step: forward, backward, step)
and prints one JSON line per model: {"model", "backend": "pytorch", "threads", "samples_per_s"}.

Used by `make bench` (scripts/bench.mjs) to print defrost/PyTorch ratios at equal thread counts.
PyTorch is not a dependency of defrost: when it is absent this says so and exits 0.

    python3 bench/torch_reference.py [--model mlp|cnn|both] [--threads N] [--seconds S]
"""
import argparse
import json
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - depends on the machine
    print("torch_reference: PyTorch is not installed (Debian: apt-get install python3-torch); skipping",
          file=sys.stderr)
    sys.exit(0)


def mlp() -> nn.Module:
    """784-512-512-512-10, relu, as the reference MLP of docs/benchmarks.md."""
    return nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(),
        nn.Linear(512, 512), nn.ReLU(),
        nn.Linear(512, 512), nn.ReLU(),
        nn.Linear(512, 10),
    )


def cnn() -> nn.Module:
    """28x28x1 conv16-pool-conv32-pool-conv64-global-average-pool-dense10 (3x3 'same' convs, relu)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(64, 10),
    )


def bench(model_name: str, threads: int, seconds: float, warmup: float) -> dict:
    torch.manual_seed(0)
    if model_name == "mlp":
        net, batch, shape = mlp(), 128, (784,)
    else:
        net, batch, shape = cnn(), 64, (1, 28, 28)
    x = torch.randn(batch, *shape)
    y = torch.randint(0, 10, (batch,))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        optimizer.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()

    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        step()
    steps = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    while True:
        step()
        steps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    cpu = time.process_time() - cpu_start
    return {
        "model": model_name,
        "backend": "pytorch",
        "threads": threads,
        "samples_per_s": round(steps * batch / elapsed, 1),
        # Per second of this process's CPU time: steadier than wall time on a shared machine.
        "samples_per_cpu_s": round(steps * batch / cpu, 1),
        "torch": torch.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["mlp", "cnn", "both"], default="both")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    models = ["mlp", "cnn"] if args.model == "both" else [args.model]
    for name in models:
        print(json.dumps(bench(name, args.threads, args.seconds, args.warmup)), flush=True)


if __name__ == "__main__":
    main()
