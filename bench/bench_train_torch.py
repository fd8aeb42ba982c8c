#!/usr/bin/python3
"""bench/bench_train_torch.py — the default MNIST study's training epoch, in PyTorch.

The PyTorch side of bench/train: the MLP 784-512-256-10 (ReLU) with Adam (lr 1e-3), batch 128,
label-smoothed cross-entropy (ε = 0.1), on the first 55,000 MNIST training images, reshuffled every
epoch; each batch is converted from uint8 to float32 / 255 when it is drawn, and every step also
computes the unsmoothed NLL of the batch for logging, as mnist_smoothing does. Times each epoch
(training only, no evaluation). Threads via torch.set_num_threads(n); OMP_WAIT_POLICY=PASSIVE.

Output: one CSV line per epoch, `torch,threads,seconds`. Run with Debian's /usr/bin/python3.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when libgomp loads, so before torch

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def read_idx(path, header):
    with open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data/mnist")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    images = torch.from_numpy(read_idx(os.path.join(args.data_dir, "train-images-idx3-ubyte"), 16).copy())
    labels = torch.from_numpy(read_idx(os.path.join(args.data_dir, "train-labels-idx1-ubyte"), 8).copy())
    images, labels = images.view(-1, 784)[:55000], labels.long()[:55000]  # (N, 784) uint8, (N)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(images.shape[0])
        for b in range(0, images.shape[0], 128):
            idx = order[b:b + 128]
            x = images[idx].float() / 255  # (B, 784)
            y = labels[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()
            with torch.no_grad():
                F.cross_entropy(logits.detach(), y).item()
        print(f"torch,{args.threads},{time.perf_counter() - start:.6f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
