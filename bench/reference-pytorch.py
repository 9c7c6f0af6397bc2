"""The reference net of bench/wasm-training.ts in PyTorch, trained on one thread.

Prints one JSON line: images per second of wall time and per second of this process's CPU
time, steps, the final loss and the torch version. Usage: reference-pytorch.py SECONDS BATCH.
"""
import json
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(1)


class ReferenceNet(nn.Module):
    """conv 64 5x5/2, pool 3/2, conv 128, pool 3/2, conv 192, 192, 128 (3x3), GAP, dense 128."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([
            nn.Conv2d(3, 64, 5, 2, 2),
            nn.Conv2d(64, 128, 3, 1, 1),
            nn.Conv2d(128, 192, 3, 1, 1),
            nn.Conv2d(192, 192, 3, 1, 1),
            nn.Conv2d(192, 128, 3, 1, 1),
        ])
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.dense = nn.Linear(128, 128)

    def forward(self, x):
        for index, conv in enumerate(self.convs):
            x = torch.relu(conv(x))
            if index < 2:
                x = self.pool(x)
        return self.dense(x.mean((2, 3)))


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    network = ReferenceNet()
    optimizer = torch.optim.Adam(network.parameters(), 1e-3)
    images = torch.rand(batch, 3, 64, 64)

    def step():
        optimizer.zero_grad()
        loss = (network(images) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss.item()

    step()
    started, cpu_started, steps = time.perf_counter(), time.process_time(), 0
    loss = float('nan')
    while steps < 1 or time.perf_counter() - started < seconds:
        loss = step()
        steps += 1
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(json.dumps({
        'imagesPerSecond': steps * batch / wall,
        'imagesPerCpuSecond': steps * batch / cpu,
        'steps': steps,
        'finalLoss': loss,
        'torch': torch.__version__,
    }))


if __name__ == '__main__':
    main()
