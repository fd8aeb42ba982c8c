#!/usr/bin/python3
"""bench/bench_torch.py — forward + backward of F.cross_entropy(label_smoothing=0.1) in PyTorch.

The PyTorch side of bench/run, timed exactly as bench_cross_entropy.cpp times humble: float32
(N, C) logits from randn, int64 targets from randint, mean reduction, logits.grad cleared between
iterations; one sample times `batch` iterations (a sample lasts about a millisecond) and reports
seconds per iteration. Threads via torch.set_num_threads(n); OMP_WAIT_POLICY=PASSIVE (set below if
the environment has not) keeps PyTorch's OpenMP workers from spinning between parallel regions.

Output: one CSV line per sample, `torch,rows,classes,threads,seconds`.
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when libgomp loads, so before torch

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def time_samples(body, budget, min_samples):
    batch = 1
    while True:  # warm-up and calibration: grow the batch until it lasts 1 ms
        start = time.perf_counter()
        for _ in range(batch):
            body()
        if time.perf_counter() - start >= 1e-3:
            break
        batch *= 2
    samples = []
    begin = time.perf_counter()
    while len(samples) < min_samples or time.perf_counter() - begin < budget:
        start = time.perf_counter()
        for _ in range(batch):
            body()
        samples.append((time.perf_counter() - start) / batch)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="128x10,4096x10,65536x10,4096x1000,512x32000")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--budget", type=float, default=0.3)
    parser.add_argument("--min-samples", type=int, default=5)
    args = parser.parse_args()

    torch.manual_seed(0)
    for item in args.shapes.split(","):
        rows, classes = (int(v) for v in item.split("x"))
        logits = torch.randn(rows, classes, dtype=torch.float32, requires_grad=True)  # (N, C)
        y = torch.randint(0, classes, (rows,), dtype=torch.int64)  # (N)
        for n in (int(v) for v in args.threads.split(",")):
            torch.set_num_threads(n)

            def step():
                logits.grad = None
                loss = F.cross_entropy(logits, y, label_smoothing=0.1)
                loss.backward()

            for t in time_samples(step, args.budget, args.min_samples):
                print(f"torch,{rows},{classes},{n},{t:.9g}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
