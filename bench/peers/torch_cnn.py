#!/usr/bin/env python3
"""The CNN bench peer in PyTorch: configs/fashion_cnn.yaml's network.

conv 32 3x3 same + ReLU, max-pool 2, conv 64 3x3 same + ReLU, max-pool 2,
flatten, dense 128 + ReLU, dropout 0.3, dense 10; he_normal kernels (Keras'
truncated normal, std sqrt(2 / fan_in)) and zero biases for the ReLU layers,
glorot_uniform for the logits; softmax cross-entropy, Adam (Keras' epsilon
1e-7). Images [N, 1, 28, 28] (PyTorch's NCHW). Trained by torch_mlp.py's loop
(one shuffle-gather per epoch, only the training loop timed); prints the final
`JSON {...}` line for `pipeline bench`.
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idx_data  # noqa: E402
from torch_mlp import train_and_report  # noqa: E402


def he_normal(layer):
    fan_in = layer.weight[0].numel()
    # Keras' he_normal: a normal truncated at 2 standard deviations, scaled back to std sqrt(2 / fan_in).
    torch.nn.init.trunc_normal_(layer.weight, 0.0, math.sqrt(2.0 / fan_in) / 0.87962566103423978, -2.0, 2.0)
    torch.nn.init.zeros_(layer.bias)
    return layer


def make_model():
    logits = torch.nn.Linear(128, 10)
    torch.nn.init.xavier_uniform_(logits.weight)
    torch.nn.init.zeros_(logits.bias)
    return torch.nn.Sequential(
        he_normal(torch.nn.Conv2d(1, 32, 3, padding=1)), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        he_normal(torch.nn.Conv2d(32, 64, 3, padding=1)), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), he_normal(torch.nn.Linear(64 * 7 * 7, 128)), torch.nn.ReLU(), torch.nn.Dropout(0.3),
        logits)


def main():
    args = idx_data.argument_parser(__doc__).parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = make_model()
    adam = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-7)
    return train_and_report(args, model, adam, "model=fashion_cnn", {"model": "fashion_cnn"}, image_shape=(1, 28, 28))


if __name__ == "__main__":
    sys.exit(main())
