"""TensorBoard reads our events (issue 12).

1. A short `pipeline run`: TensorBoard's EventAccumulator loads the run's
   train/, validation/ and test/ directories and finds every scalar the docs
   list (docs/observability.md), one point per epoch at steps 1..N, each equal
   to metrics.jsonl's (or summary.json's, for test/) value as float32.
2. A sweep (configs/sweeps/fashion_diverge.yaml, 3 sets, one diverging): the
   hparams plugin data (tensorboard.plugins.hparams.plugin_data_pb2) parses from
   the sweep directory's `_hparams_/experiment` summary and every trial's
   `_hparams_/session_start_info`; the experiment lists every swept hparam and
   the objective metric, and each trial's session lists its own values.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfcommon  # noqa: E402

EPOCHS = 3
EXPECTED = {  # run subdirectory -> tag -> metrics.jsonl key (None: summary.json's test_*)
    "train": {"epoch_loss": "loss", "epoch_learning_rate": "learning_rate",
              "epoch_examples_per_second": None},
    "validation": {"epoch_accuracy": "validation_accuracy", "epoch_loss": "validation_loss"},
    "test": {"epoch_accuracy": "test_accuracy", "epoch_loss": "test_loss"},
}


def accumulator(path):
    from tensorboard.backend.event_processing import event_accumulator as ea
    acc = ea.EventAccumulator(path, size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
    acc.Reload()
    return acc


def check_run(c, args, tmp):
    import numpy as np
    run = os.path.join(tmp, "run")
    tfcommon.must_run([args.binary, "run", "configs/fashion_mnist.yaml", f"train.epochs={EPOCHS}",
                       "dataset.train.count=6000", "dataset.validation.count=1000", "dataset.test.count=2000",
                       f"export.path={tmp}/export", "--run-dir", run], cwd=args.source_dir)
    epochs = [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl"))]
    summary = json.load(open(os.path.join(run, "summary.json")))
    c.check(len(epochs) == EPOCHS, f"metrics.jsonl has {len(epochs)} lines, not {EPOCHS}")
    for sub, tags in EXPECTED.items():
        acc = accumulator(os.path.join(run, sub))
        found = sorted(acc.Tags()["scalars"])
        c.check(found == sorted(tags), f"{sub}/: TensorBoard finds scalars {found}, docs list {sorted(tags)}")
        for tag, key in tags.items():
            if tag not in found:
                continue
            events = acc.Scalars(tag)
            steps = [e.step for e in events]
            if sub == "test":
                want_steps, want = [EPOCHS], [summary[key]]
            else:
                want_steps = list(range(1, EPOCHS + 1))
                want = [e[key] for e in epochs] if key else None
            c.check(steps == want_steps, f"{sub}/{tag}: steps {steps}, want {want_steps}")
            if want is None:  # examples per second: positive, finite
                c.check(all(np.isfinite(e.value) and e.value > 0 for e in events), f"{sub}/{tag}: {events}")
                continue
            got = [e.value for e in events]
            # TensorBoard holds simple_value as a float32 and hands it out widened to a double.
            c.check(got == [float(np.float32(v)) for v in want], f"{sub}/{tag}: TensorBoard {got}, ours {want}")
        c.note(f"{sub}/: {len(found)} tags x {len(acc.Scalars(found[0])) if found else 0} points match")


def hparams_data(acc, tag):
    from tensorboard.plugins.hparams import plugin_data_pb2
    meta = acc.SummaryMetadata(tag)
    assert meta.plugin_data.plugin_name == "hparams", meta
    data = plugin_data_pb2.HParamsPluginData()
    data.ParseFromString(meta.plugin_data.content)
    return data


def check_sweep(c, args, tmp):
    out = os.path.join(tmp, "sweep")  # the sweep writes runs/fashion_diverge/ under its working directory
    os.makedirs(out)
    sweep = os.path.join(tmp, "fashion_diverge.yaml")
    with open(os.path.join(args.source_dir, "configs/sweeps/fashion_diverge.yaml")) as f:
        text = f.read().replace("base: ../fashion_mnist.yaml",
                                "base: " + os.path.abspath(os.path.join(args.source_dir, "configs/fashion_mnist.yaml")))
    with open(sweep, "w") as f:
        f.write(text)
    r = tfcommon.run([args.binary, "sweep", sweep, "--jobs", "1"], cwd=out)
    # Exit 1: the learning_rate 1000 trial diverges, by design; its hparams are still recorded.
    if not c.check(r.returncode == 1 and "1 of 3 trials failed" in r.stderr,
                   f"pipeline sweep exited {r.returncode}: {r.stderr[-2000:]}"):
        return
    root = os.path.join(out, "runs", "fashion_diverge")
    results = json.load(open(os.path.join(root, "results.json")))
    experiment = hparams_data(accumulator(root), "_hparams_/experiment").experiment
    names = sorted(h.name for h in experiment.hparam_infos)
    c.check(names == ["optimizer.learning_rate", "optimizer.type"], f"experiment hparams {names}")
    metrics = [m.name.tag for m in experiment.metric_infos]
    objective = results["objective"]["metric"]  # validation_accuracy: validation/epoch_accuracy
    groups = [(m.name.group, m.name.tag) for m in experiment.metric_infos]
    c.check(("validation", "epoch_accuracy") in groups, f"experiment metrics {groups} lack the objective {objective}")
    trials = results["trials"]
    c.check(len(trials) == 3, f"{len(trials)} trials, not 3")
    for t in trials:
        run_dir = os.path.join(out, t["run_dir"])
        start = hparams_data(accumulator(run_dir), "_hparams_/session_start_info").session_start_info
        lr = start.hparams["optimizer.learning_rate"].number_value
        want_lr = float(t["params"]["optimizer.learning_rate"])
        c.check(lr == want_lr, f"trial {t['id']}: session lr {lr}, results.json {want_lr}")
    c.note(f"sweep: {len(trials)} trials, hparams {names}, metrics {groups}")


def main():
    args = tfcommon.parse_args()
    args.binary = os.path.abspath(args.binary)  # the sweep runs in its own directory
    tfcommon.import_tensorflow()
    c = tfcommon.Checks("tensorboard reads our events")
    tmp = tfcommon.mkdtemp("tensorboard")

    def checks():
        check_run(c, args, tmp)
        check_sweep(c, args, tmp)
    tfcommon.run_checks(c, tmp, checks)


if __name__ == "__main__":
    main()
