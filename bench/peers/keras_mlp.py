#!/usr/bin/env python3
"""The Keras bench peer: the reference workload trained by TF 2.21's model.fit.

The same model and data as torch_mlp.py: MLP 784-256-256-10 with ReLU, softmax
cross-entropy on the logits (mean over the batch), plain SGD, N(0,1) kernels
and biases (tf.random_normal's defaults, as in TensorFlow's MNIST serving
tutorial); the first 55,000 Fashion-MNIST training images, pixels / 255.

model.fit runs once with jit_compile=False and once with jit_compile=True (XLA),
each for --epochs epochs from the same initial weights; the faster by median
epoch time is reported, the other's median beside it. Each epoch is timed by a
callback from on_epoch_begin to on_epoch_end: fit's own shuffle is inside,
loading and evaluation are not. Prints a final `JSON {...}` line for
`pipeline bench`.
"""
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idx_data  # noqa: E402
from idx_data import TRAIN_EXAMPLES, load, numeric_libraries  # noqa: E402


class EpochTimer:
    def __init__(self, tf):
        class Callback(tf.keras.callbacks.Callback):
            def on_epoch_begin(cb, epoch, logs=None):
                cb.start = time.perf_counter()

            def on_epoch_end(cb, epoch, logs=None):
                self.seconds.append(time.perf_counter() - cb.start)
                self.losses.append(float(logs["loss"]))
        self.seconds, self.losses = [], []
        self.callback = Callback()


def main():
    args = idx_data.argument_parser(__doc__).parse_args()

    def make_model(tf):
        init = tf.keras.initializers.RandomNormal(0.0, 1.0, seed=args.seed)
        dense = lambda units, act=None: tf.keras.layers.Dense(units, activation=act, kernel_initializer=init,
                                                              bias_initializer=init)
        return tf.keras.Sequential([tf.keras.Input(shape=(784,)), dense(256, "relu"), dense(256, "relu"), dense(10)])

    return fit_and_report(args, make_model, lambda tf: tf.keras.optimizers.SGD(args.lr))


def fit_and_report(args, make_model, make_optimizer, image_shape=None):
    """model.fit of make_model(tf) with make_optimizer(tf), jit_compile off and on from the same seed, on the
    bench's data; prints the final `JSON {...}` line with the faster. image_shape: examples reshaped to it."""
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    tf.get_logger().setLevel("ERROR")

    x_all, y_all = load(args.data_dir, "train")
    x_test, y_test = load(args.data_dir, "t10k")
    if image_shape:
        x_all, x_test = x_all.reshape(-1, *image_shape), x_test.reshape(-1, *image_shape)
    x_train, y_train = x_all[:args.train_examples], y_all[:args.train_examples]

    runs = {}
    for jit in (False, True):
        tf.keras.utils.set_random_seed(args.seed)
        model = make_model(tf)
        model.compile(optimizer=make_optimizer(tf), jit_compile=jit,
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        timer = EpochTimer(tf)
        model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, shuffle=True, verbose=0,
                  callbacks=[timer.callback])
        logits = model.predict(x_test, batch_size=1000, verbose=0)
        runs[jit] = {"epoch_seconds": timer.seconds, "losses": timer.losses,
                     "test_acc": float((np.argmax(logits, 1) == y_test).mean()),
                     "median": statistics.median(timer.seconds)}
        print(f"# jit_compile={jit}: median {runs[jit]['median']:.3f} s/epoch, test accuracy "
              f"{runs[jit]['test_acc']:.4f}", flush=True)
    best = min(runs, key=lambda j: runs[j]["median"])
    r = runs[best]
    result = {
        "framework": f"keras-{tf.keras.__version__} (TF {tf.__version__}, jit_compile={best})",
        "jit_compile": best, "other_jit_median_s_per_epoch": runs[not best]["median"],
        "threads": args.threads, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
        "test_acc": r["test_acc"], "final_mean_loss": r["losses"][-1], "median_s_per_epoch": r["median"],
        "min_s_per_epoch": min(r["epoch_seconds"]), "epoch_seconds": [round(s, 4) for s in r["epoch_seconds"]],
        "libs": numeric_libraries(),
    }
    print("JSON " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
