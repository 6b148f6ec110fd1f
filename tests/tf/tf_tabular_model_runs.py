"""A tabular model TensorFlow wrote runs in ours (issue 14): Boston house prices
(scikit-learn's CSV, from Debian's python3-sklearn) with 10 numeric columns
standardized in the graph and two categorical ones (CHAS, RAD) looked up in a
string -> index table with an out-of-vocabulary default and one-hot encoded,
then a small MLP regressing MEDV. Written two ways (--model):
  tf1: a tf.compat.v1 graph: parse_example of one scalar feature per column,
       StaticHashTable (HashTableV2 + LookupTableImportV2, initialized by the
       legacy init op), one_hot, concat, ref variables; SavedModelBuilder with a
       regress `serving_default` and a `predict` taking one input per column;
  tf2: a tf.Module with tf.function signatures over resource variables and the
       same tables captured by the functions (StatefulPartitionedCall into the
       function library, the table initialized by __saved_model_init_op).
Trained briefly by TF (Adam, 200 steps) so the weights are not symmetric. Then
`pipeline inspect` lists what `saved_model_cli show --all` lists, and
`pipeline predict` reproduces TF's outputs on every row (regress from
tf.Examples, predict from per-column JSON instances, a value never seen in
training among them) to 1e-5 relative.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfcommon  # noqa: E402

TOL = 1e-5
CSV = "/usr/lib/python3/dist-packages/sklearn/datasets/data/boston_house_prices.csv"
CATEGORICAL = ["CHAS", "RAD"]
IGNORED = ["B"]
LABEL = "MEDV"


def read_boston():
    """{column: [raw strings]} in file order (skip the count line; the header is quoted)."""
    with open(CSV) as f:
        lines = f.read().splitlines()
    names = [s.strip().strip('"') for s in lines[1].split(",")]
    table = {n: [] for n in names}
    for line in lines[2:]:
        if not line.strip():
            continue
        for n, v in zip(names, line.split(",")):
            table[n].append(v.strip())
    return names, table


class Columns:
    """The encoding TF's graph will hold: means/stddevs, sorted vocabularies."""

    def __init__(self, np, names, table):
        self.numeric = [n for n in names if n not in CATEGORICAL + IGNORED + [LABEL]]
        self.categorical = list(CATEGORICAL)
        self.mean = {n: float(np.mean([float(v) for v in table[n]])) for n in self.numeric}
        self.std = {n: float(np.std([float(v) for v in table[n]])) or 1.0 for n in self.numeric}
        # Each table leaves out its column's rarest value, which then takes the out-of-vocabulary slot.
        self.vocab = {}
        for n in self.categorical:
            values = sorted(set(table[n]))
            rarest = min(values, key=lambda v: (table[n].count(v), v))
            self.vocab[n] = [v for v in values if v != rarest]

    def width(self):
        return len(self.numeric) + sum(len(v) + 1 for v in self.vocab.values())


def encode(tf, cols, features):
    """features: {column: [N] tensor} -> [N, width] floats, and the tables."""
    blocks, tables = [], []
    for n in cols.numeric:
        blocks.append(tf.expand_dims((features[n] - cols.mean[n]) / cols.std[n], 1))
    for n in cols.categorical:
        v = cols.vocab[n]
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            tf.constant(v), tf.constant(list(range(len(v))), dtype=tf.int64)), default_value=len(v))
        tables.append(table)
        blocks.append(tf.one_hot(table.lookup(features[n]), len(v) + 1, dtype=tf.float32))
    return tf.concat(blocks, axis=1), tables


def feature_spec(tf, cols):
    spec = {n: tf.io.FixedLenFeature([], tf.float32) for n in cols.numeric}
    spec.update({n: tf.io.FixedLenFeature([], tf.string) for n in cols.categorical})
    return spec


def train_weights(tf, np, cols, arrays, y):
    """A 2-layer MLP trained by TF on the encoded rows; returns the numpy weights."""
    tf.keras.utils.set_random_seed(1)
    x, _ = encode(tf, cols, {k: tf.constant(v) for k, v in arrays.items()})
    w0 = tf.Variable(tf.random.normal([cols.width(), 16], stddev=0.3))
    b0 = tf.Variable(tf.zeros([16]))
    w1 = tf.Variable(tf.random.normal([16, 1], stddev=0.3))
    b1 = tf.Variable(tf.constant([22.0]))
    opt = tf.keras.optimizers.Adam(0.05)
    yt = tf.constant(y.reshape(-1, 1))
    for _ in range(200):
        with tf.GradientTape() as tape:
            pred = tf.matmul(tf.nn.relu(tf.matmul(x, w0) + b0), w1) + b1
            loss = tf.reduce_mean(tf.square(pred - yt))
        opt.apply_gradients(zip(tape.gradient(loss, [w0, b0, w1, b1]), [w0, b0, w1, b1]))
    return [v.numpy() for v in (w0, b0, w1, b1)], float(loss.numpy())


def write_tf1(tf, cols, weights, export_dir):
    g = tf.Graph()
    with g.as_default():
        serialized = tf.compat.v1.placeholder(tf.string, [None], name="tf_example")
        parsed = tf.io.parse_example(serialized, feature_spec(tf, cols))
        features = {n: tf.identity(parsed[n], name=f"in_{n}") for n in parsed}
        x, _ = encode(tf, cols, features)
        w0, b0, w1, b1 = [tf.compat.v1.get_variable(name, initializer=tf.constant(v), use_resource=False)
                          for name, v in zip(["W0", "b0", "W1", "b1"], weights)]
        y = tf.identity(tf.matmul(tf.nn.relu(tf.matmul(x, w0) + b0), w1) + b1, name="y")
        sess = tf.compat.v1.Session(graph=g)
        sess.run(tf.compat.v1.global_variables_initializer())
        sess.run(tf.compat.v1.tables_initializer())
        sig = tf.compat.v1.saved_model.signature_def_utils
        signatures = {"serving_default": sig.regression_signature_def(serialized, y),
                      "predict": sig.predict_signature_def(inputs=features, outputs={"MEDV": y})}
        builder = tf.compat.v1.saved_model.Builder(export_dir)
        builder.add_meta_graph_and_variables(
            sess, ["serve"], signature_def_map=signatures,
            main_op=tf.group(tf.compat.v1.tables_initializer(), name="legacy_init_op"), strip_default_attrs=True)
        builder.save()

    def run(name, arrays, examples):
        if name == "serving_default":
            return {"outputs": sess.run(y, {serialized: examples})}
        return {"MEDV": sess.run(y, {features[n]: arrays[n] for n in features})}
    return run


def write_tf2(tf, cols, weights, export_dir):
    class Regressor(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = [tf.Variable(v, name=n) for n, v in zip(["W0", "b0", "W1", "b1"], weights)]
            self.spec = feature_spec(tf, cols)
            _, self.tables = encode(tf, cols, {n: tf.constant([""] if n in cols.categorical else [0.0])
                                                for n in cols.numeric + cols.categorical})

        def forward(self, features):
            blocks = [tf.expand_dims((features[n] - cols.mean[n]) / cols.std[n], 1) for n in cols.numeric]
            for n, table in zip(cols.categorical, self.tables):
                blocks.append(tf.one_hot(table.lookup(features[n]), len(cols.vocab[n]) + 1, dtype=tf.float32))
            x = tf.concat(blocks, axis=1)
            w0, b0, w1, b1 = self.w
            return tf.matmul(tf.nn.relu(tf.matmul(x, w0) + b0), w1) + b1

    m = Regressor()
    regress = tf.function(lambda inputs: {"outputs": m.forward(tf.io.parse_example(inputs, m.spec))},
                          input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    specs = {n: tf.TensorSpec([None], tf.float32, name=n) for n in cols.numeric}
    specs.update({n: tf.TensorSpec([None], tf.string, name=n) for n in cols.categorical})
    predict = tf.function(lambda f: {"MEDV": m.forward(f)}, input_signature=[specs]).get_concrete_function()
    tf.saved_model.save(m, export_dir, signatures={"serving_default": regress.get_concrete_function(),
                                                   "predict": predict})
    loaded = tf.saved_model.load(export_dir)

    def run(name, arrays, examples):
        fn = loaded.signatures[name]
        if name == "serving_default":
            return {k: v.numpy() for k, v in fn(inputs=tf.constant(examples)).items()}
        return {k: v.numpy() for k, v in fn(**{n: tf.constant(a) for n, a in arrays.items()}).items()}
    return run


def main():
    args = tfcommon.parse_args(lambda p: p.add_argument("--model", required=True, choices=["tf1", "tf2"]))
    c = tfcommon.Checks(f"a tabular model TensorFlow wrote runs in ours: {args.model}")
    tf = tfcommon.import_tensorflow()
    import numpy as np
    tmp = tfcommon.mkdtemp(f"tftab-{args.model}")

    def body():
        names, table = read_boston()
        cols = Columns(np, names, table)
        arrays = {n: np.array([float(v) for v in table[n]], dtype=np.float32) for n in cols.numeric}
        arrays.update({n: np.array([v.encode() for v in table[n]], dtype=object) for n in cols.categorical})
        y = np.array([float(v) for v in table[LABEL]], dtype=np.float32)
        unseen = sum(v not in cols.vocab[n] for n in cols.categorical for v in table[n])
        c.check(unseen > 0, "some categorical values are out of the tables' vocabulary")
        weights, loss = train_weights(tf, np, cols, arrays, y)
        c.note(f"{len(y)} rows, {cols.width()} encoded features, {unseen} out-of-vocabulary values; TF training MSE {loss:.3f}")
        export_dir = os.path.join(tmp, "model", "1")
        run = (write_tf1 if args.model == "tf1" else write_tf2)(tf, cols, weights, export_dir)

        examples, json_examples, json_rows = [], [], []
        for i in range(len(y)):
            feats, je, jr = {}, {}, {}
            for n in cols.numeric:
                feats[n] = tf.train.Feature(float_list=tf.train.FloatList(value=[arrays[n][i]]))
                je[n], jr[n] = [float(arrays[n][i])], float(arrays[n][i])
            for n in cols.categorical:
                feats[n] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[arrays[n][i]]))
                je[n], jr[n] = [table[n][i]], table[n][i]
            examples.append(tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString())
            json_examples.append(je)
            json_rows.append(jr)

        show = tfcommon.run(["saved_model_cli", "show", "--all", "--dir", export_dir])
        c.check(show.returncode == 0, f"saved_model_cli show exited {show.returncode}: {show.stderr[-1500:]}")
        inspect = tfcommon.run([args.binary, "inspect", export_dir])
        c.check(inspect.returncode == 0, f"pipeline inspect exited {inspect.returncode}: {inspect.stderr[-1500:]}")
        theirs, mine = tfcommon.parse_show(show.stdout), tfcommon.parse_show(inspect.stdout)
        c.check(set(theirs) - {"__saved_model_init_op"} == {"serving_default", "predict"} and theirs == mine, f"saved_model_cli show vs pipeline inspect:\n  TF:   {theirs}\n  ours: {mine}")

        worst = 0.0
        for name, instances in (("serving_default", json_examples), ("predict", json_rows)):
            tf_out = run(name, arrays, examples)
            path = os.path.join(tmp, f"{name}.json")
            with open(path, "w") as f:
                json.dump({"instances": instances}, f)
            out = os.path.join(tmp, f"ours-{name}.json")
            r = tfcommon.run([args.binary, "predict", export_dir, "--signature", name, "--json-instances", path,
                              "--show", "0", "--json", out])
            if not c.check(r.returncode == 0, f"pipeline predict {name} exited {r.returncode}: {r.stderr[-1500:]}"):
                continue
            with open(out) as f:
                ours = json.load(f)["outputs"]
            c.check(sorted(ours) == sorted(tf_out), f"{name}: outputs {sorted(ours)} vs TF {sorted(tf_out)}")
            for alias, t in tf_out.items():
                if alias not in ours:
                    continue
                o = tfcommon.as_numpy(ours[alias]["values"], ours[alias]["dtype"])
                t = np.asarray(t, dtype=np.float64).reshape(len(y), -1)
                if not c.check(o.shape == t.shape, f"{name} {alias}: shape {o.shape} vs TF {t.shape}"):
                    continue
                d = float((np.abs(o - t) / np.maximum(1.0, np.abs(t))).max())
                worst = max(worst, d)
                c.check(d <= TOL, f"{name} {alias}: max relative difference {d:.3g} > {TOL}")
                rmse = float(np.sqrt(np.mean((o.reshape(-1) - y) ** 2)))
                c.note(f"{name} {alias}: {len(y)} rows, max relative difference TF vs ours {d:.3g}; RMSE {rmse:.4f}")
        c.note(f"max relative difference TF vs ours: {worst:.3g}")

    tfcommon.run_checks(c, tmp, body)


if __name__ == "__main__":
    main()
