#!/usr/bin/python3
"""bench/bench_train_torch.py — the job of bench_train.cpp (the MNIST study's models), in PyTorch.

The MLP 784-512-256-10 (ReLU) or the LeNet CNN (Conv2d(1,6,5,padding=2)-ReLU-MaxPool2d(2)-
Conv2d(6,16,5)-ReLU-MaxPool2d(2)-Linear(400,120)-ReLU-Linear(120,84)-ReLU-Linear(84,10)) with Adam
(lr 1e-3), batch 128, label-smoothed cross-entropy (ε = 0.1), on the first 55,000 MNIST training
images, reshuffled every epoch; each batch is converted from uint8 to float32 / 255 when it is
drawn, and every step also computes the unsmoothed NLL of the batch for logging, as
mnist_smoothing does. Times each epoch (training only), then `--inference` passes of eval-mode,
no-grad logits over the 10,000 test images in batches of 1000. Threads via
torch.set_num_threads(n); OMP_WAIT_POLICY=PASSIVE.

Output: CSV lines as bench_train.cpp's, with impl `torch`. Run with Debian's /usr/bin/python3.
"""
import argparse
import os
import resource
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when libgomp loads, so before torch

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def read_idx(path, header):
    with open(path, "rb") as f:
        return torch.from_numpy(np.frombuffer(f.read(), dtype=np.uint8, offset=header).copy())


def make_model(kind):
    if kind == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def train_step(model, opt, x, y):
    """One step of the job: the smoothed loss's gradient step, and the unsmoothed NLL for logging."""
    logits = model(x)
    loss = F.cross_entropy(logits, y, label_smoothing=0.1)
    opt.zero_grad()
    loss.backward()
    opt.step()
    loss.item()
    with torch.no_grad():
        F.cross_entropy(logits.detach(), y).item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--data-dir", default="data/mnist")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--inference", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    shape = (-1, 1, 28, 28) if args.model == "cnn" else (-1, 784)
    images = read_idx(os.path.join(args.data_dir, "train-images-idx3-ubyte"), 16).view(shape)[:55000]
    labels = read_idx(os.path.join(args.data_dir, "train-labels-idx1-ubyte"), 8).long()[:55000]
    test_images = read_idx(os.path.join(args.data_dir, "t10k-images-idx3-ubyte"), 16).view(shape)
    test_labels = read_idx(os.path.join(args.data_dir, "t10k-labels-idx1-ubyte"), 8).long()
    model = make_model(args.model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    tag = f"torch,{args.model}"
    for _ in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(images.shape[0])
        for b in range(0, images.shape[0], 128):
            idx = order[b:b + 128]
            x = images[idx].float() / 255  # (B, 784) or (B, 1, 28, 28)
            train_step(model, opt, x, labels[idx])
        print(f"{tag}_train,{args.threads},{time.perf_counter() - start:.6f}")
        sys.stdout.flush()

    model.eval()
    correct = 0
    for _ in range(args.inference):
        with torch.no_grad():
            start = time.perf_counter()
            correct = 0
            for b in range(0, test_images.shape[0], 1000):
                x = test_images[b:b + 1000].float() / 255
                correct += (model(x).argmax(1) == test_labels[b:b + 1000]).sum().item()
            print(f"{tag}_infer,{args.threads},{time.perf_counter() - start:.6f}")
            sys.stdout.flush()
    if args.inference and args.epochs:
        print(f"{tag}_accuracy,{args.threads},{correct / test_images.shape[0]:.4f}")
    print(f"{tag}_rss,{args.threads},{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


if __name__ == "__main__":
    main()
