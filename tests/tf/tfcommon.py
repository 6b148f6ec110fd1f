"""Shared helpers of the TensorFlow conformance tests (tests/tf/).

Every test is a plain script run by ctest through run.sh with
  --binary PATH_TO_PIPELINE --source-dir REPO
It exits 0 when every check passed, 1 on a failed check, and 77 (ctest's
SKIP_RETURN_CODE) when TensorFlow is not installed -- unless CI=true, where a
missing TensorFlow is a failure.
"""
import argparse
import re
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


def skip_without(what):
    """Exits because `what` (a tool or package) is missing: 77, which ctest
    reports as skipped, or 1 under CI=true, where everything must be there."""
    if os.environ.get("CI") == "true":
        print(f"error: {what}; CI=true requires it", file=sys.stderr)
        sys.exit(1)
    print(f"skipped: {what}")
    sys.exit(SKIP)


def import_tensorflow():
    """Returns the tensorflow module, or exits 77 (1 under CI=true) without it."""
    try:
        import tensorflow as tf  # noqa: F401
    except Exception as e:  # ImportError, or a broken install
        skip_without(f"TensorFlow is not importable ({e})")
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


def idx_paths(directory, split):
    """(images, labels) file paths of an IDX pair `split` ("train", "t10k") in `directory`."""
    return (os.path.join(directory, f"{split}-images-idx3-ubyte.gz"),
            os.path.join(directory, f"{split}-labels-idx1-ubyte.gz"))


def fashion_set(split, directory=FASHION):
    """Fashion-MNIST's `split` ("train" or "t10k"), or another IDX pair's in
    `directory` (tests/data/mnist: real MNIST): (images [N, 784] float32 scaled
    by 1/255 as `pipeline predict` does, labels [N] int64)."""
    import numpy as np
    images, labels = idx_paths(directory, split)
    imgs = read_idx(images)
    labels = read_idx(labels)
    x = imgs.reshape(imgs.shape[0], -1).astype(np.float32) / np.float32(255.0)
    return x, labels.astype(np.int64)


def fashion_test_set():
    return fashion_set("t10k")


def serialized_examples(tf, x, feature):
    """Each row of x as a serialized tf.Example with float_list feature `feature` (as `pipeline predict` encodes them)."""
    return [tf.train.Example(features=tf.train.Features(feature={
        feature: tf.train.Feature(float_list=tf.train.FloatList(value=row))})).SerializeToString() for row in x]


def read_run_checkpoint(path, with_slots=False):
    """The parameters of a pipeline training checkpoint (stages/checkpoint.cpp's
    format, independent of the SavedModel's tensor bundle): {name: ndarray}.
    with_slots: (params, {slot name: flat ndarray}, optimizer steps)."""
    import numpy as np
    b = open(path, "rb").read()
    assert b[:8] == b"PIPECKPT", path
    o = 8

    def take(fmt):
        """The values of struct format `fmt` (little-endian) at the cursor, as a tuple."""
        nonlocal o
        values = struct.unpack_from("<" + fmt, b, o)
        o += struct.calcsize("<" + fmt)
        return values

    def count(fmt="I"):
        return take(fmt)[0]

    def text():
        nonlocal o
        n = count()
        o += n
        return b[o - n:o].decode()

    def floats(dims=None):
        nonlocal o
        n = count("Q")
        a = np.frombuffer(b, dtype="<f4", count=n, offset=o)
        o += 4 * n
        return a if dims is None else a.reshape(dims)

    version = count()
    _epoch, _batch, _loss_sum, _loss_examples, steps = take("qqdqq")
    if version >= 2:
        take("q")  # the schedule's horizon
    params = {}
    for _ in range(count()):
        name = text()
        params[name] = floats(take(f"{count()}q"))
    if not with_slots:
        return params
    slots = {}
    for _ in range(count()):
        name = text()
        slots[name] = floats()
    return params, slots, steps


def run_checks(c, tmp, body):
    """Runs body(); an exception is a failed check (with its traceback). Removes
    tmp when every check passed, else keeps it and says where; exits by c.finish()."""
    try:
        body()
    except Exception as e:  # a failed command or an unparsable file is a failed check
        import traceback
        traceback.print_exc()
        c.check(False, f"{type(e).__name__}: {e}")
    if not c.failures:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"  kept {tmp}")
    c.finish()


def mkdtemp(tag):
    return tempfile.mkdtemp(prefix=f"pipeline-tf-{tag}-")


def pipeline_predict(args, version_dir, signature, feature, tmp, limit=None, directory=FASHION):
    """`pipeline predict --json` on the first `limit` (default all) t10k images of `directory`."""
    out = os.path.join(tmp, f"predict-{signature}.json")
    images, labels = idx_paths(directory, "t10k")
    cmd = [args.binary, "predict", version_dir, "--signature", signature, "--show", "0", "--json", out,
           "--idx-images", images, "--idx-labels", labels, "--feature", feature]
    if limit:
        cmd += ["--limit", str(limit)]
    must_run(cmd)
    with open(out) as f:
        return json.load(f)


def as_numpy(values, dtype):
    import numpy as np
    if dtype in ("DT_STRING", "string"):
        return np.array(values, dtype=object)
    return np.array([[float("nan") if v is None else v for v in row] for row in values], dtype=np.float64)


SIG_RE = re.compile(r"^signature_def\['(.*)'\]:$")
TI_RE = re.compile(r"^    (inputs|outputs)\['(.*)'\] tensor_info:$")


def parse_show(text):
    """signature blocks of `saved_model_cli show --all` / `pipeline inspect`:
    {sig: {"method": m, "inputs": {alias: {dtype, shape, name}}, "outputs": {...}}}."""
    sigs, sig, ti = {}, None, None
    for line in text.splitlines():
        m = SIG_RE.match(line)
        if m:
            sig = sigs.setdefault(m.group(1), {"inputs": {}, "outputs": {}})
            ti = None
            continue
        if sig is None:
            continue
        m = TI_RE.match(line)
        if m:
            ti = sig[m.group(1)].setdefault(m.group(2), {})
            continue
        s = line.strip()
        if ti is not None and re.match(r"^(dtype|shape|name): ", s):
            k, v = s.split(": ", 1)
            ti[k] = v
        elif s.startswith("Method name is: "):
            sig["method"] = s[len("Method name is: "):]
            sig, ti = None, None
    return sigs


def split_class_mismatches(tf_classes, our_classes, tf_scores, our_scores):
    """Rows whose class strings differ, split into (ties, rest). A row is a tie
    when every position where the classes differ holds a score that TF's and
    our scores agree on and that is tied, within the rounding difference
    measured between the two sides' scores (plus 2e-7), with TF's score at the
    same position for the class we put there (when TF returned it) or with
    the row's last score (the cut between returned and dropped classes falls
    inside a group of equal scores, so which of them make the top k is
    arbitrary). Scores are compared elsewhere; this only excuses orderings."""
    import numpy as np
    ts = np.asarray(tf_scores, dtype=np.float64).reshape(len(tf_classes), -1)
    os_ = np.asarray(our_scores, dtype=np.float64).reshape(len(tf_classes), -1)
    slack = 2e-7 + 2 * float(np.abs(ts - os_).max())
    ties, rest = [], []
    for i, (a, b) in enumerate(zip(tf_classes, our_classes)):
        a, b = list(a), list(b)
        if a == b:
            continue
        pos = {name: j for j, name in enumerate(a)}
        ok = len(a) == len(b)
        for j in range(len(a)):
            if not ok or a[j] == b[j]:
                continue
            tied_with = ts[i, pos[b[j]]] if b[j] in pos else ts[i, -1]
            ok = abs(ts[i, j] - os_[i, j]) <= slack and abs(ts[i, j] - tied_with) <= slack
        (ties if ok else rest).append(i)
    return ties, rest

