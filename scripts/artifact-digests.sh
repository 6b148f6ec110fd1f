#!/bin/sh
# Digests of what a pipeline binary writes for a fixed set of short runs, so a
# refactoring can prove its outputs byte-identical to before:
#   scripts/artifact-digests.sh build/pipeline > after.txt && diff before.txt after.txt
# Every run uses seed 1 and 2 threads. Wall-clock fields ("seconds", "*_per_second",
# "wall_seconds", ...) are masked before hashing, because they differ between any
# two runs; every other byte of summary.json, metrics.jsonl, results.json/csv/md,
# config.yaml, confusion.*, saved_model.pb, variables/ and assets.extra/ counts.
set -eu
bin=$(realpath "$1")
src=$(cd "$(dirname "$0")/.." && pwd)
work=/tmp/pipeline-artifact-digests; rm -rf "$work"; mkdir -p "$work"
cd "$work"

common="train.epochs=2 dataset.train.count=5000 dataset.validation.count=1000 train.threads=2 seed=1"
run() {  # run NAME OVERRIDES...
  name=$1; shift
  # shellcheck disable=SC2086
  "$bin" run "$src/configs/fashion_mnist.yaml" $common "export.path=$work/exp/$name" \
    --run-dir "$work/run/$name" --quiet "$@" >/dev/null
}
run sgd
run adam_cosine optimizer.type=adam optimizer.learning_rate=0.001 optimizer.schedule.type=cosine
run momentum optimizer.type=momentum optimizer.nesterov=true optimizer.learning_rate=0.001
run rmsprop optimizer.type=rmsprop optimizer.learning_rate=0.001
run sigmoid_glorot "model.layers=[{type: dense, units: 64, activation: sigmoid, kernel_initializer: {type: glorot_uniform}}, {type: dense, units: 10, activation: linear}]"
run frozen export.variables=frozen
run warmup export.warmup=true
run class_names "export.class_names=['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']"
"$bin" sweep "$src/configs/sweeps/fashion_diverge.yaml" train.threads=1 --jobs 1 >/dev/null 2>&1 || true

mask='s/"\(seconds\|wall_seconds\|seconds_[a-z_]*\|[a-z_]*_per_second\|started\|finished\|elapsed[a-z_]*\)": *[-0-9.e+]*/"\1": T/g'
# Blanks the column whose header is $1 in a table split by $2 (results.csv, results.md).
drop_column() {
  awk -F"$2" -v OFS="$2" -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name || $i == " " name " ") c = i }
                                        { if (c && NF >= c) $c = "T"; print }'
}
find . -type f ! -name .lock ! -path './exp/*/variables/*.tmp*' ! -name '*.tfevents*' ! -name 'checkpoint.bin' | LC_ALL=C sort |
while read -r f; do
  case "$f" in
    *.csv) printf '%s  %s\n' "$(drop_column seconds_per_epoch , < "$f" | sed "s#$work#WORK#g; s#$src#SRC#g" | sha256sum | cut -c1-16)" "$f" ;;
    *.md) printf '%s  %s\n' "$(drop_column s/epoch '|' < "$f" | sed "s#$work#WORK#g; s#$src#SRC#g" | sha256sum | cut -c1-16)" "$f" ;;
    *.json|*.jsonl|*.yaml|*.txt) printf '%s  %s\n' "$(sed "$mask" "$f" | sed "s#$work#WORK#g; s#$src#SRC#g" | sha256sum | cut -c1-16)" "$f" ;;
    *) printf '%s  %s\n' "$(sha256sum < "$f" | cut -c1-16)" "$f" ;;
  esac
done
