#!/usr/bin/env python3
"""The CNN bench peer in TF 2.21 Keras: configs/fashion_cnn.yaml's network.

Conv2D 32 3x3 same + ReLU, MaxPooling2D 2, Conv2D 64 3x3 same + ReLU,
MaxPooling2D 2, Flatten, Dense 128 + ReLU, Dropout 0.3, Dense 10; he_normal
kernels and zero biases, glorot_uniform for the logits; softmax cross-entropy
on the logits, Adam. Images [N, 28, 28, 1] (NHWC). model.fit runs with
jit_compile off and on (keras_mlp.py's loop), the faster reported; prints the
final `JSON {...}` line for `pipeline bench`.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idx_data  # noqa: E402
from keras_mlp import fit_and_report  # noqa: E402


def main():
    args = idx_data.argument_parser(__doc__).parse_args()

    def make_model(tf):
        L = tf.keras.layers
        return tf.keras.Sequential([
            tf.keras.Input(shape=(28, 28, 1)),
            L.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal"), L.MaxPooling2D(2),
            L.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer="he_normal"), L.MaxPooling2D(2),
            L.Flatten(), L.Dense(128, activation="relu", kernel_initializer="he_normal"), L.Dropout(0.3), L.Dense(10)])

    return fit_and_report(args, make_model, lambda tf: tf.keras.optimizers.Adam(args.lr), image_shape=(28, 28, 1))


if __name__ == "__main__":
    sys.exit(main())
