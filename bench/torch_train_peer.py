#!/usr/bin/python3
"""The PyTorch peer for digitd-train's speed claim (a benchmark, not a test).

Trains the seed network (Conv32-Pool-Drop.25-Conv64-Pool-Drop.25-Dense64-Drop.5-Dense10)
with Adam(1e-3, eps 1e-7) at batch 128 on MNIST, no augmentation, and prints seconds per
epoch and test accuracy, so both trainers can be timed on the same machine in the same run.

  /usr/bin/python3 bench/torch_train_peer.py [--data DIR] [--epochs N] [--threads N]
                                             [--limit N]
Needs python3-torch and python3-numpy (Debian).
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    if magic == 0x803:
        n, r, c = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, 1, r, c)
    if magic == 0x801:
        return np.frombuffer(data, np.uint8, offset=8)
    raise SystemExit(f"{path}: not an IDX file (magic {magic:#x})")


def seed_net():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(1600, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", "data/mnist"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    xtr = torch.from_numpy(load_idx(f"{a.data}/train-images-idx3-ubyte.gz").astype(np.float32) / 255)
    ytr = torch.from_numpy(load_idx(f"{a.data}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.from_numpy(load_idx(f"{a.data}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255)
    yte = torch.from_numpy(load_idx(f"{a.data}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    if a.limit:
        xtr, ytr = xtr[:a.limit], ytr[:a.limit]
    net = seed_net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for e in range(a.epochs):
        net.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = loss_fn(net(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
        net.eval()
        with torch.no_grad():
            acc = (net(xte).argmax(1) == yte).float().mean().item()
        print(f"torch {torch.__version__} threads {a.threads}: epoch {e + 1} "
              f"{times[-1]:.2f} s ({len(xtr)} images), test acc {acc:.4f}", flush=True)
    print(f"torch mean {sum(times) / len(times):.2f} s/epoch of {len(xtr)} images "
          f"at batch {a.batch}, {a.threads} thread(s)")


if __name__ == "__main__":
    main()
