"""Our exports, loaded by TensorFlow (issue 12): one exported config per test.

For the config named by --config: train it briefly with `pipeline run`
(configs/fashion_mnist.yaml plus overrides, or a committed image config --
fashion_cnn.yaml, mnist_lenet.yaml on the real MNIST t10k files the repository
carries -- with epochs and splits cut down), then, for every exported version:
  1. load it with tf.compat.v1.saved_model.loader.load in a tf.compat.v1.Session
     and run every signature on the whole Fashion-MNIST test set (predict: float
     batches; classify/regress: serialized tf.Example batches); outputs equal
     `pipeline predict --json` on the same inputs to 1e-5 (strings identical);
     the accuracy equals the run's test_accuracy (summary.json) exactly;
  2. the same through TF2's tf.saved_model.load(dir).signatures[...];
  3. `saved_model_cli show --all` exits 0 and lists the signatures, dtypes,
     shapes and tensor names `pipeline inspect` lists; `saved_model_cli run` on
     3 examples per signature matches `pipeline predict --limit 3`;
  4. every warmup record parses as a PredictionLog and replays through TF;
  5. tf.train.load_checkpoint(<dir>/variables/variables) lists exactly the
     model's variables, with the values of the run's final training checkpoint
     (<run>/checkpoint/checkpoint.bin, written by a different writer); a
     batch_norm layer's are exported folded (<name>/scale, <name>/offset,
     export/batch_norm_graph.cpp), recomputed here from its gamma, beta and
     moving statistics in that checkpoint.
The test set is the run's own test split (the whole Fashion-MNIST t10k file
unless the config's "test_count" cuts it to its first examples).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfcommon  # noqa: E402

TOL = 1e-5
SEED_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def layers(hidden, activation, init):
    """A model.layers override: hidden units, then the 10-logit layer, all with `init`."""
    ki = f"kernel_initializer: {{type: {init}}}, bias_initializer: {{type: zeros}}"
    items = [f"{{units: {u}, activation: {activation}, {ki}}}" for u in hidden]
    items.append(f"{{units: 10, {ki}}}")
    return "model.layers=[" + ", ".join(items) + "]"


# name -> {"runs": [overrides per run (all export to the same base path)], ...}
CONFIGS = {
    "seed": {"runs": [[]]},
    "adam_cosine": {"runs": [["optimizer.type=adam", "optimizer.learning_rate=0.001",
                              "optimizer.schedule.type=cosine", "train.epochs=2"]]},
    "momentum_nesterov": {"runs": [["optimizer.type=momentum", "optimizer.nesterov=true",
                                    "optimizer.learning_rate=0.001"]]},
    "rmsprop": {"runs": [["optimizer.type=rmsprop", "optimizer.learning_rate=0.001"]]},
    "hidden1_relu_he": {"runs": [[layers([64], "relu", "he_normal")]]},
    "hidden3_sigmoid_glorot": {"runs": [[layers([64, 32, 32], "sigmoid", "glorot_uniform"),
                                         "optimizer.type=adam", "optimizer.learning_rate=0.003"]]},
    "hidden4_tanh_glorot_normal": {"runs": [[layers([48, 32, 32, 16], "tanh", "glorot_normal"),
                                             "optimizer.type=adam", "optimizer.learning_rate=0.003"]]},
    "top_k3_digit_names": {"runs": [[
        "export.class_names=['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']",
        "export.signatures=[{name: predict_images, method: predict, input_key: images, output_key: scores},"
        " {name: serving_default, method: classify, feature: pixels, top_k: 3},"
        " {name: classify_all, method: classify, feature: pixels}]"]], "feature": "pixels",
        "class_names": [str(i) for i in range(10)]},
    "frozen": {"runs": [["export.variables=frozen"]]},
    "warmup": {"runs": [["export.warmup=true"]], "warmup": True},
    "second_version": {"runs": [[], ["seed=2", "export.warmup=true"]]},
    # Issue 14's image layers: Reshape, Conv2D, BiasAdd, Relu, MaxPool, AvgPool, Identity.
    "cnn": {"runs": [[
        "model.input_shape=[28, 28, 1]",
        "model.layers=[{type: conv2d, filters: 8, kernel_size: [3, 3], padding: same, activation: relu,"
        " kernel_initializer: {type: he_normal}, bias_initializer: {type: zeros}},"
        " {type: max_pool2d}, {type: conv2d, filters: 16, kernel_size: [3, 3], strides: [2, 2], activation: tanh,"
        " kernel_initializer: {type: glorot_uniform}, bias_initializer: {type: zeros}},"
        " {type: avg_pool2d, padding: same}, {type: flatten}, {type: dropout, rate: 0.25},"
        " {units: 10, kernel_initializer: {type: glorot_uniform}, bias_initializer: {type: zeros}}]",
        "optimizer.type=adam", "optimizer.learning_rate=0.001"]]},
}


# Issue 14's activations, each on a hidden dense layer (softmax too: over its
# units, before the logits) and on a conv (softmax over its channels):
# LeakyRelu, Elu, gelu's Mul/Neg/Erfc, Softplus, Softmax.
NEW_ACTIVATIONS = ["leaky_relu", "elu", "gelu", "softplus", "softmax"]


def mixed_layers(activations, init):
    """A model.layers override: one 32-unit hidden layer per activation, then the 10 logits."""
    ki = f"kernel_initializer: {{type: {init}}}, bias_initializer: {{type: zeros}}"
    items = [f"{{units: 32, activation: {a}, {ki}}}" for a in activations] + [f"{{units: 10, {ki}}}"]
    return "model.layers=[" + ", ".join(items) + "]"


def conv_activations_layers(activations):
    """Convs of 6 filters, 3x3 same, one per activation (a max_pool2d after the second), flatten, 10 logits."""
    ki = "kernel_initializer: {type: glorot_uniform}, bias_initializer: {type: zeros}"
    items = []
    for i, a in enumerate(activations):
        items.append(f"{{type: conv2d, filters: 6, kernel_size: [3, 3], padding: same, activation: {a}, {ki}}}")
        if i == 1:
            items.append("{type: max_pool2d}")
    items += ["{type: max_pool2d}", "{type: flatten}", f"{{units: 10, {ki}}}"]
    return "model.layers=[" + ", ".join(items) + "]"


def keras_dense_model(tf, activations):
    """The Keras model mixed_layers describes (Keras' own activations: leaky_relu's
    negative_slope 0.2, gelu approximate=False, softmax over the last axis)."""
    L = tf.keras.layers
    return tf.keras.Sequential([tf.keras.Input(shape=(784,))] + [L.Dense(32, activation=a) for a in activations] +
                               [L.Dense(10)])


def keras_conv_model(tf, activations):
    """The Keras model conv_activations_layers describes, on the 784-float rows."""
    L = tf.keras.layers
    layers = [tf.keras.Input(shape=(784,)), L.Reshape((28, 28, 1))]
    for i, a in enumerate(activations):
        layers.append(L.Conv2D(6, 3, padding="same", activation=a))
        if i == 1:
            layers.append(L.MaxPooling2D(2))
    return tf.keras.Sequential(layers + [L.MaxPooling2D(2), L.Flatten(), L.Dense(10)])


CONFIGS.update({
    "activations_dense": {"runs": [[mixed_layers(NEW_ACTIVATIONS, "glorot_uniform"),
                                    "optimizer.type=adam", "optimizer.learning_rate=0.003"]],
                          "keras": lambda tf: keras_dense_model(tf, NEW_ACTIVATIONS)},
})


# The image configs: a CNN's reader-side cost is per test image, so they test
# on the first TEST_COUNT images (the run's test split is the same ones); each
# exports warmup records (item 4).
CNN_TEST = ["dataset.test.count=2000", "export.warmup=true"]
TEST_COUNT = 2000
MNIST_DIR = "tests/data/mnist"  # the real MNIST t10k files (tests/data/README.md)
DIGITS = [str(i) for i in range(10)]
CONFIGS.update({
    # configs/fashion_cnn.yaml as committed (32 and 64 3x3 filters), 1 epoch on 6000 examples.
    "fashion_cnn": {"config": "configs/fashion_cnn.yaml", "test_count": TEST_COUNT, "warmup": True, "runs": [[
        "dataset.train.count=6000", "dataset.validation.count=0"] + CNN_TEST]},
    # configs/mnist_lenet.yaml on tests/data/mnist (no download): t10k's first 2000
    # images test, the next 6000 train.
    "mnist_lenet": {"config": "configs/mnist_lenet.yaml", "test_count": TEST_COUNT, "data": MNIST_DIR, "warmup": True,
                    "class_names": DIGITS, "runs": [[
                        f"dataset.path={{source}}/{MNIST_DIR}", "dataset.download=false",
                        "dataset.train.file=t10k", "dataset.train.start=2000", "dataset.train.count=6000",
                        "dataset.validation.count=0", "dataset.test.file=t10k"] + CNN_TEST]},
    # batch_norm after a conv (NHWC channels) and after a dense layer (flat rows),
    # exported folded as Mul + AddV2 (export/batch_norm_graph.cpp).
    "cnn_batch_norm": {"test_count": TEST_COUNT, "warmup": True, "runs": [[
        "model.input_shape=[28, 28, 1]",
        "model.layers=[{type: conv2d, filters: 8, kernel_size: [3, 3], padding: same, activation: relu,"
        " kernel_initializer: {type: he_normal}, bias_initializer: {type: zeros}},"
        " {type: batch_norm, momentum: 0.9}, {type: max_pool2d}, {type: flatten},"
        " {units: 32, activation: relu, kernel_initializer: {type: he_normal}, bias_initializer: {type: zeros}},"
        " {type: batch_norm, momentum: 0.9, epsilon: 0.01},"
        " {units: 10, kernel_initializer: {type: glorot_uniform}, bias_initializer: {type: zeros}}]",
        "optimizer.type=adam", "optimizer.learning_rate=0.001", "dataset.train.count=6000"] + CNN_TEST],
        "epsilons": {"batch_norm_1": 0.001, "batch_norm_5": 0.01}},
    "activations_conv2d": {"test_count": TEST_COUNT, "warmup": True, "runs": [[
        "model.input_shape=[28, 28, 1]", conv_activations_layers(NEW_ACTIVATIONS),
        "optimizer.type=adam", "optimizer.learning_rate=0.001", "dataset.train.count=6000"] + CNN_TEST],
        "keras": lambda tf: keras_conv_model(tf, NEW_ACTIVATIONS)},
})


def folded_batch_norm(final, epsilons):
    """The run's parameters as the export stores them: each batch_norm layer's
    gamma, beta, moving_mean and moving_variance replaced by scale = gamma /
    sqrt(moving_variance + epsilon) (in float64, then float32) and offset =
    beta - moving_mean * scale (float32), export/batch_norm_graph.cpp's fold."""
    import numpy as np
    out = dict(final)
    for k in [k[:-len("/gamma")] for k in final if k.endswith("/gamma")]:
        gamma, beta = out.pop(k + "/gamma"), out.pop(k + "/beta")
        mean, var = out.pop(k + "/moving_mean"), out.pop(k + "/moving_variance")
        scale = (gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + epsilons[k])).astype(np.float32)
        out[k + "/scale"] = scale
        out[k + "/offset"] = (beta - mean * scale).astype(np.float32)
    return out


def compare(c, what, tf_out, ours, max_diff, ref=None):
    """tf_out: {alias: ndarray}; ours: predict --json's outputs. Records the max abs diff.

    Numbers agree to TOL absolute. Where they do not, the model is ill-conditioned
    in float32 (the seed's N(0,1) weights give logits near 1e3, whose last-bit
    rounding moves a softmax near a tie by ~1e-4): such an element passes only if
    `ref` (an exact float64 forward pass from the final weights, {alias: ndarray})
    is given and ours is no further from it than TOL plus twice TF's own largest
    error on that output. The count of such elements is reported."""
    import numpy as np
    if not c.check(sorted(tf_out) == sorted(ours), f"{what}: output aliases TF {sorted(tf_out)} vs ours {sorted(ours)}"):
        return
    for alias, t in tf_out.items():
        o = ours[alias]
        mine = tfcommon.as_numpy(o["values"], o["dtype"])
        t = np.asarray(t)
        t2 = t.reshape(t.shape[0], -1) if t.ndim > 0 else t
        if not c.check(t2.shape == mine.shape, f"{what} {alias}: TF shape {t.shape} vs ours {mine.shape}"):
            continue
        if o["dtype"] in ("DT_STRING", "string"):
            tf_strings = [[s.decode("utf-8") for s in row] for row in t2]
            ties, rest = [], [i for i, (a, b) in enumerate(zip(tf_strings, mine.tolist())) if a != b]
            # Classes at near-tied scores may come in either order (tfcommon.split_class_mismatches).
            if rest and "scores" in tf_out:
                ties, rest = tfcommon.split_class_mismatches(
                    tf_strings, mine.tolist(), tf_out["scores"],
                    tfcommon.as_numpy(ours["scores"]["values"], ours["scores"]["dtype"]))
            c.check(not rest, f"{what} {alias}: class strings differ in {len(rest)} rows, e.g. row "
                    f"{rest[0] if rest else None}: TF {tf_strings[rest[0]] if rest else None} vs ours "
                    f"{mine.tolist()[rest[0]] if rest else None}")
            if ties:
                c.note(f"{what} {alias}: {len(ties)} rows order classes with tied scores differently "
                       f"(row {ties[0]}: TF {tf_strings[ties[0]]}, ours {mine.tolist()[ties[0]]})")
        else:
            diff = np.abs(t2.astype(np.float64) - mine)
            d = float(diff.max()) if diff.size else 0.0
            max_diff[0] = max(max_diff[0], d)
            over = diff > TOL
            if not over.any():
                continue
            if ref is None or alias not in ref:
                c.check(False, f"{what} {alias}: max abs difference TF vs ours {d:.3g} > {TOL}")
                continue
            r = ref[alias]
            tf_err = float(np.abs(t2 - r).max())
            our_err = np.abs(mine - r)
            bound = TOL + 2 * tf_err
            c.check(bool((our_err[over] <= bound).all()),
                    f"{what} {alias}: {int(over.sum())} elements differ from TF by more than {TOL} (max {d:.3g}) and "
                    f"ours is {float(our_err[over].max()):.3g} from exact float64 arithmetic, TF {tf_err:.3g}")
            c.note(f"{what} {alias}: {int(over.sum())} of {over.size} elements differ from TF by more than {TOL} "
                   f"(max {d:.3g}): float32 rounding of an ill-conditioned model; vs exact float64 "
                   f"ours {float(our_err.max()):.3g}, TF {tf_err:.3g}")


def reference(graph_def, final, x):
    """An exact (float64) forward pass of the exported MLP from the run's final
    weights: {"logits": [N, n], "softmax": [N, n]}. Activations are read from the graph."""
    import numpy as np
    ops = {n.name: n.op for n in graph_def.node}
    if any(op in ("Conv2D", "MaxPool", "AvgPool") for op in ops.values()):
        return None  # an image model: its outputs must agree to TOL outright
    h = x.astype(np.float64)
    names = [k[:-len("/kernel")] for k in final if k.endswith("/kernel")]
    for layer in names:
        h = h @ final[layer + "/kernel"].astype(np.float64) + final[layer + "/bias"].astype(np.float64)
        if ops.get(layer + "/Relu") == "Relu":
            h = np.maximum(h, 0)
        elif ops.get(layer + "/Sigmoid") == "Sigmoid":
            h = 1 / (1 + np.exp(-h))
        elif ops.get(layer + "/Tanh") == "Tanh":
            h = np.tanh(h)
        elif ops.get(layer + "/LeakyRelu") == "LeakyRelu":
            h = np.where(h > 0, h, 0.2 * h)  # TF's default alpha: the export leaves the attr out
        elif ops.get(layer + "/Elu") == "Elu":
            h = np.where(h > 0, h, np.expm1(h))
        elif ops.get(layer + "/Softplus") == "Softplus":
            h = np.logaddexp(0.0, h)
        elif ops.get(layer + "/Gelu/mul_2") == "Mul":
            import math
            h = 0.5 * h * (1 + np.vectorize(math.erf)(h / math.sqrt(2.0)))
        elif ops.get(layer + "/Softmax") == "Softmax":
            e = np.exp(h - h.max(axis=1, keepdims=True))
            h = e / e.sum(axis=1, keepdims=True)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return {"logits": h, "softmax": e / e.sum(axis=1, keepdims=True)}


def ref_outputs(ref, sig):
    """The exact values of a signature's float outputs, by alias."""
    import numpy as np
    out = {}
    if ref is None:  # no reference pass (an image model): every output must agree to TOL
        return out
    for alias, info in sig.outputs.items():
        name = info.name.split(":")[0]
        if name == "probabilities":
            out[alias] = ref["softmax"]
        elif name.startswith("TopKV2"):
            k = int(info.tensor_shape.dim[1].size)
            out[alias] = -np.sort(-ref["softmax"], axis=1)[:, :k]
        elif name.endswith("/BiasAdd"):
            out[alias] = ref["logits"]
    return out


def tf_accuracy(sig_method, outs, labels, class_names):
    import numpy as np
    if sig_method.endswith("/classify"):
        scores = np.asarray(outs["scores"])
        classes = np.asarray(outs["classes"])
        top = classes[np.arange(len(labels)), np.argmax(scores, axis=1)]
        names = np.array([n.encode() for n in class_names], dtype=object)
        return int(np.sum(top == names[labels])) / len(labels)
    key = next(k for k in ("scores", "probabilities", "logits", "outputs") if k in outs) if any(
        k in outs for k in ("scores", "probabilities", "logits", "outputs")) else sorted(outs)[0]
    return int(np.sum(np.argmax(np.asarray(outs[key]), axis=1) == labels)) / len(labels)


class Tester:
    def __init__(self, args, name, spec):
        self.args, self.name, self.spec = args, name, spec
        self.c = tfcommon.Checks(f"tf exports: {name}")
        self.tf = tfcommon.import_tensorflow()
        import numpy as np
        self.np = np
        self.data_dir = os.path.join(args.source_dir, spec["data"]) if "data" in spec else tfcommon.FASHION
        self.test_count = spec.get("test_count")
        self.x, self.labels = tfcommon.fashion_set("t10k", self.data_dir)
        if self.test_count:
            self.x, self.labels = self.x[:self.test_count], self.labels[:self.test_count]
        self.tmp = tfcommon.mkdtemp(name)
        self.feature = spec.get("feature", "x")
        self.class_names = spec.get("class_names", SEED_NAMES)
        self.examples = None
        self.max_diff = {"tf1": [0.0], "tf2": [0.0], "cli": [0.0]}
        self.acc = {}
        self.cli_runs = 0

    def train(self):
        export = os.path.join(self.tmp, "export")
        runs = []
        for i, overrides in enumerate(self.spec["runs"]):
            run_dir = os.path.join(self.tmp, f"run{i}")
            config = os.path.join(self.args.source_dir, self.spec.get("config", "configs/fashion_mnist.yaml"))
            overrides = [o.replace("{source}", self.args.source_dir) for o in overrides]
            cmd = [self.args.binary, "run", config,
                   "train.epochs=1", "train.threads=1", "train.checkpoint_every=1",
                   "dataset.train.count=20000", "dataset.validation.count=2000",
                   f"export.path={export}", "--run-dir", run_dir] + overrides
            tfcommon.must_run(cmd, cwd=self.tmp)
            with open(os.path.join(run_dir, "summary.json")) as f:
                summary = json.load(f)
            runs.append((run_dir, summary))
        return export, runs

    def run_tf1(self, vdir, summary):
        tf, np, c = self.tf, self.np, self.c
        ours_all = {}
        with tf.Graph().as_default() as g, tf.compat.v1.Session(graph=g, config=tf.compat.v1.ConfigProto(
                intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)) as sess:
            mg = tf.compat.v1.saved_model.loader.load(sess, ["serve"], vdir)
            final = tfcommon.read_run_checkpoint(os.path.join(summary["run_dir"], "checkpoint", "checkpoint.bin"))
            self.ref = reference(mg.graph_def, final, self.x)
            self.sigs = dict(mg.signature_def)
            c.check(len(mg.signature_def) > 0, f"{vdir}: TF sees no signatures")
            for name, sig in sorted(mg.signature_def.items()):
                (in_alias, in_info), = sig.inputs.items()
                if in_info.dtype == tf.string.as_datatype_enum:
                    if self.examples is None:
                        self.examples = tfcommon.serialized_examples(tf, self.x, self.feature)
                    feed = {in_info.name: self.examples}
                else:
                    feed = {in_info.name: self.x}
                outs = sess.run({a: t.name for a, t in sig.outputs.items()}, feed_dict=feed)
                ours = tfcommon.pipeline_predict(self.args, vdir, name, self.feature, self.tmp, limit=self.test_count,
                                                 directory=self.data_dir)
                ours_all[name] = ours
                compare(c, f"{os.path.basename(vdir)} TF1 {name}", outs, ours["outputs"], self.max_diff["tf1"],
                        ref_outputs(self.ref, sig))
                acc = tf_accuracy(sig.method_name, outs, self.labels, self.class_names)
                self.acc[f"v{os.path.basename(vdir)} {name} (TF1)"] = acc
                c.check(acc == summary["test_accuracy"],
                        f"{name}: TF1 accuracy {acc} != the run's test_accuracy {summary['test_accuracy']}")
                c.check(ours["accuracy"] == summary["test_accuracy"],
                        f"{name}: pipeline predict accuracy {ours['accuracy']} != test_accuracy {summary['test_accuracy']}")
            self.check_weights(sess, g, vdir, summary)
            self.check_warmup(sess, mg, vdir)
        if "keras" in self.spec:
            self.check_keras(final, ours_all)
        return ours_all

    def check_keras(self, final, ours_all):
        """The same model built in Keras (its own activations) from the run's final
        weights: its logits, through softmax, equal every signature's
        probabilities output of ours to TOL -- what the activations mean, checked
        apart from our graph (which TF and we both run)."""
        tf, np, c = self.tf, self.np, self.c
        model = self.spec["keras"](tf)
        weights = [final[k] for k in sorted(final, key=lambda k: (int(k.split("/")[0].rsplit("_", 1)[1]), k != k.split("/")[0] + "/kernel"))]
        model.set_weights(weights)
        probs = tf.nn.softmax(model(self.x.astype(np.float32))).numpy()
        checked = 0
        for name, sig in sorted(self.sigs.items()):
            for alias, info in sig.outputs.items():
                if info.name.split(":")[0] != "probabilities" or alias not in ours_all[name]["outputs"]:
                    continue
                o = ours_all[name]["outputs"][alias]
                mine = tfcommon.as_numpy(o["values"], o["dtype"])
                diff = float(np.abs(mine - probs[:mine.shape[0]]).max())
                print(f"  Keras' {self.name} vs ours, {name} {alias}: max abs diff {diff:.3g}")
                c.check(diff <= TOL, f"{name} {alias}: ours differ from Keras' own model by {diff}")
                checked += 1
        c.check(checked > 0, "no probabilities output compared with Keras")

    def check_weights(self, sess, g, vdir, summary):
        """Item 5: the checkpoint TF reads vs the run's own final training checkpoint."""
        tf, np, c = self.tf, self.np, self.c
        final = folded_batch_norm(tfcommon.read_run_checkpoint(
            os.path.join(summary["run_dir"], "checkpoint", "checkpoint.bin")), self.spec.get("epsilons", {}))
        index = os.path.join(vdir, "variables", "variables.index")
        frozen = "export.variables=frozen" in sum(self.spec["runs"], [])
        if frozen:
            c.check(not os.path.exists(index), f"{vdir}: a frozen export has {index}")
        else:
            reader = tf.train.load_checkpoint(os.path.join(vdir, "variables", "variables"))
            shapes = reader.get_variable_to_shape_map()
            dtypes = reader.get_variable_to_dtype_map()
            c.check(sorted(shapes) == sorted(final),
                    f"{vdir}: checkpoint variables {sorted(shapes)} vs the model's {sorted(final)}")
            for k, v in final.items():
                if k not in shapes:
                    continue
                c.check(dtypes[k] == tf.float32, f"{k}: checkpoint dtype {dtypes[k]}")
                c.check(tuple(shapes[k]) == v.shape, f"{k}: checkpoint shape {shapes[k]} vs {v.shape}")
                c.check(np.array_equal(reader.get_tensor(k), v), f"{k}: checkpoint values differ from the final weights")
        # What the loaded graph computes with (restored variables or frozen constants).
        for k, v in final.items():
            got = sess.run(g.get_tensor_by_name(k + ":0"))
            c.check(got.shape == v.shape and np.array_equal(got, v), f"{k}: the loaded graph's value differs from the final weights")

    def check_warmup(self, sess, mg, vdir):
        """Item 4: every warmup record is a PredictionLog that replays through TF."""
        tf, c = self.tf, self.c
        path = os.path.join(vdir, "assets.extra", "tf_serving_warmup_requests")
        if self.spec.get("warmup"):
            c.check(os.path.exists(path), f"{path} is missing")
        if not os.path.exists(path):
            return
        from tensorflow_serving.apis import prediction_log_pb2
        records = list(tf.compat.v1.io.tf_record_iterator(path))  # works in graph mode, unlike tf.data
        c.check(len(records) == len(mg.signature_def), f"{path}: {len(records)} records for {len(mg.signature_def)} signatures")
        for rec in records:
            log = prediction_log_pb2.PredictionLog.FromString(rec)
            kind = log.WhichOneof("log_type")
            req = getattr(log, kind).request
            name = req.model_spec.signature_name
            if not c.check(name in mg.signature_def, f"warmup record names signature '{name}' the model lacks"):
                continue
            sig = mg.signature_def[name]
            if kind == "predict_log":
                feed = {sig.inputs[a].name: tf.make_ndarray(t) for a, t in req.inputs.items()}
                batch = next(iter(feed.values())).shape[0]
            else:
                exs = [e.SerializeToString() for e in req.input.example_list.examples]
                feed = {sig.inputs["inputs"].name: exs}
                batch = len(exs)
            expect = {"tensorflow/serving/predict": "predict_log", "tensorflow/serving/classify": "classify_log",
                      "tensorflow/serving/regress": "regress_log"}[sig.method_name]
            c.check(kind == expect, f"warmup record for {name} is a {kind}, its method wants {expect}")
            outs = sess.run({a: t.name for a, t in sig.outputs.items()}, feed_dict=feed)
            c.check(all(v.shape[0] == batch for v in outs.values()), f"warmup {name}: output batch != {batch}")
        self.c.note(f"warmup: {len(records)} PredictionLog records replayed")

    def run_tf2(self, vdir, ours_all, summary):
        """Item 2: TF2's loader and its signature functions."""
        tf, c = self.tf, self.c
        loaded = tf.saved_model.load(vdir)
        c.check(sorted(loaded.signatures.keys()) == sorted(ours_all), f"TF2 signatures {sorted(loaded.signatures.keys())}")
        for name, ours in ours_all.items():
            if name not in loaded.signatures:
                continue
            fn = loaded.signatures[name]
            (alias, spec), = fn.structured_input_signature[1].items()
            if spec.dtype == tf.string:
                arg = tf.constant(self.examples)
            else:
                arg = tf.constant(self.x)
            outs = {k: v.numpy() for k, v in fn(**{alias: arg}).items()}
            compare(c, f"{os.path.basename(vdir)} TF2 {name}", outs, ours["outputs"], self.max_diff["tf2"],
                    ref_outputs(self.ref, self.sigs[name]))
            acc = tf_accuracy(ours["method"] if "/" in ours["method"] else "tensorflow/serving/" + ours["method"],
                              outs, self.labels, self.class_names)
            self.acc[f"v{os.path.basename(vdir)} {name} (TF2)"] = acc
            c.check(acc == summary["test_accuracy"], f"{name}: TF2 accuracy {acc} != test_accuracy {summary['test_accuracy']}")

    def run_cli(self, vdir, ours_all):
        """Item 3: saved_model_cli show --all and run, against pipeline inspect/predict."""
        np, c = self.np, self.c
        show = tfcommon.run(["saved_model_cli", "show", "--all", "--dir", vdir])
        c.check(show.returncode == 0, f"saved_model_cli show --all exited {show.returncode}: {show.stderr[-2000:]}")
        inspect = tfcommon.must_run([self.args.binary, "inspect", vdir])
        theirs, mine = tfcommon.parse_show(show.stdout), tfcommon.parse_show(inspect.stdout)
        c.check(len(theirs) > 0 and theirs == mine,
                f"saved_model_cli show vs pipeline inspect signatures:\n  TF:   {theirs}\n  ours: {mine}")
        for name, ours in ours_all.items():
            sig = mine.get(name, {})
            (alias, info), = sig.get("inputs", {"?": {}}).items()
            outdir = os.path.join(self.tmp, f"cli-{os.path.basename(vdir)}-{name}")
            cmd = ["saved_model_cli", "run", "--dir", vdir, "--tag_set", "serve", "--signature_def", name,
                   "--outdir", outdir, "--overwrite"]
            if info.get("dtype") != "DT_STRING":
                continue  # predict signatures are covered by items 1 and 2; --input_examples is for tf.Example inputs
            rows = [{self.feature: [float(v) for v in row]} for row in self.x[:3]]
            cmd += ["--input_examples", f"{alias}={json.dumps(rows)}"]
            r = tfcommon.run(cmd)
            if not c.check(r.returncode == 0, f"saved_model_cli run {name} exited {r.returncode}: {r.stderr[-2000:]}"):
                continue
            three = tfcommon.pipeline_predict(self.args, vdir, name, self.feature, self.tmp, limit=3,
                                              directory=self.data_dir)
            outs = {a: np.load(os.path.join(outdir, a + ".npy"), allow_pickle=True) for a in three["outputs"]}
            ref3 = {a: v[:3] for a, v in ref_outputs(self.ref, self.sigs[name]).items()}
            compare(c, f"saved_model_cli run {name}", outs, three["outputs"], self.max_diff["cli"], ref3)
            self.cli_runs += 1

    def main(self):
        export, runs = self.train()
        versions = sorted(int(d) for d in os.listdir(export) if d.isdigit())
        self.c.check(versions == list(range(1, len(runs) + 1)), f"{export}: versions {versions}, expected 1..{len(runs)}")
        for run_dir, summary in runs:
            vdir = summary["export_dir"]
            self.c.note(f"{vdir}: run test_accuracy {summary['test_accuracy']}")
            ours_all = self.run_tf1(vdir, summary)
            self.run_tf2(vdir, ours_all, summary)
            self.run_cli(vdir, ours_all)
        self.c.note(f"saved_model_cli: show --all matched pipeline inspect; run --input_examples on {self.cli_runs} signature(s)")
        for k, v in self.acc.items():
            self.c.note(f"accuracy {k}: {v}")
        self.c.note("max abs difference TF vs ours: " + ", ".join(f"{k} {v[0]:.3g}" for k, v in self.max_diff.items()))
        if not self.c.failures:
            import shutil
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.c.finish()


if __name__ == "__main__":
    args = tfcommon.parse_args(lambda p: p.add_argument("--config", required=True, choices=sorted(CONFIGS)))
    Tester(args, args.config, CONFIGS[args.config]).main()
