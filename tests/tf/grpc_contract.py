"""`pipeline serve`'s gRPC API against TF Serving's own client (issue 13).

Serves TF Serving's golden saved_model_half_plus_two_cpu (TF 1.14; y = 0.5x + 2,
tests/data/golden/README.md) as model `half_plus_two` and talks to it only
through tensorflow-serving-api's stubs (PredictionServiceStub,
ModelServiceStub) with tf.make_tensor_proto / tf.make_ndarray, as a TF
Serving user would:
  - Predict (tensor_content and typed-list inputs, output_filter): y against
    hand-computed values; the reply in typed lists (float_val), model_spec
    {name, version 123, signature_name};
  - Classify (classify_x_to_y: scores = 0.5x + 2), Regress (regress_x_to_y,
    regress_x_to_y2 = 0.5x + 3) on tf.Examples, and MultiInference of both on
    one input;
  - GetModelMetadata: the SignatureDefMap equals the one in saved_model.pb;
  - GetModelStatus: version 123 AVAILABLE; HandleReloadConfigRequest with the
    same model keeps it served;
  - the error cases with TF Serving's codes and texts: unknown model
    NOT_FOUND, unknown signature FAILED_PRECONDITION (Predict) /
    INVALID_ARGUMENT (Classify), wrong input INVALID_ARGUMENT, missing
    model_spec, an unsupported metadata field, a MultiInference over
    different inputs, a non-list reload config -- each followed by a good
    request.
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servecommon  # noqa: E402
import tfcommon  # noqa: E402

MODEL = "half_plus_two"
VERSION = 123
GOLDEN = os.path.join("tests", "data", "golden", "saved_model_half_plus_two_cpu")


def examples(tf, xs):
    """tf.Examples with one float feature `x` each (the golden's regress/classify input)."""
    from tensorflow_serving.apis import input_pb2
    inp = input_pb2.Input()
    for x in xs:
        ex = inp.example_list.examples.add()
        ex.features.feature["x"].float_list.value.append(x)
    return inp


def main():
    args = tfcommon.parse_args()
    tf = tfcommon.import_tensorflow()
    import grpc
    import numpy as np
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2, get_model_status_pb2,
                                         inference_pb2, model_management_pb2, model_service_pb2_grpc, predict_pb2,
                                         prediction_service_pb2_grpc, regression_pb2)

    c = tfcommon.Checks("grpc contract")
    tmp = tfcommon.mkdtemp("grpc-contract")
    base = os.path.join(tmp, MODEL)
    shutil.copytree(os.path.join(args.source_dir, GOLDEN), base)
    server = servecommon.Server(args.binary, [f"--model_name={MODEL}", f"--model_base_path={base}"],
                                os.path.join(tmp, "serve.log"), rest=False)

    def spec(msg, name=MODEL, signature=None):
        msg.model_spec.name = name
        if signature is not None:
            msg.model_spec.signature_name = signature
        return msg

    def expect_error(what, call, request, code, text=None):
        """One refused call: its gRPC code and (when given) the start of its details."""
        try:
            call(request, timeout=30)
        except grpc.RpcError as e:
            ok = e.code() == code and (text is None or e.details().startswith(text))
            c.check(ok, f"{what}: wanted {code.name} '{text}', got {e.code().name} '{e.details()}'")
            return
        c.check(False, f"{what}: wanted {code.name}, the call succeeded")

    def body():
        if not server.wait_ready():
            raise RuntimeError(f"`pipeline serve` did not open its gRPC port:\n{server.log_text()}")
        c.note(f"serving after {server.ready_seconds:.2f} s on gRPC port {server.grpc_port}")
        channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        models = model_service_pb2_grpc.ModelServiceStub(channel)

        def predict(xs, signature=None, typed=False, output_filter=()):
            req = spec(predict_pb2.PredictRequest(), signature=signature)
            x = np.array(xs, dtype=np.float32).reshape(-1, 1)
            if typed:  # typed list input, as hand-written clients send it
                t = req.inputs["x"]
                t.dtype = tf.float32.as_datatype_enum
                t.tensor_shape.dim.add().size = x.shape[0]
                t.tensor_shape.dim.add().size = 1
                t.float_val.extend(x.ravel().tolist())
            else:  # tensor_content, what tf.make_tensor_proto writes for an ndarray
                req.inputs["x"].CopyFrom(tf.make_tensor_proto(x))
            req.output_filter.extend(output_filter)
            return stub.Predict(req, timeout=30)

        # Predict: y = 0.5x + 2, by hand.
        xs = [1.0, 2.0, 5.0, -4.0]
        want = [2.5, 3.0, 4.5, 0.0]
        for typed in (False, True):
            r = predict(xs, typed=typed)
            y = r.outputs["y"]
            form = "typed float_val" if typed else "tensor_content"
            c.check(np.allclose(tf.make_ndarray(y).ravel(), want, atol=1e-6),
                    f"Predict ({form} input): y = {tf.make_ndarray(y).ravel().tolist()}, want {want}")
            c.check(list(y.float_val) == want and not y.tensor_content,
                    f"Predict reply in typed float_val as TF Serving writes it: {y}")
            c.check([d.size for d in y.tensor_shape.dim] == [4, 1] and y.dtype == tf.float32.as_datatype_enum,
                    f"Predict reply dtype/shape: {y.dtype} {y.tensor_shape}")
            c.check(r.model_spec.name == MODEL and r.model_spec.version.value == VERSION and
                    r.model_spec.signature_name == "serving_default",
                    f"Predict model_spec: {r.model_spec}")
        r = predict([3.0], signature="serving_default", output_filter=["y"])
        c.check(list(r.outputs.keys()) == ["y"] and list(r.outputs["y"].float_val) == [3.5],
                f"Predict with output_filter [y]: {r}")

        # Classify: classify_x_to_y has only scores = 0.5x + 2 (no classes).
        req = spec(classification_pb2.ClassificationRequest(), signature="classify_x_to_y")
        req.input.CopyFrom(examples(tf, [1.0, 3.0]))
        r = stub.Classify(req, timeout=30)
        got = [[(cl.label, cl.score) for cl in cs.classes] for cs in r.result.classifications]
        c.check(got == [[("", 2.5)], [("", 3.5)]], f"Classify classify_x_to_y: {got}")
        c.check(r.model_spec.name == MODEL and r.model_spec.version.value == VERSION and
                r.model_spec.signature_name == "classify_x_to_y", f"Classify model_spec: {r.model_spec}")

        # Regress: y = 0.5x + 2 and y2 = 0.5x + 3.
        for signature, want in (("regress_x_to_y", [2.5, 3.5, 1.0]), ("regress_x_to_y2", [3.5, 4.5, 2.0])):
            req = spec(regression_pb2.RegressionRequest(), signature=signature)
            req.input.CopyFrom(examples(tf, [1.0, 3.0, -2.0]))
            r = stub.Regress(req, timeout=30)
            got = [g.value for g in r.result.regressions]
            c.check(got == want, f"Regress {signature}: {got}, want {want}")
            c.check(r.model_spec.signature_name == signature and r.model_spec.version.value == VERSION,
                    f"Regress model_spec: {r.model_spec}")

        # MultiInference: classify and two regressions over one input.
        mreq = inference_pb2.MultiInferenceRequest()
        for signature, method in (("classify_x_to_y", "tensorflow/serving/classify"),
                                  ("regress_x_to_y", "tensorflow/serving/regress"),
                                  ("regress_x_to_y2", "tensorflow/serving/regress")):
            t = mreq.tasks.add()
            t.model_spec.name = MODEL
            t.model_spec.signature_name = signature
            t.method_name = method
        mreq.input.CopyFrom(examples(tf, [2.0, 4.0]))
        r = stub.MultiInference(mreq, timeout=30)
        c.check(len(r.results) == 3, f"MultiInference: 3 results, got {len(r.results)}")
        if len(r.results) == 3:
            scores = [cs.classes[0].score for cs in r.results[0].classification_result.classifications]
            c.check(scores == [3.0, 4.0], f"MultiInference classify: {scores}")
            c.check([g.value for g in r.results[1].regression_result.regressions] == [3.0, 4.0],
                    f"MultiInference regress_x_to_y: {r.results[1]}")
            c.check([g.value for g in r.results[2].regression_result.regressions] == [4.0, 5.0],
                    f"MultiInference regress_x_to_y2: {r.results[2]}")
            c.check([x.model_spec.signature_name for x in r.results] ==
                    ["classify_x_to_y", "regress_x_to_y", "regress_x_to_y2"] and
                    all(x.model_spec.version.value == VERSION for x in r.results),
                    f"MultiInference model_specs: {[x.model_spec for x in r.results]}")

        # GetModelMetadata: the signature map, as saved_model.pb holds it.
        mdreq = spec(get_model_metadata_pb2.GetModelMetadataRequest())
        mdreq.metadata_field.append("signature_def")
        r = stub.GetModelMetadata(mdreq, timeout=30)
        got = get_model_metadata_pb2.SignatureDefMap()
        c.check(r.metadata["signature_def"].Unpack(got), f"metadata['signature_def'] is a SignatureDefMap: "
                f"{r.metadata['signature_def'].type_url}")
        sm = saved_model_pb2.SavedModel()
        with open(os.path.join(base, f"{VERSION:08d}", "saved_model.pb"), "rb") as f:
            sm.ParseFromString(f.read())
        want_sigs = sm.meta_graphs[0].signature_def
        c.check(sorted(got.signature_def.keys()) == sorted(want_sigs.keys()),
                f"metadata signatures {sorted(got.signature_def.keys())}, saved_model.pb's {sorted(want_sigs.keys())}")
        for k in want_sigs:
            c.check(k in got.signature_def and got.signature_def[k] == want_sigs[k], f"metadata signature {k} as saved")
        c.check(r.model_spec.name == MODEL and r.model_spec.version.value == VERSION,
                f"GetModelMetadata model_spec: {r.model_spec}")

        # GetModelStatus and a reload with the same model.
        sreq = spec(get_model_status_pb2.GetModelStatusRequest())
        r = models.GetModelStatus(sreq, timeout=30)
        got = [(v.version, v.state, v.status.error_code) for v in r.model_version_status]
        c.check(got == [(VERSION, get_model_status_pb2.ModelVersionStatus.AVAILABLE, 0)], f"GetModelStatus: {got}")
        rreq = model_management_pb2.ReloadConfigRequest()
        mc = rreq.config.model_config_list.config.add()
        mc.name, mc.base_path, mc.model_platform = MODEL, base, "tensorflow"
        r = models.HandleReloadConfigRequest(rreq, timeout=60)
        c.check(r.status.error_code == 0 and r.status.error_message == "", f"HandleReloadConfigRequest: {r}")
        c.check(list(predict([0.0]).outputs["y"].float_val) == [2.0], "Predict after the reload")

        # Refusals: TF Serving's codes and texts, each followed by a good request.
        C = grpc.StatusCode
        good = lambda: c.check(list(predict([2.0]).outputs["y"].float_val) == [3.0], "a good Predict after a refusal")
        preq = spec(predict_pb2.PredictRequest(), name="nope")
        preq.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0]], dtype=np.float32)))
        expect_error("Predict unknown model", stub.Predict, preq, C.NOT_FOUND, "Servable not found for request: Latest(nope)")
        good()
        preq = spec(predict_pb2.PredictRequest(), signature="nope")
        preq.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0]], dtype=np.float32)))
        expect_error("Predict unknown signature", stub.Predict, preq, C.FAILED_PRECONDITION,
                     'Serving signature key "nope" not found.')
        good()
        preq = spec(predict_pb2.PredictRequest())
        preq.inputs["z"].CopyFrom(tf.make_tensor_proto(np.array([[1.0]], dtype=np.float32)))
        expect_error("Predict wrong input alias", stub.Predict, preq, C.INVALID_ARGUMENT)
        good()
        preq = spec(predict_pb2.PredictRequest())
        preq.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([["a"]], dtype=object)))
        expect_error("Predict string for a float input", stub.Predict, preq, C.INVALID_ARGUMENT)
        good()
        preq = spec(predict_pb2.PredictRequest())
        t = preq.inputs["x"]
        t.dtype = tf.float32.as_datatype_enum
        t.tensor_shape.dim.add().size = 2
        t.tensor_content = b"\0\0\0"  # 3 bytes for 2 floats
        expect_error("Predict malformed tensor", stub.Predict, preq, C.INVALID_ARGUMENT, "tensor parsing error: x")
        good()
        expect_error("Predict without model_spec", stub.Predict, predict_pb2.PredictRequest(), C.INVALID_ARGUMENT,
                     "Missing ModelSpec")
        creq = spec(classification_pb2.ClassificationRequest(), signature="nope")
        creq.input.CopyFrom(examples(tf, [1.0]))
        expect_error("Classify unknown signature", stub.Classify, creq, C.INVALID_ARGUMENT,
                     "No signature was found with the name: nope")
        creq = spec(classification_pb2.ClassificationRequest(), name="nope")
        creq.input.CopyFrom(examples(tf, [1.0]))
        expect_error("Classify unknown model", stub.Classify, creq, C.NOT_FOUND)
        rgreq = spec(regression_pb2.RegressionRequest(), signature="regress_x_to_y")
        expect_error("Regress without examples", stub.Regress, rgreq, C.INVALID_ARGUMENT, "Input is empty.")
        good()
        mreq2 = inference_pb2.MultiInferenceRequest()
        mreq2.CopyFrom(mreq)
        mreq2.tasks[2].model_spec.signature_name = "regress_x2_to_y3"  # its input is x2:0, not tf_example:0
        expect_error("MultiInference over different inputs", stub.MultiInference, mreq2, C.INVALID_ARGUMENT,
                     "Input tensor must be the same for all Signatures.")
        mreq2.CopyFrom(mreq)
        mreq2.tasks[1].model_spec.signature_name = "classify_x_to_y"
        expect_error("MultiInference duplicate signature", stub.MultiInference, mreq2, C.INVALID_ARGUMENT,
                     "Duplicate evaluation of signature: classify_x_to_y")
        mreq2.CopyFrom(mreq)
        mreq2.tasks[0].method_name = "tensorflow/serving/predict"
        expect_error("MultiInference predict task", stub.MultiInference, mreq2, C.UNIMPLEMENTED,
                     "Unsupported signature method_name: tensorflow/serving/predict")
        mdreq = spec(get_model_metadata_pb2.GetModelMetadataRequest())
        mdreq.metadata_field.append("foo")
        expect_error("GetModelMetadata unsupported field", stub.GetModelMetadata, mdreq, C.INVALID_ARGUMENT,
                     "Metadata field %s is not supported")
        mdreq = spec(get_model_metadata_pb2.GetModelMetadataRequest(), name="nope")
        mdreq.metadata_field.append("signature_def")
        expect_error("GetModelMetadata unknown model", stub.GetModelMetadata, mdreq, C.NOT_FOUND)
        expect_error("GetModelStatus unknown model", models.GetModelStatus,
                     spec(get_model_status_pb2.GetModelStatusRequest(), name="nope"), C.NOT_FOUND,
                     "Could not find any versions of model nope")
        expect_error("HandleReloadConfigRequest without a model list", models.HandleReloadConfigRequest,
                     model_management_pb2.ReloadConfigRequest(), C.INVALID_ARGUMENT,
                     "ServerModelConfig type not supported by HandleReloadConfigRequest.")
        good()

        # Sequential batch-1 Predicts from this one Python client (a latency
        # figure, not a throughput bound: the client is the slower side).
        req = spec(predict_pb2.PredictRequest())
        req.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0]], dtype=np.float32)))
        n, t0 = 2000, time.monotonic()
        for _ in range(n):
            stub.Predict(req, timeout=30)
        secs = time.monotonic() - t0
        c.note(f"{n} sequential batch-1 Predicts from one Python client: {n / secs:.0f}/s "
               f"({1e6 * secs / n:.0f} us each)")
        channel.close()
        code = server.stop()
        c.check(code == 0, f"`pipeline serve` exits 0 on SIGTERM, got {code}")
        if c.failures:
            print(server.log_text()[-4000:])

    try:
        tfcommon.run_checks(c, tmp, body)
    finally:
        if server.alive():
            server.stop()


if __name__ == "__main__":
    main()
