"""`pipeline serve`'s REST API against TF Serving's contract (issue 13), with
plain HTTP clients (urllib, raw sockets) and real TensorFlow as the judge.

--part ours: our export of configs/fashion_mnist.yaml (784-256-256-10, He
  initialization so float32 rounding stays far below 1e-5), served as model
  `fashion`: every route (status by name, version and label; metadata; predict
  in row and columnar form, b64 strings; classify) on the whole test set, the
  answers equal to TF 2.21's own outputs and to `pipeline predict` to 1e-5 and
  the accuracy equal to the run's test_accuracy; then every error case with
  TF Serving's status and text, each followed by a good request.
--part tf_models: models TensorFlow wrote (the tutorial's TF1 classify graph,
  a regression model and the TF1 conv graph, tests/tf/tf_models_run.py) plus TF Serving's
  half_plus_two golden, served together from a --model_config_file with
  version labels: predict, classify and regress equal TF's outputs.
--part batching: a small export of the same config served with
  --enable_batching and a --batching_parameters_file: 200 1-row predicts from
  8 threads at once equal the unbatched server's answers and TF's to 1e-5
  (not bit for bit: oneDNN's matmul for one row sums in another order than
  for eight), fewer merged runs than requests, and a request larger than
  max_batch_size refused with TF Serving's text.
"""
import base64
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servecommon  # noqa: E402
import tfcommon  # noqa: E402

TOL = 1e-5
BATCH = 100


def he_layers(hidden=(256, 256)):
    """The model.layers override: ReLU layers of `hidden` units, then 10 logits, all He-initialized."""
    ki = "kernel_initializer: {type: he_normal}, bias_initializer: {type: zeros}"
    layers = [f"{{units: {u}, activation: relu, {ki}}}" for u in hidden] + [f"{{units: 10, {ki}}}"]
    return f"model.layers=[{', '.join(layers)}]"


def train_he_fashion(args, tmp, train_count, validation_count, *extra):
    """One epoch of configs/fashion_mnist.yaml with He initialization (float32 rounding far below 1e-5) on
    `train_count` images, exported under tmp/models/fashion; returns (base path, the run's summary.json)."""
    base = os.path.join(tmp, "models", "fashion")
    run_dir = os.path.join(tmp, "run")
    tfcommon.must_run([args.binary, "run", os.path.join(args.source_dir, "configs/fashion_mnist.yaml"),
                       "train.epochs=1", f"dataset.train.count={train_count}",
                       f"dataset.validation.count={validation_count}", he_layers(), *extra,
                       f"export.path={base}", "--run-dir", run_dir], cwd=tmp)
    with open(os.path.join(run_dir, "summary.json")) as f:
        return base, json.load(f)


def max_abs(a, b):
    import numpy as np
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.abs(a - b).max()) if a.size else 0.0


def tf1_outputs(tf, vdir, name, feed_value):
    """{alias: ndarray} of signature `name` run by TF's v1 loader."""
    with tf.Graph().as_default() as g, tf.compat.v1.Session(graph=g) as sess:
        mg = tf.compat.v1.saved_model.loader.load(sess, ["serve"], vdir)
        sig = mg.signature_def[name]
        (alias, info), = sig.inputs.items()
        return sess.run({a: t.name for a, t in sig.outputs.items()}, {info.name: feed_value}), mg


class OursPart:
    def __init__(self, args):
        self.args = args
        self.tf = tfcommon.import_tensorflow()
        import numpy as np
        self.np = np
        self.c = tfcommon.Checks("serve rest: ours")
        self.tmp = tfcommon.mkdtemp("serve-rest")
        self.x, self.labels = tfcommon.fashion_test_set()

    def train(self):
        self.base, self.summary = train_he_fashion(self.args, self.tmp, 20000, 2000, "export.warmup=true")
        self.vdir = self.summary["export_dir"]

    def start(self):
        monitoring = os.path.join(self.tmp, "monitoring.config")
        with open(monitoring, "w") as f:
            f.write("prometheus_config {\n  enable: true\n}\n")
        self.server = servecommon.Server(self.args.binary, ["--model_name=fashion", f"--model_base_path={self.base}",
                                                            f"--monitoring_config_file={monitoring}",
                                                            "--rest_api_enable_cors_support"],
                                         os.path.join(self.tmp, "serve.log"))
        ok = self.c.check(self.server.wait_ready(), "the server did not open its port:\n" + self.server.log_text())
        if ok:
            self.c.note(f"ports open {self.server.ready_seconds:.2f} s after start (after the first load)")
        return ok

    def get(self, path):
        return servecommon.http(self.server, "GET", path)

    def post(self, path, body, **kw):
        return servecommon.http(self.server, "POST", path, body, **kw)

    def check_status_routes(self):
        c = self.c
        want = {"model_version_status": [{"version": "1", "state": "AVAILABLE",
                                          "status": {"error_code": "OK", "error_message": ""}}]}
        for path in ("/v1/models/fashion", "/v1/models/fashion/versions/1", "/V1/MODELS/fashion"):
            st, body, hdrs = self.get(path)
            c.check(st == 200 and body == want, f"GET {path}: {st} {body}")
            c.check(hdrs.get("Content-Type") == "application/json", f"GET {path}: Content-Type {hdrs.get('Content-Type')}")
        st, body, _ = self.get("/v1/models/fashion/metadata")
        ok = c.check(st == 200 and isinstance(body, dict), f"GET metadata: {st} {str(body)[:300]}")
        if ok:
            from google.protobuf import json_format
            _, mg = tf1_outputs(self.tf, self.vdir, "predict_images", self.x[:1])
            def as_dict(m):  # with default values, as TF Serving's printer writes them
                try:
                    return json_format.MessageToDict(m, preserving_proto_field_name=True,
                                                     always_print_fields_with_no_presence=True)
                except TypeError:  # protobuf < 5.26
                    return json_format.MessageToDict(m, preserving_proto_field_name=True,
                                                     including_default_value_fields=True)
            theirs = {k: as_dict(v) for k, v in mg.signature_def.items()}
            ours = body.get("metadata", {}).get("signature_def", {}).get("signature_def")
            c.check(ours == theirs, f"metadata.signature_def.signature_def differs from TF's SignatureDefs:\n"
                                    f"  ours {json.dumps(ours)[:600]}\n  TF   {json.dumps(theirs)[:600]}")
            c.check(body.get("model_spec") == {"name": "fashion", "signature_name": "", "version": "1"},
                    f"metadata model_spec {body.get('model_spec')}")

    def check_predict(self):
        tf, np, c = self.tf, self.np, self.c
        theirs, _ = tf1_outputs(tf, self.vdir, "predict_images", self.x)
        ours = tfcommon.pipeline_predict(self.args, self.vdir, "predict_images", "x", self.tmp)
        mine = tfcommon.as_numpy(ours["outputs"]["outputs"]["values"], "DT_FLOAT")
        served = []
        for s in range(0, len(self.x), BATCH):
            st, body, _ = self.post("/v1/models/fashion:predict",
                                    {"signature_name": "predict_images", "instances": self.x[s:s + BATCH].tolist()})
            if not c.check(st == 200 and "predictions" in body, f"predict batch at {s}: {st} {str(body)[:300]}"):
                return
            served.extend(body["predictions"])
        served = np.asarray(served, dtype=np.float64)
        d_tf, d_cli = max_abs(served, theirs["outputs"]), max_abs(served, mine)
        c.check(d_tf <= TOL, f"served predict vs TF: max abs diff {d_tf:.3g}")
        c.check(d_cli <= TOL, f"served predict vs pipeline predict: max abs diff {d_cli:.3g}")
        acc = float(np.mean(np.argmax(served, 1) == self.labels))
        c.check(acc == self.summary["test_accuracy"], f"served accuracy {acc} != test_accuracy {self.summary['test_accuracy']}")
        c.note(f"predict (rows, 100 per request, 10,000 images): max abs diff vs TF {d_tf:.3g}, "
               f"vs pipeline predict {d_cli:.3g}; accuracy {acc}")
        # Columnar form, batch 1 and a batch, and a version-pinned path.
        st, body, _ = self.post("/v1/models/fashion/versions/1:predict",
                                {"signature_name": "predict_images", "inputs": {"inputs": self.x[:3].tolist()}})
        c.check(st == 200 and max_abs(body.get("outputs"), theirs["outputs"][:3]) <= TOL,
                f"columnar predict: {st} {str(body)[:200]}")
        st, body, _ = self.post("/v1/models/fashion:predict",
                                {"signature_name": "predict_images", "inputs": self.x[:1].tolist()})
        c.check(st == 200 and max_abs(body.get("outputs"), theirs["outputs"][:1]) <= TOL,
                f"columnar predict, unnamed input: {st} {str(body)[:200]}")
        # serving_default through :predict takes serialized examples as b64 strings.
        ser = tfcommon.serialized_examples(tf, self.x[:5], "x")
        st, body, _ = self.post("/v1/models/fashion:predict",
                                {"instances": [{"b64": base64.b64encode(s).decode()} for s in ser]})
        tc, _ = tf1_outputs(tf, self.vdir, "serving_default", ser)
        ok = c.check(st == 200 and isinstance(body.get("predictions"), list) and len(body["predictions"]) == 5,
                     f"predict on the classify signature with b64 examples: {st} {str(body)[:300]}")
        if ok:
            scores = [row["scores"] for row in body["predictions"]]
            classes = [row["classes"] for row in body["predictions"]]
            c.check(max_abs(scores, tc["scores"]) <= TOL, "b64 predict scores differ from TF")
            c.check(classes == [[s.decode() for s in row] for row in tc["classes"]], "b64 predict classes differ from TF")

    def check_classify(self):
        tf, np, c = self.tf, self.np, self.c
        ser = tfcommon.serialized_examples(tf, self.x, "x")
        theirs, _ = tf1_outputs(tf, self.vdir, "serving_default", ser)
        names = [n.decode() for n in theirs["classes"][0]]
        correct, worst, same_labels = 0, 0.0, True
        class_names = sorted(set(names))
        for s in range(0, len(self.x), BATCH):
            examples = [{"x": row} for row in self.x[s:s + BATCH].tolist()]
            st, body, _ = self.post("/v1/models/fashion:classify", {"examples": examples})
            if not c.check(st == 200 and "results" in body, f"classify batch at {s}: {st} {str(body)[:300]}"):
                return
            for i, result in enumerate(body["results"]):
                row = s + i
                labels = [lab for lab, _ in result]
                scores = [sc for _, sc in result]
                same_labels &= labels == [n.decode() for n in theirs["classes"][row]]
                worst = max(worst, max_abs(scores, theirs["scores"][row]))
                best = labels[int(np.argmax(scores))]
                correct += best == SEED_NAMES[self.labels[row]]
        acc = correct / len(self.x)
        c.check(same_labels, "classify labels differ from TF's classes in some row")
        c.check(worst <= TOL, f"classify scores vs TF: max abs diff {worst:.3g}")
        c.check(acc == self.summary["test_accuracy"], f"classify accuracy {acc} != test_accuracy {self.summary['test_accuracy']}")
        c.note(f"classify (100 examples per request, 10,000 images): scores max abs diff vs TF {worst:.3g}; "
               f"labels identical: {same_labels}; accuracy {acc}; {len(class_names)} class names")
        # --monitoring_config_file: exactly the 100 classify requests above, all OK.
        st, text, hdrs = self.get("/monitoring/prometheus/metrics")
        want = ':tensorflow:serving:request_latency_count{model_name="fashion",API="classify",entrypoint="REST"} 100'
        c.check(st == 200 and isinstance(text, str) and want in text.splitlines(),
                f"Prometheus metrics: {st}, no line {want!r} in:\n{str(text)[:1500]}")
        st, _, hdrs = self.get("/v1/models/fashion")
        c.check(hdrs.get("Access-Control-Allow-Origin") == "*", f"--rest_api_enable_cors_support: no CORS header: {hdrs}")

    def expect_error(self, what, status, contains, method="POST", path="/v1/models/fashion:predict", body=None,
                     headers=None):
        st, got, _ = servecommon.http(self.server, method, path, body, headers=headers)
        err = got.get("error", "") if isinstance(got, dict) else ""
        self.c.check(st == status and contains in err, f"{what}: expected {status} with '{contains}', got {st} {str(got)[:300]}")
        self.errors += 1
        # The server keeps serving after each bad request.
        st2, ok, _ = self.get("/v1/models/fashion")
        self.c.check(st2 == 200, f"after {what}: status request answered {st2}")

    def check_errors(self):
        self.errors = 0
        row = self.x[0].tolist()
        E = self.expect_error
        E("malformed JSON", 400, "JSON Parse error", body="{\"instances\": [1, 2,")
        E("unknown model", 404, "Servable not found for request: Latest(nope)", path="/v1/models/nope:predict",
          body={"instances": [row]})
        E("unknown version", 404, "Servable not found for request: Specific(fashion, 9)",
          path="/v1/models/fashion/versions/9:predict", body={"instances": [row]})
        E("unknown label", 400, "Unrecognized servable version label: stable",
          path="/v1/models/fashion/labels/stable:predict", body={"instances": [row]})
        E("unknown signature", 400, 'Serving signature name: "nope" not found in signature def',
          body={"signature_name": "nope", "instances": [row]})
        E("wrong row length", 400, "", body={"signature_name": "predict_images", "instances": [row[:783]]})
        E("ragged instances", 400, "", body={"signature_name": "predict_images", "instances": [row, row[:10]]})
        E("strings for a float input", 400, "", body={"signature_name": "predict_images", "instances": [["a"] * 784]})
        E("neither instances nor inputs", 400, "", body={"signature_name": "predict_images"})
        E("malformed path", 400, "Malformed request: GET /v2/models/fashion", method="GET", path="/v2/models/fashion")
        E("unknown verb", 400, "Malformed request: POST /v1/models/fashion:explain", path="/v1/models/fashion:explain",
          body={"instances": [row]})
        E("status of an unknown model", 404, "Could not find any versions of model nope", method="GET",
          path="/v1/models/nope")
        E("status of an unknown version", 404, "Could not find version 9 of model fashion", method="GET",
          path="/v1/models/fashion/versions/9")
        E("a version past int64", 400, "Failed to convert version: 99999999999999999999 to numeric.",
          path="/v1/models/fashion/versions/99999999999999999999:predict", body={"instances": [row]})
        E("missing model name", 400, "Missing model name in request.", method="GET", path="/v1/models")
        deep = "[" * 100000 + "]" * 100000
        E("nesting 100,000 levels deep", 400, "", body='{"instances": ' + deep + "}")
        self.check_raw_limits()
        self.c.note(f"{self.errors} error cases answered with TF Serving's status and text; the server kept serving")

    def check_raw_limits(self):
        c, port = self.c, self.server.rest_port
        # A 1 GB body: refused from its Content-Length, before it is sent.
        head = (b"POST /v1/models/fashion:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1073741824\r\n\r\n")
        raw = servecommon.raw_exchange(port, head + b"{" * 65536)
        c.check(servecommon.status_line(raw).startswith("HTTP/1.1 413"), f"1 GB body: {servecommon.status_line(raw)!r}")
        raw = servecommon.raw_exchange(port, b"BREW /pot HTTP/1.1\r\n\r\n")
        c.check(servecommon.status_line(raw).startswith("HTTP/1.1 400"), f"unknown method: {servecommon.status_line(raw)!r}")
        raw = servecommon.raw_exchange(port, b"\x00\xff garbage\r\n\r\n")
        c.check(servecommon.status_line(raw).startswith("HTTP/1.1 400"), f"garbage request line: {servecommon.status_line(raw)!r}")
        st, _, _ = self.get("/v1/models/fashion")
        c.check(st == 200 and self.server.alive(), "the server stopped answering after the raw-socket cases")

    def main(self):
        def body():
            self.train()
            if not self.start():
                return
            try:
                self.check_status_routes()
                self.check_predict()
                self.check_classify()
                self.check_errors()
            finally:
                code = self.server.stop()
                self.c.check(code == 0, f"SIGTERM: the server exited {code}, expected 0")
                log = self.server.log_text()
                self.c.check("warmup records replayed" in log, "the log does not report the warmup replay:\n" + log[-2000:])
        tfcommon.run_checks(self.c, self.tmp, body)


SEED_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class TfModelsPart:
    """TF-written models and TF Serving's golden, served from one config file."""

    def __init__(self, args):
        self.args = args
        self.tf = tfcommon.import_tensorflow()
        import numpy as np
        self.np = np
        self.c = tfcommon.Checks("serve rest: tf_models")
        self.tmp = tfcommon.mkdtemp("serve-tfmodels")
        self.x, self.labels = tfcommon.fashion_test_set()

    def build(self):
        import tf_models_run
        x_train, y_train = tfcommon.fashion_set("train")
        x_train, y_train = x_train[:10000], y_train[:10000]
        self.runs, self.params = {}, {}
        for name, regression in (("tutorial", False), ("regress", True)):
            vdir = os.path.join(self.tmp, "models", name, "1")
            self.runs[name], self.params[name] = tf_models_run.v1_model(self.tf, x_train, y_train, vdir, regression)
        self.runs["cnn"] = tf_models_run.v1_cnn_model(self.tf, x_train, y_train, os.path.join(self.tmp, "models", "cnn", "1"))
        golden = os.path.join(self.args.source_dir, "tests/data/golden/saved_model_half_plus_two_cpu")
        shutil.copytree(golden, os.path.join(self.tmp, "models", "half_plus_two"))
        config = os.path.join(self.tmp, "models.config")
        with open(config, "w") as f:
            f.write("model_config_list {\n")
            for name in ("tutorial", "regress", "cnn", "half_plus_two"):
                f.write(f'  config {{ name: "{name}" base_path: "{os.path.join(self.tmp, "models", name)}" '
                        f'model_platform: "tensorflow"')
                if name == "half_plus_two":
                    f.write(' version_labels { key: "stable" value: 123 }')
                f.write(" }\n")
            f.write("}\n")
        return config

    def main(self):
        tf, np, c = self.tf, self.np, self.c

        def body():
            config = self.build()
            server = servecommon.Server(self.args.binary, [f"--model_config_file={config}"],
                                        os.path.join(self.tmp, "serve.log"))
            if not c.check(server.wait_ready(), "the server did not open its port:\n" + server.log_text()):
                return
            try:
                x = self.x[:500]
                exs = [{"x": row} for row in x.tolist()]
                # The tutorial graph: predict and classify.
                st, body, _ = servecommon.http(server, "POST", "/v1/models/tutorial:predict",
                                               {"signature_name": "predict_images", "instances": x.tolist()})
                want = self.runs["tutorial"]["predict_images"](x)["scores"]
                served = body.get("predictions") if isinstance(body, dict) else None
                c.check(st == 200 and within_float64_rule(np, served, want, self.params["tutorial"], x),
                        f"tutorial predict: {st}: served differs from TF by more than {TOL} where TF is closer "
                        f"to exact arithmetic (max abs diff {max_abs(served, want):.3g})")
                c.note(f"tutorial predict (500 images): max abs diff vs TF {max_abs(served, want):.3g}")
                st, body, _ = servecommon.http(server, "POST", "/v1/models/tutorial:classify", {"examples": exs})
                want = self.runs["tutorial"]["serving_default"](x)
                ok = c.check(st == 200 and len(body.get("results", [])) == len(x), f"tutorial classify: {st} {str(body)[:200]}")
                if ok:
                    labels = [[lab for lab, _ in r] for r in body["results"]]
                    scores = [[s for _, s in r] for r in body["results"]]
                    top_same = np.mean([a[0] == b[0].decode() for a, b in zip(labels, want["classes"])])
                    c.check(top_same >= 0.99, f"tutorial classify: top class equals TF's in {top_same:.4f} of rows")
                    c.note(f"tutorial classify: scores max abs diff vs TF {max_abs(scores, want['scores']):.3g}, "
                           f"top class identical in {top_same:.4f} of 500 rows")
                # The regression model: regress and predict.
                st, body, _ = servecommon.http(server, "POST", "/v1/models/regress:regress", {"examples": exs})
                want = self.runs["regress"]["serving_default"](x)["outputs"].reshape(-1)
                d = max_abs(body.get("results") if isinstance(body, dict) else None, want)
                c.check(st == 200 and d <= TOL, f"regress: {st} max abs diff vs TF {d:.3g}")
                c.note(f"regress (500 examples): max abs diff vs TF {d:.3g}")
                # The conv graph (Conv2D, FusedBatchNormV3, pools, Selu, Softplus, Erf): predict and classify.
                st, body, _ = servecommon.http(server, "POST", "/v1/models/cnn:predict",
                                               {"signature_name": "predict_images", "instances": x.tolist()})
                want = self.runs["cnn"]["predict_images"](x)["scores"]
                d = max_abs(body.get("predictions") if isinstance(body, dict) else None, want)
                c.check(st == 200 and d <= TOL, f"cnn predict: {st} max abs diff vs TF {d:.3g}")
                st, body, _ = servecommon.http(server, "POST", "/v1/models/cnn:classify", {"examples": exs})
                want = self.runs["cnn"]["serving_default"](x)
                results = body.get("results", []) if isinstance(body, dict) else []
                ok = c.check(st == 200 and len(results) == len(x), f"cnn classify: {st} {str(body)[:200]}")
                if ok:
                    scores = [[sc for _, sc in r] for r in results]
                    top_same = np.mean([r[0][0] == w[0].decode() for r, w in zip(results, want["classes"])])
                    dc = max_abs(scores, want["scores"])
                    c.check(dc <= TOL and top_same == 1.0,
                            f"cnn classify: scores max abs diff vs TF {dc:.3g}, top class equal in {top_same:.4f}")
                    c.note(f"cnn (500 images): predict max abs diff vs TF {d:.3g}; classify scores {dc:.3g}, "
                           f"top class identical in {top_same:.4f} of rows")
                # TF Serving's golden by label, and its regress/classify signatures.
                st, body, _ = servecommon.http(server, "POST", "/v1/models/half_plus_two/labels/stable:predict",
                                               {"instances": [1.0, 2.0, 5.0]})
                c.check(st == 200 and body == {"predictions": [2.5, 3.0, 4.5]}, f"half_plus_two by label: {st} {body}")
                st, body, _ = servecommon.http(server, "POST", "/v1/models/half_plus_two:regress",
                                               {"signature_name": "regress_x_to_y", "examples": [{"x": 1.0}, {"x": 4.0}]})
                c.check(st == 200 and body == {"results": [2.5, 4.0]}, f"half_plus_two regress: {st} {body}")
                st, body, _ = servecommon.http(server, "POST", "/v1/models/half_plus_two:classify",
                                               {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]})
                c.check(st == 200 and body == {"results": [[["", 3.0]]]}, f"half_plus_two classify: {st} {body}")
                st, body, _ = servecommon.http(server, "GET", "/v1/models/half_plus_two/labels/stable")
                c.check(st == 200 and body["model_version_status"][0]["version"] == "123",
                        f"status by label: {st} {body}")
            finally:
                code = server.stop()
                c.check(code == 0, f"SIGTERM: exit {code}")
        tfcommon.run_checks(c, self.tmp, body)


def within_float64_rule(np, served, tf_out, params, x):
    """tf_models_run.py's rule: the tutorial's N(0,1) weights make its softmax
    ill-conditioned in float32, so an element more than 1e-5 from TF passes
    only if it is within 1e-5 + 2 x TF's own largest error of an exact float64
    forward pass."""
    import tf_models_run
    if served is None:
        return False
    served, tf_out = np.asarray(served, dtype=np.float64), np.asarray(tf_out, dtype=np.float64)
    if served.shape != tf_out.shape:
        return False
    over = np.abs(served - tf_out) > TOL
    if not over.any():
        return True
    exact = tf_models_run.float64_forward(params, x, softmax=True)
    bound = TOL + 2 * float(np.abs(tf_out - exact).max())
    return bool((np.abs(served - exact)[over] <= bound).all())


class BatchingPart:
    """The same export served unbatched, then batched: the same answers."""

    REQUESTS = 200
    CLIENTS = 8
    PARAMETERS = ("max_batch_size { value: 8 }\n"
                  "batch_timeout_micros { value: 100000 }\n"
                  "max_enqueued_batches { value: 100 }\n"
                  "num_batch_threads { value: 2 }\n"
                  "allowed_batch_sizes: 2\nallowed_batch_sizes: 4\nallowed_batch_sizes: 8\n")

    def __init__(self, args):
        self.args = args
        self.tf = tfcommon.import_tensorflow()
        import numpy as np
        self.np = np
        self.c = tfcommon.Checks("serve rest: batching")
        self.tmp = tfcommon.mkdtemp("serve-batching")
        self.x, _ = tfcommon.fashion_test_set()
        self.x = self.x[:self.REQUESTS]

    def export(self):
        self.base, summary = train_he_fashion(self.args, self.tmp, 2000, 500)
        self.vdir = summary["export_dir"]

    def serve(self, name, flags):
        server = servecommon.Server(self.args.binary, ["--model_name=fashion", f"--model_base_path={self.base}"] + flags,
                                    os.path.join(self.tmp, f"{name}.log"))
        return server if self.c.check(server.wait_ready(), f"{name}: the server did not open its port:\n"
                                      + server.log_text()) else None

    def predict_rows(self, server, rows):
        """{row: (status, predictions)} of one 1-row predict per row, from CLIENTS threads at once."""
        from concurrent.futures import ThreadPoolExecutor

        def one(i):
            st, body, _ = servecommon.http(server, "POST", "/v1/models/fashion:predict",
                                           {"signature_name": "predict_images", "instances": self.x[i:i + 1].tolist()})
            return i, st, body

        with ThreadPoolExecutor(self.CLIENTS) as pool:
            return {i: (st, body) for i, st, body in pool.map(one, rows)}

    def main(self):
        def body():
            c, np = self.c, self.np
            self.export()
            plain = self.serve("unbatched", [])
            if plain is None:
                return
            try:
                unbatched = self.predict_rows(plain, range(self.REQUESTS))
            finally:
                plain.stop()
            params = os.path.join(self.tmp, "batching.config")
            with open(params, "w") as f:
                f.write(self.PARAMETERS)
            server = self.serve("batched", ["--enable_batching", f"--batching_parameters_file={params}"])
            if server is None:
                return
            try:
                batched = self.predict_rows(server, range(self.REQUESTS))
                st, body, _ = servecommon.http(server, "POST", "/v1/models/fashion:predict",
                                               {"signature_name": "predict_images", "instances": self.x[:9].tolist()})
                c.check(st == 400 and body == {"error": "Task size 9 is larger than maximum input batch size 8"},
                        f"a 9-row predict with max_batch_size 8: {st} {body}")
            finally:
                code = server.stop()
            c.check(code == 0, f"SIGTERM: the batching server exited {code}, expected 0")
            theirs, _ = tf1_outputs(self.tf, self.vdir, "predict_images", self.x)
            worst_plain = worst_tf = 0.0
            for i in range(self.REQUESTS):
                (st_b, b), (st_u, u) = batched[i], unbatched[i]
                if not c.check(st_b == 200 and st_u == 200, f"row {i}: batched {st_b} {str(b)[:200]}, unbatched {st_u}"):
                    return
                worst_plain = max(worst_plain, max_abs(b["predictions"], u["predictions"]))
                worst_tf = max(worst_tf, max_abs(b["predictions"], theirs["outputs"][i:i + 1]))
            c.check(worst_plain <= TOL, f"batched vs unbatched answers: max abs diff {worst_plain:.3g}")
            c.check(worst_tf <= TOL, f"batched answers vs TF: max abs diff {worst_tf:.3g}")
            log = server.log_text()
            c.check("Batching requests: max_batch_size=8 batch_timeout_micros=100000" in log,
                    "the log does not report the batching options:\n" + log[-2000:])
            import re
            m = re.search(r"Batching: (\d+) merged runs answered (\d+) requests \((\d+) rows, (\d+) padding rows\)", log)
            if c.check(m is not None, "the log does not report the batching counters:\n" + log[-2000:]):
                runs, tasks, rows, padding = map(int, m.groups())
                c.check(tasks == self.REQUESTS and rows == self.REQUESTS,
                        f"{tasks} requests of {rows} rows went through the batcher, expected {self.REQUESTS}")
                c.check(runs < self.REQUESTS, f"{runs} merged runs for {self.REQUESTS} requests: nothing merged")
                c.note(f"{self.REQUESTS} 1-row predicts from {self.CLIENTS} threads: {runs} merged runs, "
                       f"{padding} padding rows; max abs diff vs unbatched {worst_plain:.3g}, vs TF {worst_tf:.3g}")
        tfcommon.run_checks(self.c, self.tmp, body)


if __name__ == "__main__":
    args = tfcommon.parse_args(lambda p: p.add_argument("--part", required=True,
                                                        choices=["ours", "tf_models", "batching"]))
    {"ours": OursPart, "tf_models": TfModelsPart, "batching": BatchingPart}[args.part](args).main()
