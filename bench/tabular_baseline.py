#!/usr/bin/python3
"""scikit-learn baselines for configs/tabular_classify.yaml and tabular_regress.yaml.

Trains on exactly the rows pipeline trained on (RUN_DIR/csv_splits.json, the
file lines of each split, written by the load stage) with scikit-learn's own
preprocessing (StandardScaler, OneHotEncoder fitted on the training split) and
prints the same metrics pipeline's evaluate stage prints for the test split.

  /usr/bin/python3 bench/tabular_baseline.py classify runs/tabular_classify
  /usr/bin/python3 bench/tabular_baseline.py regress runs/tabular_regress

Uses Debian's python3-sklearn (scripts/install-deps.sh), the package whose
bundled CSV files the configs read.
"""
import csv
import json
import math
import sys

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

DATA = "/usr/lib/python3/dist-packages/sklearn/datasets/data/"


def rows_by_line(path, first_line):
    """{1-based file line: fields} of the data rows from line first_line on."""
    with open(path, newline="") as f:
        return {i + 1: r for i, r in enumerate(csv.reader(f)) if i + 1 >= first_line and r}


def main():
    task, run_dir = sys.argv[1], sys.argv[2]
    with open(run_dir + "/csv_splits.json") as f:
        splits = json.load(f)
    if task == "classify":
        rows = rows_by_line(DATA + "breast_cancer.csv", 2)  # line 1: sklearn's count line
        to_xy = lambda lines: (np.array([[float(v) for v in rows[i][:30]] for i in lines]),
                               np.array([int(rows[i][30]) for i in lines]))
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=10000))
    else:
        rows = rows_by_line(DATA + "boston_house_prices.csv", 3)  # line 1: count line, line 2: header
        # Columns: CRIM ZN INDUS CHAS NOX RM AGE DIS RAD TAX PTRATIO B LSTAT MEDV; B is left out as in the config.
        numeric = [0, 1, 2, 4, 5, 6, 7, 9, 10, 12]
        categorical = [3, 8]
        to_xy = lambda lines: (np.array([[rows[i][c] for c in numeric + categorical] for i in lines], dtype=object),
                               np.array([float(rows[i][13]) for i in lines]))
        pre = ColumnTransformer([
            ("num", StandardScaler(), list(range(len(numeric)))),
            ("cat", OneHotEncoder(handle_unknown="ignore"), [len(numeric), len(numeric) + 1]),
        ])
        model = make_pipeline(pre, LinearRegression())
    x_train, y_train = to_xy(splits["train"])
    x_test, y_test = to_xy(splits["test"])
    if task == "regress":
        x_train[:, :10] = x_train[:, :10].astype(float)
        x_test[:, :10] = x_test[:, :10].astype(float)
    model.fit(x_train, y_train)
    if task == "classify":
        p = model.predict_proba(x_test)[:, 1]
        print(f"sklearn LogisticRegression: accuracy={accuracy_score(y_test, p > 0.5):.6f} "
              f"auc={roc_auc_score(y_test, p):.6f} ({len(y_train)} train, {len(y_test)} test rows)")
    else:
        p = model.predict(x_test)
        print(f"sklearn LinearRegression: rmse={math.sqrt(mean_squared_error(y_test, p)):.6f} "
              f"r2={r2_score(y_test, p):.6f} ({len(y_train)} train, {len(y_test)} test rows)")


if __name__ == "__main__":
    main()
