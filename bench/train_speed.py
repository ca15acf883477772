"""PyTorch's side of bench/train-speed.ts: train and inference images/s and peak RSS of one example
network at 3x32x32, batch 128, Adam (lr 0.001), on the CPU with two threads.

    /usr/bin/python3 bench/train_speed.py MODEL STEPS   (MODEL: SimpleCNN32 or ResNet18)

Prints one JSON object. The networks come from test/reference/torch_models.py, the same torch.nn
builds the reference test checks against the .ocular examples; one model per process, so that the
peak RSS is that model's.
"""

import json
import os
import resource
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "reference"))
import torch_models  # noqa: E402

BATCH = 128


def build(name):
    if name == "SimpleCNN32":
        return torch_models.simple_cnn(32, dropout=True)
    if name == "ResNet18":
        return torch_models.ResNet18(torch_models.CLASSES)
    sys.exit(f"unknown model {name}")


def main():
    name, steps = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = build(name)
    images = torch.rand(BATCH, 3, 32, 32)
    labels = torch.randint(0, torch_models.CLASSES, (BATCH,))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    criterion = nn.CrossEntropyLoss()

    def train_step():
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    model.train()
    train_step()  # warm-up: first-call allocations are not the steady rate
    started = time.perf_counter()
    for _ in range(steps):
        train_step()
    train_seconds = (time.perf_counter() - started) / steps

    model.eval()
    with torch.no_grad():
        model(images)
        started = time.perf_counter()
        for _ in range(steps):
            model(images).softmax(1)
        infer_seconds = (time.perf_counter() - started) / steps

    print(json.dumps({
        "train_images_per_s": BATCH / train_seconds,
        "infer_images_per_s": BATCH / infer_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
