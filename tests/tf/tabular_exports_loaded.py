"""A CSV model's export, loaded by TensorFlow (issues 12 and 14): one committed
tabular config per test (configs/tabular_classify.yaml, tabular_regress.yaml).

Train it with `pipeline run` (export on, warmup records on), then read the
test split's rows straight from the CSV file (the lines the run's
csv_splits.json names) and, for the exported version:
  1. load it with tf.compat.v1.saved_model.loader.load in a Session and run
     every signature on the whole test split: classify/regress with serialized
     tf.Examples holding one feature per column (float_list for numeric
     columns, bytes_list for categorical ones), predict with one [N] tensor per
     column. Outputs equal `pipeline predict --json` on the same rows to 1e-5
     (regressed numbers: 1e-5 relative); class strings are identical. The
     accuracy (classification) equals the run's test_accuracy exactly; the
     RMSE (regression) equals its test_rmse to 1e-5 relative, since the graph
     standardizes in float32 and the engine in float64;
  2. the same through TF2's tf.saved_model.load(dir).signatures[...];
  3. `saved_model_cli show --all` lists what `pipeline inspect` lists, and
     `saved_model_cli run --input_examples` on 3 rows matches ours;
  4. every warmup record parses as a PredictionLog and replays through TF;
  5. tf.train.load_checkpoint lists exactly the model's variables, with the
     values of the run's final training checkpoint.
The raw-column inputs are the point: a client sends what the CSV holds, and
the graph's own tables and statistics encode it (docs/export.md).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfcommon  # noqa: E402

TOL = 1e-5
SKLEARN_DATA = "/usr/lib/python3/dist-packages/sklearn/datasets/data"

# How each config's file is laid out (the config's dataset.csv section).
CONFIGS = {
    # header: false; the names are the feature columns in file order, then the label (target).
    "tabular_classify": {"file": f"{SKLEARN_DATA}/breast_cancer.csv", "skip_lines": 1, "header": False,
                         "label": "target", "class_names": ["malignant", "benign"]},
    "tabular_regress": {"file": f"{SKLEARN_DATA}/boston_house_prices.csv", "skip_lines": 1, "header": True,
                        "label": "MEDV"},
}


class Tester:
    def __init__(self, args, name, spec):
        self.args, self.name, self.spec = args, name, spec
        self.c = tfcommon.Checks(f"tf tabular exports: {name}")
        self.tf = tfcommon.import_tensorflow()
        import numpy as np
        self.np = np
        self.tmp = tfcommon.mkdtemp(name)
        self.max_diff = {"tf1": 0.0, "tf2": 0.0, "cli": 0.0}
        self.scores = {}

    def train(self):
        self.run_dir = os.path.join(self.tmp, "run")
        export = os.path.join(self.tmp, "export")
        tfcommon.must_run([self.args.binary, "run", os.path.join(self.args.source_dir, "configs", self.name + ".yaml"),
                           f"export.path={export}", "export.warmup=true", "--run-dir", self.run_dir], cwd=self.tmp)
        with open(os.path.join(self.run_dir, "summary.json")) as f:
            self.summary = json.load(f)
        with open(os.path.join(self.run_dir, "csv_splits.json")) as f:
            self.test_lines = json.load(f)["test"]
        return self.summary["export_dir"]

    def read_rows(self, columns):
        """The test split as {column: [raw string per row]} and the label strings."""
        with open(self.spec["file"]) as f:
            lines = f.read().splitlines()
        if self.spec["header"]:
            names = [s.strip().strip('"') for s in lines[self.spec["skip_lines"]].split(",")]  # quoted names
        else:
            names = [c for c, _ in columns] + [self.spec["label"]]
        table = {n: [] for n in names}
        for ln in self.test_lines:
            fields = lines[ln - 1].split(",")
            self.c.check(len(fields) == len(names), f"line {ln}: {len(fields)} fields, header has {len(names)}")
            for n, v in zip(names, fields):
                table[n].append(v.strip())
        return table, table[self.spec["label"]]

    def load_columns(self, vdir):
        """(name, categorical) in the graph's column order, from the predict signature."""
        tf = self.tf
        with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
            mg = tf.compat.v1.saved_model.loader.load(sess, ["serve"], vdir)
        predict = [s for s in mg.signature_def.values() if s.method_name.endswith("/predict")]
        self.c.check(len(predict) == 1, f"{vdir}: {len(predict)} predict signatures")
        by_node = {int(info.name.split(":")[0][len("column_"):]): (alias, info.dtype == tf.string.as_datatype_enum)
                   for alias, info in predict[0].inputs.items()}
        return [by_node[i] for i in sorted(by_node)]

    def inputs(self, columns, table):
        """Per-column arrays (predict), serialized tf.Examples (classify/regress) and their JSON rows."""
        tf, np = self.tf, self.np
        arrays, examples, json_predict, json_examples = {}, [], [], []
        for name, categorical in columns:
            arrays[name] = (np.array([v.encode() for v in table[name]], dtype=object) if categorical
                            else np.array([float(v) for v in table[name]], dtype=np.float32))
        n = len(self.test_lines)
        for i in range(n):
            feats, jp, je = {}, {}, {}
            for name, categorical in columns:
                if categorical:
                    feats[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[arrays[name][i]]))
                    jp[name] = table[name][i]
                    je[name] = [table[name][i]]
                else:
                    feats[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[arrays[name][i]]))
                    jp[name] = float(arrays[name][i])
                    je[name] = [float(arrays[name][i])]
            examples.append(tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString())
            json_predict.append(jp)
            json_examples.append(je)
        return arrays, examples, json_predict, json_examples

    def ours(self, vdir, signature, instances, limit=None):
        path = os.path.join(self.tmp, f"instances-{signature}.json")
        with open(path, "w") as f:
            json.dump({"instances": instances}, f)
        out = os.path.join(self.tmp, f"predict-{signature}.json")
        cmd = [self.args.binary, "predict", vdir, "--signature", signature, "--json-instances", path, "--show", "0",
               "--json", out]
        if limit:
            cmd += ["--limit", str(limit)]
        tfcommon.must_run(cmd)
        with open(out) as f:
            return json.load(f)

    def compare(self, what, tf_out, ours, key):
        np, c = self.np, self.c
        mine_all = ours["outputs"]
        if not c.check(sorted(tf_out) == sorted(mine_all), f"{what}: aliases TF {sorted(tf_out)} vs ours {sorted(mine_all)}"):
            return
        for alias, t in tf_out.items():
            o = mine_all[alias]
            mine = tfcommon.as_numpy(o["values"], o["dtype"])
            t = np.asarray(t)
            t2 = t.reshape(t.shape[0], -1)
            if not c.check(t2.shape == mine.shape, f"{what} {alias}: TF shape {t.shape} vs ours {mine.shape}"):
                continue
            if o["dtype"] in ("DT_STRING", "string"):
                tf_strings = [[s.decode() for s in row] for row in t2]
                bad = [i for i, (a, b) in enumerate(zip(tf_strings, mine.tolist())) if a != b]
                c.check(not bad, f"{what} {alias}: classes differ in {len(bad)} rows, e.g. row "
                        f"{bad[0] if bad else None}")
                continue
            diff = np.abs(t2.astype(np.float64) - mine)
            if self.summary.get("test_rmse") is not None:  # regressed numbers: relative
                diff = diff / np.maximum(1.0, np.abs(t2.astype(np.float64)))
            d = float(diff.max()) if diff.size else 0.0
            self.max_diff[key] = max(self.max_diff[key], d)
            c.check(d <= TOL, f"{what} {alias}: max difference TF vs ours {d:.3g} > {TOL}")

    def score(self, what, method, outs, labels):
        """Accuracy from classify's top class or predict's argmax; RMSE from regressed numbers."""
        np, c, s = self.np, self.c, self.summary
        if s.get("test_rmse") is not None:
            y = np.asarray(next(iter(outs.values())), dtype=np.float64).reshape(-1)
            t = np.array([float(v) for v in labels])
            rmse = float(np.sqrt(np.mean((y - t) ** 2)))
            self.scores[what] = f"rmse {rmse:.6f}"
            c.check(abs(rmse - s["test_rmse"]) <= 1e-5 * s["test_rmse"],
                    f"{what}: RMSE {rmse} vs the run's test_rmse {s['test_rmse']}")
            return
        index = np.array([int(v) for v in labels])
        if method.endswith("/classify"):
            scores, classes = np.asarray(outs["scores"]), np.asarray(outs["classes"])
            top = classes[np.arange(len(index)), np.argmax(scores, axis=1)]
            top = [t.decode() if isinstance(t, bytes) else t for t in top]  # TF gives bytes, predict --json str
            acc = sum(t == self.spec["class_names"][i] for t, i in zip(top, index)) / len(index)
        else:
            acc = int(np.sum(np.argmax(np.asarray(next(iter(outs.values()))), axis=1) == index)) / len(index)
        self.scores[what] = f"accuracy {acc}"
        c.check(acc == s["test_accuracy"], f"{what}: accuracy {acc} != the run's test_accuracy {s['test_accuracy']}")

    def main(self):
        tf, np, c = self.tf, self.np, self.c
        vdir = self.train()
        columns = self.load_columns(vdir)
        table, labels = self.read_rows(columns)
        arrays, examples, json_predict, json_examples = self.inputs(columns, table)
        c.note(f"{vdir}: {len(columns)} columns ({sum(cat for _, cat in columns)} categorical), "
               f"{len(examples)} test rows; run: " +
               ", ".join(f"{k} {self.summary[k]}" for k in ("test_accuracy", "test_auc", "test_rmse", "test_r2")
                         if self.summary.get(k) is not None))
        final = tfcommon.read_run_checkpoint(os.path.join(self.run_dir, "checkpoint", "checkpoint.bin"))
        ours_all = {}
        with tf.Graph().as_default() as g, tf.compat.v1.Session(graph=g) as sess:
            mg = tf.compat.v1.saved_model.loader.load(sess, ["serve"], vdir)
            sigs = dict(mg.signature_def)
            for name, sig in sorted(sigs.items()):
                if sig.method_name.endswith("/predict"):
                    feed = {sig.inputs[col].name: arrays[col] for col, _ in columns}
                    ours = self.ours(vdir, name, json_predict)
                else:
                    feed = {sig.inputs["inputs"].name: examples}
                    ours = self.ours(vdir, name, json_examples)
                outs = sess.run({a: t.name for a, t in sig.outputs.items()}, feed_dict=feed)
                ours_all[name] = ours
                self.compare(f"TF1 {name}", outs, ours, "tf1")
                self.score(f"{name} (TF1)", sig.method_name, outs, labels)
                mine = {a: tfcommon.as_numpy(o["values"], o["dtype"]) for a, o in ours["outputs"].items()}
                self.score(f"{name} (pipeline predict)", sig.method_name, mine, labels)
            # Item 5: the checkpoint TF reads, and the values the loaded graph computes with.
            reader = tf.train.load_checkpoint(os.path.join(vdir, "variables", "variables"))
            shapes = reader.get_variable_to_shape_map()
            c.check(sorted(shapes) == sorted(final), f"checkpoint variables {sorted(shapes)} vs the model's {sorted(final)}")
            for k, v in final.items():
                if k in shapes:
                    c.check(np.array_equal(reader.get_tensor(k), v), f"{k}: checkpoint values differ from the final weights")
                c.check(np.array_equal(sess.run(g.get_tensor_by_name(k + ":0")), v), f"{k}: the loaded graph's value differs")
            self.check_warmup(sess, sigs, vdir)

        # Item 2: TF2's loader.
        loaded = tf.saved_model.load(vdir)
        c.check(sorted(loaded.signatures.keys()) == sorted(sigs), f"TF2 signatures {sorted(loaded.signatures.keys())}")
        for name, sig in sorted(sigs.items()):
            fn = loaded.signatures[name]
            if sig.method_name.endswith("/predict"):
                kwargs = {col: tf.constant(arrays[col]) for col, _ in columns}
            else:
                kwargs = {"inputs": tf.constant(examples)}
            outs = {k: v.numpy() for k, v in fn(**kwargs).items()}
            self.compare(f"TF2 {name}", outs, ours_all[name], "tf2")
            self.score(f"{name} (TF2)", sig.method_name, outs, labels)

        # Item 3: saved_model_cli.
        show = tfcommon.run(["saved_model_cli", "show", "--all", "--dir", vdir])
        c.check(show.returncode == 0, f"saved_model_cli show --all exited {show.returncode}: {show.stderr[-2000:]}")
        inspect = tfcommon.must_run([self.args.binary, "inspect", vdir])
        theirs, mine = tfcommon.parse_show(show.stdout), tfcommon.parse_show(inspect.stdout)
        c.check(len(theirs) > 0 and theirs == mine, f"saved_model_cli show vs pipeline inspect:\n  TF:   {theirs}\n  ours: {mine}")
        for name, sig in sorted(sigs.items()):
            if sig.method_name.endswith("/predict"):
                continue  # --input_examples is for tf.Example inputs; predict is covered above
            outdir = os.path.join(self.tmp, f"cli-{name}")
            r = tfcommon.run(["saved_model_cli", "run", "--dir", vdir, "--tag_set", "serve", "--signature_def", name,
                              "--outdir", outdir, "--overwrite", "--input_examples",
                              f"inputs={json.dumps(json_examples[:3])}"])
            if not c.check(r.returncode == 0, f"saved_model_cli run {name} exited {r.returncode}: {r.stderr[-2000:]}"):
                continue
            three = self.ours(vdir, name, json_examples[:3])
            outs = {a: np.load(os.path.join(outdir, a + ".npy"), allow_pickle=True) for a in three["outputs"]}
            self.compare(f"saved_model_cli run {name}", outs, three, "cli")
        for k, v in self.scores.items():
            c.note(f"{k}: {v}")
        c.note("max difference TF vs ours: " + ", ".join(f"{k} {v:.3g}" for k, v in self.max_diff.items()))

    def check_warmup(self, sess, sigs, vdir):
        """Item 4: the warmup records (a typical row per signature) replay through TF."""
        tf, c = self.tf, self.c
        from tensorflow_serving.apis import prediction_log_pb2
        path = os.path.join(vdir, "assets.extra", "tf_serving_warmup_requests")
        if not c.check(os.path.exists(path), f"{path} is missing"):
            return
        records = list(tf.compat.v1.io.tf_record_iterator(path))
        c.check(len(records) == len(sigs), f"{len(records)} warmup records for {len(sigs)} signatures")
        for rec in records:
            log = prediction_log_pb2.PredictionLog.FromString(rec)
            kind = log.WhichOneof("log_type")
            req = getattr(log, kind).request
            sig = sigs[req.model_spec.signature_name]
            if kind == "predict_log":
                feed = {sig.inputs[a].name: tf.make_ndarray(t) for a, t in req.inputs.items()}
                c.check(sorted(req.inputs) == sorted(sig.inputs), f"warmup predict inputs {sorted(req.inputs)}")
            else:
                feed = {sig.inputs["inputs"].name: [e.SerializeToString() for e in req.input.example_list.examples]}
            outs = sess.run({a: t.name for a, t in sig.outputs.items()}, feed_dict=feed)
            c.check(all(v.shape[0] == 1 for v in outs.values()), f"warmup {req.model_spec.signature_name}: batch != 1")
        c.note(f"warmup: {len(records)} PredictionLog records replayed")


if __name__ == "__main__":
    args = tfcommon.parse_args(lambda p: p.add_argument("--config", required=True, choices=sorted(CONFIGS)))
    t = Tester(args, args.config, CONFIGS[args.config])
    tfcommon.run_checks(t.c, t.tmp, t.main)
