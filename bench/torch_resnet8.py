"""
PyTorch side of bench/onnx-resnet8.ts (docs/performance.md#imported-networks): the ResNet-8-like
network of test/fixtures/onnx/make_fixtures.py, batch 64, Adam, one thread, at every frozen-prefix
depth 0..4 (blocks: stem, layer1, layer2, layer3; frozen blocks' parameters do not require
gradients and their BatchNorm runs in eval mode, as defrost freezes them). Each depth runs for
`seconds` of CPU time after two warm-up steps. One JSON line per depth.

--channels-last feeds the batch in PyTorch's channels-last memory format (the layout defrost's
libtorch step uses, since defrost's images are NHWC); without it, PyTorch's default NCHW, as a
PyTorch user's training loop runs.

  python3 bench/torch_resnet8.py [seconds] [--channels-last]
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "onnx"))
from make_fixtures import ResNet8  # noqa: E402

torch.set_num_threads(1)
args = [a for a in sys.argv[1:] if not a.startswith("--")]
channels_last = "--channels-last" in sys.argv
seconds = float(args[0]) if args else 5.0
torch.manual_seed(0)
x = torch.randn(64, 3, 32, 32)
if channels_last:
    x = x.contiguous(memory_format=torch.channels_last)
y = torch.arange(64) % 10
side = "pytorch " + torch.__version__ + (" channels_last" if channels_last else "")
for depth in range(5):
    model = ResNet8(10)
    stem = torch.nn.ModuleList([model.conv, model.bn])
    blocks = [stem, model.layer1, model.layer2, model.layer3]
    model.train()
    for block in blocks[:depth]:
        block.eval()
        for p in block.parameters():
            p.requires_grad_(False)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def step():
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(2):
        step()
    cpu0, t0, steps = time.process_time(), time.time(), 0
    while time.process_time() - cpu0 < seconds:
        step()
        steps += 1
    cpu, wall = time.process_time() - cpu0, time.time() - t0
    print(json.dumps({"side": side, "depth": depth, "steps": steps,
                      "samples_per_cpu_s": round(steps * 64 / cpu, 1), "samples_per_s": round(steps * 64 / wall, 1)}),
          flush=True)
