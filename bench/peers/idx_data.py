"""What every bench peer shares: the IDX reader (numpy only), the data split of
TensorFlow's MNIST tutorial, and the list of numeric libraries a peer mapped."""
import argparse
import gzip
import os
import struct

import numpy as np

TRAIN_EXAMPLES = 55000  # the tutorial's split: the first 55,000 training images train, the rest validate


def read_idx_ubyte(path):
    """An IDX file of unsigned bytes (magic 0x0000 08 NDIM), as a numpy array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4:
        raise ValueError(f"{path}: {len(raw)} bytes, shorter than an IDX header")
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims}, the file holds {body.size} values")
    return body.reshape(dims)


def load(data_dir, prefix):
    """(images [N, 784] float32 / 255, labels [N] int64) of DATA_DIR/PREFIX-{images,labels}-idx*-ubyte.gz."""
    images = read_idx_ubyte(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx_ubyte(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255.0), labels.astype(np.int64)


def numeric_libraries():
    """The BLAS / oneDNN / OpenMP libraries this process mapped: what the peer really ran on."""
    found = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if path.startswith("/") and any(k in path for k in ("blas", "lapack", "dnnl", "mkl", "gomp", "omp")):
                    found.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(found)


def argument_parser(doc):
    """The command line every peer takes from `pipeline bench` (bench/peer.cpp)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-examples", type=int, default=TRAIN_EXAMPLES,
                    help="the first N training images train (ours: the config's training split)")
    return ap
