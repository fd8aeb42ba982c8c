#!/usr/bin/python3
"""bench/bench_train_ddp.py — the default MNIST study's training epoch, in PyTorch DDP on 2 processes.

The PyTorch side of bench/train_distributed: the job of bench/bench_train_torch.py (MLP
784-512-256-10, Adam lr 1e-3, global batch 128, label-smoothed cross-entropy ε = 0.1, the first
55,000 MNIST training images reshuffled every epoch, each batch converted from uint8 when drawn,
the unsmoothed NLL computed beside the loss; --images fewer for a quick check) with torch.nn.parallel.DistributedDataParallel over
the gloo backend: PROCESSES processes × THREADS threads (torch.set_num_threads), started with
torch.multiprocessing. Every process draws the same permutation and takes its contiguous part
of each global batch (as humble's sharded DataLoader does); DDP's default buckets (25 MB).
Times each epoch on rank 0 from a barrier to the end of the last step.

Output: one CSV line per epoch, `torch_ddp,processes,seconds`. Run with Debian's /usr/bin/python3.
"""
import argparse
import os
import socket
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when libgomp loads, so before torch

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
import torch.nn as nn  # noqa: E402

from bench_train_torch import make_model, read_idx, train_step  # noqa: E402  the one-process job


def part(count, processes, rank):
    """Rows [begin, end) of `count` that `rank` takes: contiguous, sizes differing by at most one."""
    base, extra = divmod(count, processes)
    begin = rank * base + min(rank, extra)
    return begin, begin + base + (1 if rank < extra else 0)


def worker(rank, args, port):
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo", rank=rank, world_size=args.processes)
    torch.manual_seed(0)
    images = read_idx(os.path.join(args.data_dir, "train-images-idx3-ubyte"), 16)
    labels = read_idx(os.path.join(args.data_dir, "train-labels-idx1-ubyte"), 8)
    images, labels = images.view(-1, 784)[:args.images], labels.long()[:args.images]  # (N, 784) uint8, (N)
    ddp = nn.parallel.DistributedDataParallel(make_model("mlp"))
    opt = torch.optim.Adam(ddp.parameters(), lr=1e-3)
    shuffle = torch.Generator().manual_seed(0)
    for _ in range(args.epochs):
        dist.barrier()
        start = time.perf_counter()
        order = torch.randperm(images.shape[0], generator=shuffle)
        for b in range(0, images.shape[0], 128):
            batch = order[b:b + 128]
            lo, hi = part(batch.shape[0], args.processes, rank)
            idx = batch[lo:hi]
            x = images[idx].float() / 255  # (B/P, 784)
            train_step(ddp, opt, x, labels[idx])
        if rank == 0:
            print(f"torch_ddp,{args.processes},{time.perf_counter() - start:.6f}")
            sys.stdout.flush()
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data/mnist")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--images", type=int, default=55000, help="the first IMAGES training images")
    args = parser.parse_args()
    with socket.socket() as s:  # a free port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(worker, args=(args, port), nprocs=args.processes, join=True)


if __name__ == "__main__":
    main()
