"""Our proto/ files against TensorFlow's and TF Serving's own (the gRPC wire contract).

TF Serving's client (tensorflow-serving-api's prediction_service_pb2_grpc and
model_service_pb2_grpc) talks to `pipeline serve` with TF Serving's messages;
ours are a hand-written subset (proto/*.proto). On the wire only numbers and
types count, so for every message, enum and service we define the check is
against the same-named one the venv's pb2 modules register:
  - each of our fields: the same number, type, label and type name (a field
    TF has and we lack is fine: the parser skips it; it is listed, not failed);
  - each of our enum values: the same number;
  - each of our services: exactly TF's methods, with the same request and
    response types and streaming flags.
Prints one row per message/enum/service and exits 1 on any mismatch.
"""
import importlib
import os
import pkgutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfcommon  # noqa: E402

# Messages with no reference in the venv: tensorflow-serving-api does not ship
# tensorflow_serving/config/monitoring_config.proto's module, nor
# servables/tensorflow/session_bundle_config.proto's. They are checked by hand
# against those files (bool enable = 1; string path = 2; and PrometheusConfig
# prometheus_config = 1; BatchingParameters' wrappers 1-5, repeated int64
# allowed_batch_sizes = 6, bool pad_variable_length_inputs = 7) and reported
# as such, not skipped silently; any other missing message is a mismatch.
NO_REFERENCE = {
    "tensorflow.serving.PrometheusConfig": {"enable": (1, 8), "path": (2, 9)},
    "tensorflow.serving.MonitoringConfig": {"prometheus_config": (1, 11)},
    "tensorflow.serving.BatchingParameters": {
        "max_batch_size": (1, 11), "batch_timeout_micros": (2, 11), "max_enqueued_batches": (3, 11),
        "num_batch_threads": (4, 11), "thread_pool_name": (5, 11), "allowed_batch_sizes": (6, 3),
        "pad_variable_length_inputs": (7, 8)},
}

# Packages whose *_pb2 modules hold the reference descriptors.
REFERENCE_PACKAGES = ["tensorflow_serving.apis", "tensorflow_serving.config", "tensorflow.core.framework", "tensorflow.core.protobuf", "tensorflow.core.example",
                      "tensorflow.core.util", "tsl.protobuf", "tensorboard.plugins.hparams"]


def load_reference_pool():
    """Imports every *_pb2 module of REFERENCE_PACKAGES (each registers its files
    in the default pool); returns (pool, the modules that failed to import).
    A package this TF version does not ship (tsl.protobuf moved) is skipped."""
    from google.protobuf import descriptor_pool
    failed = []
    for pkg_name in REFERENCE_PACKAGES:
        try:
            pkg = importlib.import_module(pkg_name)
        except ImportError:
            continue
        for mod in pkgutil.iter_modules(pkg.__path__):
            if mod.name.endswith("_pb2"):
                try:
                    importlib.import_module(f"{pkg_name}.{mod.name}")
                except Exception as e:
                    failed.append(f"{pkg_name}.{mod.name} ({type(e).__name__}: {e})")
    return descriptor_pool.Default(), failed


def our_descriptor_set(source_dir, tmp):
    """protoc's FileDescriptorSet of proto/*.proto (with imports), parsed."""
    from google.protobuf import descriptor_pb2
    protos = sorted(os.path.join("proto", f) for f in os.listdir(os.path.join(source_dir, "proto"))
                    if f.endswith(".proto"))
    out = os.path.join(tmp, "ours.pb")
    tfcommon.must_run(["protoc", "--include_imports", f"--descriptor_set_out={out}", "-I", source_dir] + protos,
                      cwd=source_dir)
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as f:
        fds.ParseFromString(f.read())
    # Only our files: google/protobuf/*.proto are imports, not ours.
    return [fd for fd in fds.file if fd.name.startswith("proto/")]


def walk_messages(prefix, messages):
    """(full name, DescriptorProto) of each message and nested message."""
    for m in messages:
        name = f"{prefix}.{m.name}" if prefix else m.name
        yield name, m
        yield from walk_messages(name, m.nested_type)


def walk_enums(prefix, fd_or_msg_enums, messages):
    for e in fd_or_msg_enums:
        yield (f"{prefix}.{e.name}" if prefix else e.name), e
    for name, m in walk_messages(prefix, messages):
        for e in m.enum_type:
            yield f"{name}.{e.name}", e


LABELS = {1: "optional", 2: "required", 3: "repeated"}


def ref_label(f):
    """A reference field's label; newer protobuf dropped FieldDescriptor.label."""
    if hasattr(f, "label"):
        return LABELS[f.label]
    return "repeated" if f.is_repeated else ("required" if f.is_required else "optional")


def ref_type_name(f):
    t = f.message_type or f.enum_type
    return t.full_name if t is not None else ""


def compare_message(name, ours, theirs):
    """(problems, fields TF has and we do not)."""
    problems = []
    by_name = {f.name: f for f in theirs.fields}
    for f in ours.field:
        t = by_name.get(f.name)
        if t is None:
            problems.append(f"field {f.name} = {f.number}: TF has no field of that name")
            continue
        mine = (f.number, f.type, LABELS[f.label], f.type_name.lstrip("."))
        ref = (t.number, t.type, ref_label(t), ref_type_name(t))
        if mine != ref:
            problems.append(f"field {f.name}: ours (number, type, label, type) {mine}, TF's {ref}")
    ours_names = {f.name for f in ours.field}
    missing = [f"{f.name}={f.number}" for f in theirs.fields if f.name not in ours_names]
    return problems, missing


def compare_enum(ours, theirs):
    problems = []
    for v in ours.value:
        t = theirs.values_by_name.get(v.name)
        if t is None:
            problems.append(f"value {v.name} = {v.number}: TF has no value of that name")
        elif t.number != v.number:
            problems.append(f"value {v.name}: ours {v.number}, TF's {t.number}")
    return problems


def compare_service(ours, theirs):
    problems = []
    ref = {m.name: m for m in theirs.methods}
    for m in ours.method:
        t = ref.get(m.name)
        if t is None:
            problems.append(f"method {m.name}: TF has no method of that name")
            continue
        mine = (m.input_type.lstrip("."), m.output_type.lstrip("."), m.client_streaming, m.server_streaming)
        refs = (t.input_type.full_name, t.output_type.full_name, t.client_streaming, t.server_streaming)
        if mine != refs:
            problems.append(f"method {m.name}: ours (in, out, client/server streaming) {mine}, TF's {refs}")
    for name in ref:
        if name not in {m.name for m in ours.method}:
            problems.append(f"method {name}: TF's, missing in ours")
    return problems


def main():
    args = tfcommon.parse_args()
    tfcommon.import_tensorflow()
    c = tfcommon.Checks("grpc_protos_match")
    tmp = tfcommon.mkdtemp("grpc-protos")

    def body():
        pool, failed = load_reference_pool()
        for f in failed:
            c.note(f"not importable (its messages count as absent): {f}")
        files = our_descriptor_set(args.source_dir, tmp)
        rows = []  # (kind, full name, file, verdict, detail)

        def record(kind, full, fd, problems, extra=""):
            ok = not problems
            c.check(ok, f"{kind} {full} ({fd.name}): " + "; ".join(problems))
            rows.append((kind, full, fd.name, "ok" if ok else "MISMATCH", extra if ok else "; ".join(problems)))

        for fd in files:
            pkg = fd.package
            for rel, m in walk_messages("", fd.message_type):
                full = f"{pkg}.{rel}"
                try:
                    theirs = pool.FindMessageTypeByName(full)
                except KeyError:
                    if full in NO_REFERENCE:
                        mine = {f.name: (f.number, f.type) for f in m.field}
                        record("message", full, fd, [] if mine == NO_REFERENCE[full] else
                               [f"fields {mine} != TF Serving's source {NO_REFERENCE[full]}"],
                               "not in tensorflow-serving-api: checked against TF Serving's source")
                        continue
                    record("message", full, fd, ["no message of that name in TF's pb2 modules"])
                    continue
                problems, missing = compare_message(full, m, theirs)
                extra = f"{len(m.field)} fields" + (f"; TF's extra: {', '.join(missing)}" if missing else "")
                record("message", full, fd, problems, extra)
            for rel, e in walk_enums("", fd.enum_type, fd.message_type):
                full = f"{pkg}.{rel}"
                try:
                    theirs = pool.FindEnumTypeByName(full)
                except KeyError:
                    record("enum", full, fd, ["no enum of that name in TF's pb2 modules"])
                    continue
                record("enum", full, fd, compare_enum(e, theirs), f"{len(e.value)} values")
            for s in fd.service:
                full = f"{pkg}.{s.name}"
                try:
                    theirs = pool.FindServiceByName(full)
                except KeyError:
                    record("service", full, fd, ["no service of that name in TF's pb2 modules"])
                    continue
                record("service", full, fd, compare_service(s, theirs),
                       "methods " + ", ".join(m.name for m in s.method))

        w = max(len(r[1]) for r in rows)
        print(f"{'kind':8} {'name':{w}} {'verdict':9} detail")
        for kind, full, _file, verdict, detail in rows:
            print(f"{kind:8} {full:{w}} {verdict:9} {detail}")
        counts = {k: sum(1 for r in rows if r[0] == k) for k in ("message", "enum", "service")}
        bad = sum(1 for r in rows if r[3] != "ok")
        c.note(f"compared {counts['message']} messages, {counts['enum']} enums, {counts['service']} services: "
               f"{bad} mismatch(es)")
        c.check(counts["service"] >= 2, "the PredictionService and ModelService protos are among ours")

    tfcommon.run_checks(c, tmp, body)


if __name__ == "__main__":
    main()
