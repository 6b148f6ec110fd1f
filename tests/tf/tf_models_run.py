"""TensorFlow's exports, run by us (issue 12): TF 2.21 writes a model, we run it.

--model picks one of:
  tutorial  TF Serving's MNIST tutorial graph, built with tf.compat.v1 as
            mnist_saved_model.py builds it: a string placeholder tf_example,
            parse_example of FixedLenFeature x [784] float, identity x_p,
            784-256-256-10 ReLU with ref variables (use_resource=False) drawn
            from random_normal, softmax, top_k 10, an index-to-string table,
            legacy_init_op = tf.group(tf.tables_initializer()), SavedModelBuilder
            with predict_images and the classify serving_default; 2 epochs of
            GradientDescent at 0.01, batch 100.
  keras     the same MLP as a Keras model (model.fit, SGD 0.01, batch 100,
            2 epochs) exported with model.export(): TF2's resource variables,
            StatefulPartitionedCall into a function library,
            __saved_model_init_op and an object-graph checkpoint.
  keras_save  the same Keras model written by tf.saved_model.save instead. Its
            restore op writes copies of the variables (Variable_N) while the
            signatures read the originals, so TF's v1 loader -- the one TF
            Serving's C++ mirrors -- fails on it ("Could not find variable").
            The check: ours refuses it too, naming the same variable, while
            TF2's object-graph tf.saved_model.load (not TF Serving's path) runs it.
  regress   a one-output regression model (tf.compat.v1, 784-64-1, the label
            as the target, mean squared error), with a regress signature over
            serialized tf.Examples and a predict signature.
  keras_cnn a Keras CNN over the same 784-float rows (keras_layers: Reshape,
            Conv2D same and valid with strides, BatchNormalization, MaxPooling2D,
            AveragePooling2D, Dropout, Flatten, Dense; relu, elu, gelu, tanh,
            softmax), Adam, 1 epoch on CNN_TRAIN examples, model.export().
            Keras emits batch norm as Rsqrt/Mul/Sub/AddV2, gelu as Erfc, and
            Reshape/Flatten's shapes as Shape + StridedSlice + Pack.
  keras_cnn_save  the same CNN by tf.saved_model.save: as keras_save, TF's v1
            loader and ours refuse it on the same unrestored variable.
  tf1_cnn   a tf.compat.v1 conv graph on the tutorial's input and classify
            head (v1_cnn_model): FusedBatchNormV3 at inference, LeakyRelu,
            Selu, Softplus, Erf, MaxPool SAME, AvgPool VALID, Reshape with -1.
  keras_activations  a Keras MLP of Dense layers with leaky_relu, elu, gelu,
            softplus and softmax (keras_layers "activations"), trained and
            compared as keras_cnn is (its MatMul graph runs in our reader's
            function library path).
            Each of these models' SavedModel must contain the ops MODELS lists.

Each is trained on Fashion-MNIST's training set (the conv models on its first
CNN_TRAIN images and tested on the first CNN_TEST test images), then every signature runs on
the whole test set through TF and through `pipeline predict`: numbers agree to
1e-5 absolute, class strings are identical, and `pipeline inspect` lists the
signatures, dtypes, shapes and tensor names `saved_model_cli show --all` does.

The tutorial's N(0,1) weights give logits near 1e3, so float32 rounding in a
different summation order moves a softmax near a tie by more than 1e-5 (as in
exports_loaded.py). Such an element passes only if ours is no further from an
exact float64 forward pass of the same weights than 1e-5 plus twice TF's own
largest distance from it; the count is reported. The conv models (glorot
weights) must agree to 1e-5 outright.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfcommon  # noqa: E402

TOL = 1e-5
EPOCHS, BATCH, LR = 2, 100, 0.01
CNN_TRAIN = 6000  # the conv models train 1 epoch on this many examples: seconds
CNN_TEST = 2000   # and are compared on this many test images


def float64_forward(weights, x, softmax):
    """Exact forward pass of an MLP [(kernel, bias), ...] with ReLU between layers."""
    import numpy as np
    h = x.astype(np.float64)
    for i, (w, b) in enumerate(weights):
        h = h @ w.astype(np.float64) + b.astype(np.float64)
        if i < len(weights) - 1:
            h = np.maximum(h, 0)
    if not softmax:
        return h
    e = np.exp(h - h.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def v1_example_input(tf):
    """The tutorial's input: a string placeholder tf_example, parse_example of
    FixedLenFeature x [784] float, identity x_p. Returns (serialized, x)."""
    serialized = tf.compat.v1.placeholder(tf.string, name="tf_example")
    parsed = tf.io.parse_example(serialized, {"x": tf.io.FixedLenFeature(shape=[784], dtype=tf.float32)})
    return serialized, tf.identity(parsed["x"], name="x_p")


def v1_classify_head(tf, logits):
    """softmax y, then top_k 10 and an index-to-string table: (y, values, classes)."""
    y = tf.nn.softmax(logits, name="y")
    values, indices = tf.nn.top_k(y, 10)
    table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
        tf.constant(list(range(10)), dtype=tf.int64), tf.constant([str(i) for i in range(10)])), "UNK")
    return y, values, table.lookup(tf.cast(indices, tf.int64))


def v1_train(sess, train_step, feeds, x_train, target, epochs):
    """Minibatch steps of BATCH shuffled examples; feeds = (x tensor, label tensor)."""
    import numpy as np
    rng = np.random.default_rng(1)
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        for s in range(0, len(order), BATCH):
            idx = order[s:s + BATCH]
            sess.run(train_step, {feeds[0]: x_train[idx], feeds[1]: target[idx]})


def v1_save(tf, sess, export_dir, serialized, x, y, head, regression):
    """SavedModelBuilder with predict_images and the classify (or regress)
    serving_default, legacy_init_op = the tables' initializer; returns
    {signature: run(x) -> outputs} through the session that trained it."""
    sig = tf.compat.v1.saved_model.signature_def_utils
    signatures = {"predict_images": sig.predict_signature_def(inputs={"images": x}, outputs={"scores": y})}
    if regression:
        signatures["serving_default"] = sig.regression_signature_def(serialized, y)
    else:
        signatures["serving_default"] = sig.classification_signature_def(serialized, head[1], head[0])
    builder = tf.compat.v1.saved_model.Builder(export_dir)
    builder.add_meta_graph_and_variables(
        sess, [tf.compat.v1.saved_model.tag_constants.SERVING], signature_def_map=signatures,
        main_op=tf.group(tf.compat.v1.tables_initializer(), name="legacy_init_op"), strip_default_attrs=True)
    builder.save()

    def run_predict(xs):
        return {"scores": sess.run(y, {x: xs})}

    def run_examples(xs):
        ser = tfcommon.serialized_examples(tf, xs, "x")
        if regression:
            return {"outputs": sess.run(y, {serialized: ser})}
        c, v = sess.run([head[1], head[0]], {serialized: ser})
        return {"classes": c, "scores": v}
    return {"predict_images": run_predict, "serving_default": run_examples}


def v1_model(tf, x_train, y_train, export_dir, regression):
    """The tutorial's TF1 graph (classification) or the regression variant; returns
    ({signature: run(x) -> outputs}, the trained [(kernel, bias), ...])."""
    import numpy as np
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.set_random_seed(1)
        serialized, x = v1_example_input(tf)
        y_ = tf.compat.v1.placeholder(tf.float32 if regression else tf.int64, shape=[None])
        sizes = [784, 64, 1] if regression else [784, 256, 256, 10]
        h = x
        params = []
        for i in range(len(sizes) - 1):
            w = tf.compat.v1.get_variable(f"W{i}", initializer=tf.random.normal([sizes[i], sizes[i + 1]],
                                          stddev=0.05 if regression else 1.0), use_resource=False)
            b = tf.compat.v1.get_variable(f"b{i}", initializer=tf.zeros([sizes[i + 1]]), use_resource=False)
            params.append((w, b))
            h = tf.matmul(h, w) + b
            if i < len(sizes) - 2:
                h = tf.nn.relu(h)
        head = None
        if regression:
            y = tf.identity(h, name="y")
            loss = tf.reduce_mean(tf.square(tf.squeeze(y, 1) - y_))
        else:
            y, values, classes = v1_classify_head(tf, h)
            head = (values, classes)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y_, logits=h))
        train_step = tf.compat.v1.train.GradientDescentOptimizer(LR).minimize(loss)
        sess = tf.compat.v1.Session(graph=g)
        sess.run(tf.compat.v1.global_variables_initializer())
        sess.run(tf.compat.v1.tables_initializer())
        v1_train(sess, train_step, (x, y_), x_train, y_train.astype(np.float32) if regression else y_train, EPOCHS)
        return v1_save(tf, sess, export_dir, serialized, x, y, head, regression), sess.run(params)


def v1_cnn_model(tf, x_train, y_train, export_dir):
    """A TF1 conv graph on the tutorial's input and classify head: Reshape to
    [-1, 28, 28, 1]; Conv2D 5x5 SAME + BiasAdd + LeakyRelu (alpha 0.1);
    batch norm as FusedBatchNormV3 (is_training true with batch statistics
    and moving averages in training, false with the moving statistics in the
    exported tower); MaxPool 3x3 stride 2 SAME; Conv2D 3x3 stride 2 VALID +
    Selu; AvgPool 2x2 VALID; a 1x1 Conv2D + Softplus; Reshape [-1, 144];
    dense + the textbook gelu 0.5 x (1 + erf(x / sqrt 2)); dropout in training;
    dense logits. Resource variables (TF2's default), Adam, 1 epoch on
    CNN_TRAIN examples. Returns {signature: run(x) -> outputs}."""
    import numpy as np
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.set_random_seed(1)
        serialized, x = v1_example_input(tf)
        y_ = tf.compat.v1.placeholder(tf.int64, shape=[None])
        glorot = tf.compat.v1.glorot_uniform_initializer(seed=1)

        def var(name, shape, init=glorot, trainable=True):
            return tf.compat.v1.get_variable(name, shape, initializer=init, trainable=trainable)
        zeros, ones = tf.compat.v1.zeros_initializer(), tf.compat.v1.ones_initializer()
        w1, b1 = var("conv1/kernel", [5, 5, 1, 8]), var("conv1/bias", [8], zeros)
        gamma, beta = var("bn/gamma", [8], ones), var("bn/beta", [8], zeros)
        moving_mean = var("bn/moving_mean", [8], zeros, trainable=False)
        moving_var = var("bn/moving_variance", [8], ones, trainable=False)
        w2, b2 = var("conv2/kernel", [3, 3, 8, 16]), var("conv2/bias", [16], zeros)
        w3, b3 = var("conv3/kernel", [1, 1, 16, 16]), var("conv3/bias", [16], zeros)
        w4, b4 = var("dense1/kernel", [144, 32]), var("dense1/bias", [32], zeros)
        w5, b5 = var("dense2/kernel", [32, 10]), var("dense2/bias", [10], zeros)

        def net(x, training):
            h = tf.reshape(x, [-1, 28, 28, 1])
            h = tf.nn.leaky_relu(tf.nn.bias_add(tf.nn.conv2d(h, w1, 1, "SAME"), b1), alpha=0.1)
            updates = []
            if training:
                h, mean, variance = tf.compat.v1.nn.fused_batch_norm(h, gamma, beta, epsilon=1e-3, is_training=True)
                updates = [moving_mean.assign(0.9 * moving_mean + 0.1 * mean),
                           moving_var.assign(0.9 * moving_var + 0.1 * variance)]
            else:
                h, _, _ = tf.compat.v1.nn.fused_batch_norm(h, gamma, beta, mean=moving_mean, variance=moving_var,
                                                           epsilon=1e-3, is_training=False)
            h = tf.nn.max_pool2d(h, 3, 2, "SAME")                                   # [14, 14, 8]
            h = tf.nn.selu(tf.nn.bias_add(tf.nn.conv2d(h, w2, 2, "VALID"), b2))      # [6, 6, 16]
            h = tf.nn.avg_pool2d(h, 2, 2, "VALID")                                  # [3, 3, 16]
            h = tf.nn.softplus(tf.nn.bias_add(tf.nn.conv2d(h, w3, 1, "VALID"), b3))
            h = tf.reshape(h, [-1, 144])
            h = tf.matmul(h, w4) + b4
            h = 0.5 * h * (1.0 + tf.math.erf(h / np.sqrt(2.0).astype(np.float32)))
            if training:
                h = tf.nn.dropout(h, rate=0.2, seed=1)
            return tf.matmul(h, w5) + b5, updates

        train_logits, updates = net(x, True)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y_, logits=train_logits))
        with tf.control_dependencies(updates):
            train_step = tf.compat.v1.train.AdamOptimizer(0.003).minimize(loss)
        logits, _ = net(x, False)  # the exported tower: the same variables, batch norm's moving statistics
        y, values, classes = v1_classify_head(tf, logits)
        sess = tf.compat.v1.Session(graph=g)
        sess.run(tf.compat.v1.global_variables_initializer())
        sess.run(tf.compat.v1.tables_initializer())
        v1_train(sess, train_step, (x, y_), x_train[:CNN_TRAIN], y_train[:CNN_TRAIN], 1)
        return v1_save(tf, sess, export_dir, serialized, x, y, (values, classes), False)


def keras_layers(tf, kind):
    """The tutorial MLP ("mlp"); an MLP with issue 14's activations ("activations":
    Dense leaky_relu, elu, gelu, softplus, softmax, then Dense softmax: Keras'
    LeakyRelu, Elu, Erfc, Softplus, Softmax, the dense graph our compiled path
    takes); or a CNN over the same 784-float rows ("cnn"): Reshape; Conv2D
    3x3 same relu; BatchNormalization; MaxPooling2D; Conv2D 3x3 strides 2
    valid elu; AveragePooling2D same; Conv2D 1x1 gelu; Flatten; Dropout;
    Dense tanh; Dense softmax."""
    L = tf.keras.layers
    if kind == "mlp":
        return [L.Dense(256, activation="relu"), L.Dense(256, activation="relu"), L.Dense(10, activation="softmax")]
    if kind == "activations":
        return [L.Dense(32, activation=a) for a in ("leaky_relu", "elu", "gelu", "softplus", "softmax")] + \
            [L.Dense(10, activation="softmax")]
    return [L.Reshape((28, 28, 1)), L.Conv2D(8, 3, padding="same", activation="relu"), L.BatchNormalization(),
            L.MaxPooling2D(2), L.Conv2D(16, 3, strides=2, padding="valid", activation="elu"),
            L.AveragePooling2D(2, padding="same"), L.Conv2D(16, 1, activation="gelu"), L.Flatten(),
            L.Dropout(0.25), L.Dense(32, activation="tanh"), L.Dense(10, activation="softmax")]


def keras_model(tf, x_train, y_train, export_dir, how, kind="mlp"):
    """Returns ({signature: run(x) -> outputs} through TF2's loader of the
    written model, the tutorial MLP's [(kernel, bias), ...] or None for the others)."""
    tf.keras.utils.set_random_seed(1)
    model = tf.keras.Sequential([tf.keras.Input(shape=(784,), name="images")] + keras_layers(tf, kind))
    if kind != "mlp":
        model.compile(optimizer=tf.keras.optimizers.Adam(0.003), loss="sparse_categorical_crossentropy")
        model.fit(x_train[:CNN_TRAIN], y_train[:CNN_TRAIN], batch_size=BATCH, epochs=1, verbose=0)
        params = None
    else:
        model.compile(optimizer=tf.keras.optimizers.SGD(LR), loss="sparse_categorical_crossentropy")
        model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS, verbose=0)
        params = [(layer.kernel.numpy(), layer.bias.numpy()) for layer in model.layers]
    if how == "export":
        model.export(export_dir, verbose=False)
    else:
        tf.saved_model.save(model, export_dir)
    # The TF side of the comparison is the exported file itself, loaded back by TF.
    loaded = tf.saved_model.load(export_dir)
    runs = {}
    for name, fn in loaded.signatures.items():
        (arg,) = fn.structured_input_signature[1].keys()
        runs[name] = (lambda f, a: lambda xs: {k: v.numpy() for k, v in f(**{a: tf.constant(xs)}).items()})(fn, arg)
    return runs, params


# --model -> the ops its SavedModel must contain (graph and function library):
# what the conv models are here to exercise in our reader.
MODELS = {
    "tutorial": [], "keras": [], "keras_save": [], "regress": [],
    "keras_cnn": ["Conv2D", "BiasAdd", "Relu", "Rsqrt", "MaxPool", "Elu", "AvgPool", "Erfc", "Shape", "StridedSlice",
                  "Pack", "Reshape", "Squeeze", "Tanh", "Softmax"],
    "keras_cnn_save": ["Conv2D", "Rsqrt", "MaxPool", "AvgPool", "Elu", "Erfc"],
    "keras_activations": ["MatMul", "LeakyRelu", "Elu", "Erfc", "Softplus", "Softmax"],
    "tf1_cnn": ["Conv2D", "LeakyRelu", "FusedBatchNormV3", "MaxPool", "Selu", "AvgPool", "Softplus", "Erf", "Reshape"],
}


def saved_model_ops(vdir):
    """Every op in the SavedModel's graph and its function library."""
    from tensorflow.core.protobuf import saved_model_pb2
    sm = saved_model_pb2.SavedModel()
    with open(os.path.join(vdir, "saved_model.pb"), "rb") as f:
        sm.ParseFromString(f.read())
    g = sm.meta_graphs[0].graph_def
    return {n.op for n in g.node} | {n.op for f in g.library.function for n in f.node_def}


def main():
    args = tfcommon.parse_args(lambda p: p.add_argument("--model", required=True,
                                                        choices=sorted(MODELS)))
    c = tfcommon.Checks(f"tf models run by us: {args.model}")
    tf = tfcommon.import_tensorflow()
    import numpy as np
    tmp = tfcommon.mkdtemp(args.model)

    def body():
        x_train, y_train = tfcommon.fashion_set("train")
        x_test, labels = tfcommon.fashion_test_set()
        limit = None
        if MODELS[args.model]:  # the conv models: the reader's cost is per image, so the first CNN_TEST
            limit = CNN_TEST
            x_test, labels = x_test[:limit], labels[:limit]
        vdir = os.path.join(tmp, "model", "1")
        if args.model in ("tutorial", "regress"):
            runs, params = v1_model(tf, x_train, y_train, vdir, regression=args.model == "regress")
        elif args.model == "tf1_cnn":
            runs, params = v1_cnn_model(tf, x_train, y_train, vdir), None
        else:
            kind = "cnn" if args.model.startswith("keras_cnn") else "activations" if args.model == "keras_activations" \
                else "mlp"
            runs, params = keras_model(tf, x_train, y_train, vdir, "save" if args.model.endswith("_save") else "export",
                                       kind)
        # The MLPs' exact float64 forward pass (see the docstring); the conv models
        # (glorot weights, no ill-conditioning) must agree to TOL outright.
        exact = float64_forward(params, x_test, softmax=args.model != "regress") if params is not None else None
        c.note(f"TF wrote {vdir}: signatures {sorted(runs)}")
        ops = saved_model_ops(vdir)
        missing = sorted(set(MODELS[args.model]) - ops)
        c.check(not missing, f"the model TF wrote lacks the ops this test is for: {missing} (it has {sorted(ops)})")
        if args.model.endswith("_save"):
            v1_failure(vdir, runs, x_test[:1])
            return

        # pipeline inspect lists what saved_model_cli show --all lists.
        show = tfcommon.must_run(["saved_model_cli", "show", "--dir", vdir, "--all"])
        inspect = tfcommon.must_run([args.binary, "inspect", vdir])
        theirs, mine = tfcommon.parse_show(show.stdout), tfcommon.parse_show(inspect.stdout)
        c.check(theirs == mine, f"saved_model_cli show vs pipeline inspect:\n  TF:   {theirs}\n  ours: {mine}")
        c.check(set(runs) <= set(mine), f"inspect lists {sorted(mine)}, TF runs {sorted(runs)}")

        for name, run in sorted(runs.items()):
            tf_out = {}
            for s in range(0, len(x_test), 1000):
                for k, v in run(x_test[s:s + 1000]).items():
                    tf_out.setdefault(k, []).append(v)
            tf_out = {k: np.concatenate(v) for k, v in tf_out.items()}
            ours = tfcommon.pipeline_predict(args, vdir, name, "x", tmp, limit=limit)
            if not c.check(sorted(tf_out) == sorted(ours["outputs"]),
                           f"{name}: outputs TF {sorted(tf_out)} vs ours {sorted(ours['outputs'])}"):
                continue
            for alias, t in tf_out.items():
                o = ours["outputs"][alias]
                t2 = t.reshape(t.shape[0], -1)
                if o["dtype"] in ("DT_STRING", "string"):
                    theirs_s = [[s.decode() for s in row] for row in t2]
                    ties, rest = [], [i for i, (a, b) in enumerate(zip(theirs_s, o["values"])) if a != b]
                    # Classes at near-tied scores may come in either order (tfcommon.split_class_mismatches).
                    if rest and "scores" in tf_out:
                        so = ours["outputs"]["scores"]
                        ties, rest = tfcommon.split_class_mismatches(theirs_s, o["values"], tf_out["scores"],
                                                                     tfcommon.as_numpy(so["values"], so["dtype"]))
                    example = f", e.g. row {rest[0]}: TF {theirs_s[rest[0]]} vs ours {o['values'][rest[0]]}" if rest else ""
                    c.check(not rest and len(theirs_s) == len(o["values"]),
                            f"{name} {alias}: class strings differ in {len(rest)} of {len(theirs_s)} rows{example}")
                    c.note(f"{name} {alias}: {len(theirs_s) - len(ties)} rows of class strings identical, "
                           f"{len(ties)} order classes with tied scores differently")
                else:
                    mine_v = tfcommon.as_numpy(o["values"], o["dtype"])
                    if not c.check(mine_v.shape == t2.shape, f"{name} {alias}: shape TF {t2.shape} vs ours {mine_v.shape}"):
                        continue
                    diff = np.abs(mine_v - t2.astype(np.float64))
                    d = float(diff.max())
                    over = diff > TOL
                    extra = ""
                    if exact is None:
                        c.check(not over.any(), f"{name} {alias}: {int(over.sum())} elements differ from TF by more "
                                f"than {TOL} (max {d:.3g})")
                    else:
                        # classify's scores are the sorted top 10 of the softmax.
                        ref = -np.sort(-exact, axis=1) if "classes" in tf_out else exact.reshape(t2.shape)
                        tf_err = float(np.abs(t2 - ref).max())
                        our_err = np.abs(mine_v - ref)
                        c.check(bool((our_err[over] <= TOL + 2 * tf_err).all()),
                                f"{name} {alias}: {int(over.sum())} elements differ from TF by more than {TOL} (max "
                                f"{d:.3g}) and ours is {float(our_err.max()):.3g} from exact float64 arithmetic, TF {tf_err:.3g}")
                        if over.any():
                            extra = (f"; {int(over.sum())} of {over.size} elements beyond {TOL}: vs exact float64 "
                                     f"ours {float(our_err.max()):.3g}, TF {tf_err:.3g}")
                    if "classes" not in tf_out and t2.shape[1] == 10:
                        tf_acc = float((t2.argmax(1) == labels).mean())
                        extra += f"; accuracy TF {tf_acc:.4f}, ours {ours['accuracy']:.4f}"
                        c.check(ours["accuracy"] == tf_acc, f"{name}: accuracy ours {ours['accuracy']} vs TF {tf_acc}")
                    c.note(f"{name} {alias}: {t2.shape}, max abs difference TF vs ours {d:.3g}{extra}")
            if "classes" in tf_out:
                tf_acc = float((np.array([int(r[0]) for r in tf_out["classes"]]) == labels).mean())
                c.check(ours["accuracy"] == tf_acc, f"{name}: top class accuracy ours {ours['accuracy']} vs TF {tf_acc}")
                c.note(f"{name}: top-class accuracy TF {tf_acc:.4f}, ours {ours['accuracy']:.4f}")

    def v1_failure(vdir, runs, one_image):
        g = tf.Graph()
        with g.as_default(), tf.compat.v1.Session(graph=g) as sess:
            mg = tf.compat.v1.saved_model.loader.load(sess, ["serve"], vdir)
            sig = mg.signature_def["serving_default"]
            try:
                sess.run(list(sig.outputs.values())[0].name, {list(sig.inputs.values())[0].name: one_image})
                tf_error = None
            except tf.errors.FailedPreconditionError as e:
                tf_error = str(e)
        c.check(tf_error is not None and "Could not find variable" in tf_error,
                f"TF's v1 loader was expected to fail on a tf.saved_model.save'd Keras 3 model: {tf_error}")
        # The unrestored variables: every resource variable the restore function does not take.
        from tensorflow.core.protobuf import saved_model_pb2
        sm = saved_model_pb2.SavedModel()
        with open(os.path.join(vdir, "saved_model.pb"), "rb") as f:
            sm.ParseFromString(f.read())
        nodes = {n.name: n for n in sm.meta_graphs[0].graph_def.node}
        restore = nodes[sm.meta_graphs[0].saver_def.restore_op_name]
        unrestored = {n.attr["shared_name"].s.decode() for n in nodes.values() if n.op == "VarHandleOp"} - \
            {nodes[i].attr["shared_name"].s.decode() for i in restore.input if i in nodes and nodes[i].op == "VarHandleOp"}
        variable = tf_error.split("Could not find variable ")[1].split(". ")[0] if tf_error else "?"
        c.check(variable in unrestored, f"TF names {variable}, not one of the unrestored {sorted(unrestored)}")
        r = tfcommon.run([args.binary, "predict", vdir, "--signature", "serving_default", "--limit", "1",
                          "--idx-images", os.path.join(tfcommon.FASHION, "t10k-images-idx3-ubyte.gz")])
        ours = r.stderr.split("reading resource variable ")[-1].split(":")[0]
        c.check(r.returncode == 1 and ours in unrestored and "the variable is uninitialized" in r.stderr
                and "model.export()" in r.stderr, f"pipeline predict exited {r.returncode}: {r.stderr}")
        c.note(f"{len(unrestored)} variables are not restored; TF's v1 loader: Could not find variable {variable}; "
               f"ours: exit {r.returncode}, reading resource variable {ours}: the variable is uninitialized")
        out = runs["serving_default"](one_image)
        c.check(all(v.shape[0] == 1 for v in out.values()), "TF2's tf.saved_model.load runs it")

    tfcommon.run_checks(c, tmp, body)


if __name__ == "__main__":
    main()
