#!/usr/bin/env python3
"""The bench peer: the reference workload trained in PyTorch on the CPU.

MLP 784-256-256-10 with ReLU, softmax cross-entropy (mean over the batch),
plain SGD, N(0,1) weights and biases (tf.random_normal's defaults), as in
TensorFlow's MNIST serving tutorial. `pipeline bench` runs it on the same data,
epochs, batch size, learning rate and thread count as its own run, and reads
the final `JSON {...}` line.

Data: the IDX files (gzip) of DATA_DIR, pixels / 255 as float32. Training uses
the first 55,000 training images (the tutorial's split), validation the rest,
test is t10k. Only the training loop is timed (shuffle included); loading and
evaluation are not.
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idx_data  # noqa: E402
from idx_data import TRAIN_EXAMPLES, numeric_libraries  # noqa: E402


def load(data_dir, prefix):
    x, y = idx_data.load(data_dir, prefix)
    return torch.from_numpy(x).contiguous(), torch.from_numpy(y)


def make_model(init):
    layers = [torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(),
              torch.nn.Linear(256, 10)]
    for layer in layers:
        if not isinstance(layer, torch.nn.Linear):
            continue
        if init == "normal1":
            torch.nn.init.normal_(layer.weight, 0.0, 1.0)
            torch.nn.init.normal_(layer.bias, 0.0, 1.0)
        else:  # glorot: Keras' default glorot_uniform kernel and zero bias
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return torch.nn.Sequential(*layers)


@torch.no_grad()
def accuracy(model, x, y, batch=1000):
    hits = sum((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item() for i in range(0, len(x), batch))
    return hits / len(x)


def main():
    ap = idx_data.argument_parser(__doc__)
    ap.add_argument("--init", choices=["normal1", "glorot"], default="normal1")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = make_model(args.init)
    return train_and_report(args, model, torch.optim.SGD(model.parameters(), lr=args.lr), f"init={args.init}",
                            {"init": args.init})


def train_and_report(args, model, optimizer, note, extra, image_shape=None):
    """Trains `model` with `optimizer` on the bench's data for args.epochs, timing each epoch, and prints the
    final `JSON {...}` line (`extra` added to it). image_shape: the examples reshaped to [N, *image_shape]."""
    shuffle_rng = torch.Generator().manual_seed(args.seed + 1)
    start = time.perf_counter()
    x_all, y_all = load(args.data_dir, "train")
    x_test, y_test = load(args.data_dir, "t10k")
    if image_shape:
        x_all, x_test = x_all.reshape(-1, *image_shape).contiguous(), x_test.reshape(-1, *image_shape).contiguous()
    train = args.train_examples
    x_train, y_train = x_all[:train].contiguous(), y_all[:train].contiguous()
    x_val, y_val = x_all[train:train + 5000].contiguous(), y_all[train:train + 5000].contiguous()  # at most 5,000
    load_seconds = time.perf_counter() - start

    n, batch = len(x_train), args.batch_size
    print(f"# torch {torch.__version__} threads={torch.get_num_threads()} {note} seed={args.seed} "
          f"batch={batch} lr={args.lr} train={n} load_s={load_seconds:.2f}")
    print(f"# libs: {' '.join(numeric_libraries())}")
    print("epoch  mean_loss  seconds")
    epoch_seconds, epoch_losses = [], []
    for epoch in range(1, args.epochs + 1):
        model.train()
        start = time.perf_counter()
        # One gather per epoch, then contiguous batches: what our engine and TF's next_batch do.
        order = torch.randperm(n, generator=shuffle_rng)
        xs, ys = x_train.index_select(0, order), y_train.index_select(0, order)
        loss_sum, batches = torch.zeros(()), 0
        for i in range(0, n, batch):
            loss = F.cross_entropy(model(xs[i:i + batch]), ys[i:i + batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach()
            batches += 1
        epoch_seconds.append(time.perf_counter() - start)
        epoch_losses.append(loss_sum.item() / batches)
        print(f"{epoch:5d}  {epoch_losses[-1]:10.4f}  {epoch_seconds[-1]:8.3f}", flush=True)

    model.eval()
    test_acc = accuracy(model, x_test, y_test)
    val_acc = accuracy(model, x_val, y_val) if len(x_val) else float("nan")
    median = statistics.median(epoch_seconds)
    result = {
        "framework": f"torch-{torch.__version__}", "data_dir": args.data_dir, "threads": args.threads,
        "seed": args.seed, "epochs": args.epochs, "batch_size": batch, "lr": args.lr,
        "test_acc": test_acc, "val_acc": val_acc, "final_mean_loss": epoch_losses[-1],
        "median_s_per_epoch": median, "min_s_per_epoch": min(epoch_seconds), "examples_per_s": n / median,
        "epoch_seconds": [round(s, 4) for s in epoch_seconds], "epoch_losses": [round(l, 5) for l in epoch_losses],
        "libs": numeric_libraries(), **extra,
    }
    print(f"test_accuracy {test_acc:.4f}  (val {val_acc:.4f})")
    print(f"median_s_per_epoch {median:.3f}  min {min(epoch_seconds):.3f}")
    print("JSON " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
