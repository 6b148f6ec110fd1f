"""Shared helpers of the TensorFlow conformance tests (tests/tf/).

Every test is a plain script run by ctest through run.sh with
  --binary PATH_TO_PIPELINE --source-dir REPO
It exits 0 when every check passed, 1 on a failed check, and 77 (ctest's
SKIP_RETURN_CODE) when TensorFlow is not installed -- unless CI=true, where a
missing TensorFlow is a failure.
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77
FASHION = "/usr/share/datasets/fashion-mnist"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")


def import_tensorflow():
    """Returns the tensorflow module, or exits 77 (1 under CI=true) without it."""
    try:
        import tensorflow as tf  # noqa: F401
    except Exception as e:  # ImportError, or a broken install
        if os.environ.get("CI") == "true":
            print(f"error: TensorFlow is not importable ({e}); CI=true requires it", file=sys.stderr)
            sys.exit(1)
        print(f"skipped: TensorFlow is not importable ({e})")
        sys.exit(SKIP)
    tf.get_logger().setLevel("ERROR")
    return tf


def parse_args(extra=None):
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True, help="the built pipeline executable")
    p.add_argument("--source-dir", required=True, help="the repository root")
    if extra:
        extra(p)
    return p.parse_args()


class Checks:
    """Collects check results; a failed check is reported and fails the test at the end."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.passed = 0
        self.start = time.monotonic()

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)
            print(f"FAIL: {what}", flush=True)
        return ok

    def note(self, text):
        print(f"  {text}", flush=True)

    def finish(self):
        secs = time.monotonic() - self.start
        if self.failures:
            print(f"{self.name}: {len(self.failures)} check(s) failed, {self.passed} passed ({secs:.1f} s)")
            sys.exit(1)
        if self.passed == 0:
            print(f"{self.name}: no checks ran")
            sys.exit(1)
        print(f"{self.name}: all {self.passed} checks passed ({secs:.1f} s)")
        sys.exit(0)


def run(cmd, **kw):
    """Runs cmd; returns CompletedProcess (text)."""
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def must_run(cmd, **kw):
    r = run(cmd, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    return r


def read_idx(path):
    """An IDX file (gzip or plain) as a numpy uint8 array."""
    import numpy as np
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack_from(">HBB", data, 0)
    assert zero == 0 and dtype == 0x08, path
    dims = struct.unpack_from(">" + "I" * ndim, data, 4)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion_test_set():
    """(images [N, 784] float32 scaled by 1/255 as `pipeline predict` does, labels [N] int)."""
    import numpy as np
    imgs = read_idx(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz"))
    x = imgs.reshape(imgs.shape[0], -1).astype(np.float32) / np.float32(255.0)
    return x, labels.astype(np.int64)


def read_run_checkpoint(path, with_slots=False):
    """The parameters of a pipeline training checkpoint (stages/checkpoint.cpp's
    format, independent of the SavedModel's tensor bundle): {name: ndarray}.
    with_slots: (params, {slot name: flat ndarray}, optimizer steps)."""
    import numpy as np
    b = open(path, "rb").read()
    assert b[:8] == b"PIPECKPT", path
    version, = struct.unpack_from("<I", b, 8)
    o = 12 + 8 * 5 + (8 if version >= 2 else 0)
    n, = struct.unpack_from("<I", b, o)
    o += 4
    params = {}
    for _ in range(n):
        ln, = struct.unpack_from("<I", b, o)
        o += 4
        name = b[o:o + ln].decode()
        o += ln
        nd, = struct.unpack_from("<I", b, o)
        o += 4
        dims = struct.unpack_from(f"<{nd}q", b, o)
        o += 8 * nd
        count, = struct.unpack_from("<Q", b, o)
        o += 8
        params[name] = np.frombuffer(b, dtype="<f4", count=count, offset=o).reshape(dims)
        o += 4 * count
    if not with_slots:
        return params
    steps, = struct.unpack_from("<q", b, 12 + 8 * 4)
    n, = struct.unpack_from("<I", b, o)
    o += 4
    slots = {}
    for _ in range(n):
        ln, = struct.unpack_from("<I", b, o)
        o += 4
        name = b[o:o + ln].decode()
        o += ln
        count, = struct.unpack_from("<Q", b, o)
        o += 8
        slots[name] = np.frombuffer(b, dtype="<f4", count=count, offset=o)
        o += 4 * count
    return params, slots, steps


def mkdtemp(tag):
    return tempfile.mkdtemp(prefix=f"pipeline-tf-{tag}-")
