#!/usr/bin/env python3
"""The serving benchmark of issue 13: `pipeline serve` against TensorFlow in-process, in one run.

On one export of configs/fashion_mnist.yaml (--model_base_path DIR, the base
that holds the numeric version directories; or --train, which runs that config
for one epoch into a temporary directory first: the weights do not matter for
speed), it measures

  rest-bB-cC    REST predict with wrk over keep-alive: `{"signature_name":
                "predict_images", "instances": [...]}` with real Fashion-MNIST
                test images, batch B (1, 100) on C connections (1, 16, 64);
                wrk's own latency percentiles (a Lua done()).
  grpc-bB-cC    gRPC Predict with h2load posting a serialized, gRPC-framed
                PredictRequest (tensor_content): C concurrent streams as
                clients x streams per client, 1 = 1x1, 16 = 4x4, 64 = 8x8;
                p50/p99 from h2load's per-request --log-file.
  peer-L-bB-tT  the peer: TF loading the same SavedModel in-process and calling
                predict_images in a loop, no network; L = tf1 (the TF1 loader,
                a Session callable) or tf2 (tf.saved_model.load), T Python
                threads (1, 16).
  engine-b100-tT  the engine's own forward at batch 100 on T OpenMP threads (1
                and the cores): `pipeline bench`'s inference measurement; it
                cannot take an export, so it trains the config's topology
                briefly (checked equal to the export's) and times
                Network::Forward. The ratios use the faster of the two.

The load generators get --loadgen-threads threads (default: half the cores; the
server has the rest). For the served rows the table also gives the CPU time per
request of the server (/proc/PID/stat) and of the load generator (its rusage)
over the timed run. From those comes each API's batch-100 ceiling: the rows/s
of a server that did nothing but the forward (the engine's 1-thread time), on
the cores the load generator leaves it, over the engine's best; a served ratio
can never pass it.

Each row is warmed up for --warmup seconds, then timed for --seconds. Before
timing, one request of each kind is checked (REST: 200 and B predictions;
gRPC: grpc-status 0 and a [B, 10] output, through TF Serving's Python stub).
Prints one table, the ratios issue 13 asks for and its targets, met or not;
--json writes them. --rows picks rows by id or id prefix (`rest`, `grpc-b1`,
`peer-tf2`, ...). Not a test: speed claims never live in the ctest suite
(tests/tf/serve_bench_smoke.py only checks that it runs and prints every column).
"""
import argparse
import json
import math
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "tf"))
import servecommon  # noqa: E402
import tfcommon  # noqa: E402

SIGNATURE = "predict_images"
REST_CONNECTIONS = (1, 16, 64)
GRPC_STREAMS = {1: (1, 1), 16: (4, 4), 64: (8, 8)}  # concurrent streams -> (h2load clients, streams per client)
PEER_THREADS = (1, 16)
BATCHES = (1, 100)
DISTINCT_IMAGES = 1000  # REST cycles through this many test images; the peer too
COLUMNS = ("API", "batch", "connections", "requests/s", "rows/s", "p50", "p99", "errors", "server CPU/req",
           "loadgen CPU/req")
TARGETS = {"rest_b1_rps": 15000.0, "grpc_b1_rps": 20000.0, "p99_ms_at_16": 2.0, "over_peer_b1": 3.0,
           "over_engine_b100": 0.8}


# ---------------------------------------------------------------- the rows

def all_rows():
    """Every row id in the order it runs, with what it measures."""
    rows = []
    for b in BATCHES:
        for loader in ("tf1", "tf2"):
            for t in PEER_THREADS:
                rows.append({"id": f"peer-{loader}-b{b}-t{t}", "kind": "peer", "batch": b, "loader": loader, "threads": t})
    for t in sorted({1, os.cpu_count() or 1}):
        rows.append({"id": f"engine-b100-t{t}", "kind": "engine", "batch": 100, "threads": t})
    for api in ("rest", "grpc"):
        for b in BATCHES:
            for c in REST_CONNECTIONS:
                rows.append({"id": f"{api}-b{b}-c{c}", "kind": api, "batch": b, "connections": c})
    return rows


def select_rows(spec):
    """The rows --rows names (comma-separated ids or id prefixes); all without it."""
    rows = all_rows()
    if not spec:
        return rows
    wanted = [w.strip() for w in spec.split(",") if w.strip()]
    unknown = [w for w in wanted if not any(r["id"] == w or r["id"].startswith(w + "-") for r in rows)]
    if unknown:
        raise SystemExit(f"--rows: unknown row(s) {', '.join(unknown)}; rows are: {', '.join(r['id'] for r in rows)}")
    return [r for r in rows if any(r["id"] == w or r["id"].startswith(w + "-") for w in wanted)]


# ---------------------------------------------------------------- the model and its inputs

def train_export(binary, config, overrides, tmp):
    """Runs CONFIG for one epoch (and KEY=VALUE overrides) into tmp; returns the model base path."""
    base = os.path.join(tmp, "models", "fashion")
    tfcommon.must_run([binary, "run", config, "train.epochs=1"] + overrides + [f"export.path={base}",
                       "--run-dir", os.path.join(tmp, "run")], cwd=tmp)
    return base


def newest_version(base):
    """The newest numeric version directory under base (what `latest` serves)."""
    versions = [int(n) for n in os.listdir(base) if n.isdigit() and os.path.isdir(os.path.join(base, n))]
    if not versions:
        raise SystemExit(f"{base}: no numeric version directory (make one with `pipeline run configs/fashion_mnist.yaml`)")
    best = max(versions)
    return next(os.path.join(base, n) for n in os.listdir(base) if n.isdigit() and int(n) == best)


def test_images(n):
    """The first n Fashion-MNIST test images, [n, 784] float32 scaled by 1/255."""
    x, _ = tfcommon.fashion_test_set()
    return x[:n]


def batches_of(x, batch):
    return [x[s:s + batch] for s in range(0, len(x) - batch + 1, batch)]


# ---------------------------------------------------------------- CPU accounting

def default_loadgen_threads():
    """Half the cores for the load generator, the rest for the server. With as many load-generator
    threads as cores (wrk -t2 here), four busy threads share two cores and the tail measured is the
    load generator's own descheduling: on the 2-core machine of 2026-12-03, REST batch 1 at 16
    connections gave p99 3.8-4.2 ms with wrk -t2 against 1.18 ms with -t1, same server, and -t1 also
    served more (30,800 against 27,000 requests/s)."""
    return max(1, (os.cpu_count() or 1) // 2)


def run_counting_cpu(cmd):
    """must_run(cmd) and the CPU seconds (user + system) the child used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = tfcommon.must_run(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def process_cpu_seconds(pid):
    """utime + stime of a running process, all its threads, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_request(server_cpu, loadgen_cpu, requests):
    """CPU milliseconds per request of the server and of the load generator over a timed run."""
    if not requests:
        return {"server_cpu_ms": None, "loadgen_cpu_ms": None}
    return {"server_cpu_ms": server_cpu * 1e3 / requests, "loadgen_cpu_ms": loadgen_cpu * 1e3 / requests}


# ---------------------------------------------------------------- REST with wrk

WRK_LUA = r"""-- Generated by bench/serve.py: POSTs the bodies of BODIES (one JSON per line) in turn.
local bodies = {}
function init(args)
  local f = assert(io.open("__BODIES__", "rb"))
  for line in f:lines() do
    bodies[#bodies + 1] = wrk.format("POST", "__PATH__", {["Content-Type"] = "application/json"}, line)
  end
  f:close()
end
local i = 0
function request()
  i = i % #bodies + 1
  return bodies[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
      '"mean_us": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def rest_bodies(x, batch):
    return [json.dumps({"signature_name": SIGNATURE, "instances": b.tolist()}) for b in batches_of(x, batch)]


def write_wrk_script(tmp, model, bodies, batch):
    """The bodies file and the Lua script that posts them; returns the script's path."""
    bodies_path = os.path.join(tmp, f"rest-b{batch}.jsonl")
    with open(bodies_path, "w") as f:
        f.write("".join(b + "\n" for b in bodies))
    script = os.path.join(tmp, f"rest-b{batch}.lua")
    with open(script, "w") as f:
        f.write(WRK_LUA.replace("__BODIES__", bodies_path).replace("__PATH__", f"/v1/models/{model}:predict"))
    return script


def check_rest(server, model, bodies, batch):
    """Every body once: 200 and `batch` predictions of 10 scores; raises otherwise."""
    for body in bodies:
        st, reply, _ = servecommon.http(server, "POST", f"/v1/models/{model}:predict", body)
        preds = reply.get("predictions") if isinstance(reply, dict) else None
        if st != 200 or not isinstance(preds, list) or len(preds) != batch or len(preds[0]) != 10:
            raise RuntimeError(f"REST batch {batch}: {st} {str(reply)[:300]}")


def run_wrk(port, script, connections, threads, seconds):
    """One wrk run: (its WRK_RESULT line as a dict, wrk's CPU seconds)."""
    cmd = ["wrk", f"-t{min(connections, threads)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
           "--latency", "-s", script, f"http://127.0.0.1:{port}/"]
    r, cpu = run_counting_cpu(cmd)
    m = re.search(r"^WRK_RESULT (\{.*\})$", r.stdout, re.M)
    if not m:
        raise RuntimeError(f"wrk printed no WRK_RESULT line:\n{r.stdout}\n{r.stderr}")
    return json.loads(m.group(1)), cpu


def measure_rest(server, script, row, threads, seconds, warmup):
    if warmup > 0:
        run_wrk(server.rest_port, script, row["connections"], threads, warmup)
    server_cpu = process_cpu_seconds(server.proc.pid)
    w, loadgen_cpu = run_wrk(server.rest_port, script, row["connections"], threads, seconds)
    server_cpu = process_cpu_seconds(server.proc.pid) - server_cpu
    rps = w["requests"] / (w["duration_us"] / 1e6)
    return {"requests": w["requests"], "requests_per_s": rps, "rows_per_s": rps * row["batch"],
            "p50_ms": w["p50_us"] / 1e3, "p99_ms": w["p99_us"] / 1e3, "errors": sum(w["errors"].values()),
            **cpu_per_request(server_cpu, loadgen_cpu, w["requests"]),
            "clients": f"{row['connections']} connections, wrk -t{min(row['connections'], threads)}"}


# ---------------------------------------------------------------- gRPC with h2load

def grpc_request(tf, model, rows):
    """A PredictRequest for predict_images with `rows` as tensor_content."""
    from tensorflow_serving.apis import predict_pb2
    req = predict_pb2.PredictRequest()
    req.model_spec.name = model
    req.model_spec.signature_name = SIGNATURE
    req.inputs["inputs"].CopyFrom(tf.make_tensor_proto(rows))
    if len(req.inputs["inputs"].tensor_content) != rows.size * 4:
        raise RuntimeError("tf.make_tensor_proto did not use tensor_content")
    return req


def write_grpc_frame(tmp, req, batch):
    """The request as one gRPC length-prefixed message (0, 4-byte big-endian length, bytes)."""
    msg = req.SerializeToString()
    path = os.path.join(tmp, f"grpc-b{batch}.bin")
    with open(path, "wb") as f:
        f.write(b"\0" + struct.pack(">I", len(msg)) + msg)
    return path


def check_grpc(tf, port, req, batch):
    """One Predict through TF Serving's stub: grpc-status 0 and a [batch, 10] output; raises otherwise."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(req, timeout=60)
    shape = tf.make_ndarray(reply.outputs["outputs"]).shape
    if shape != (batch, 10):
        raise RuntimeError(f"gRPC batch {batch}: output shape {shape}")


def percentile(sorted_values, q):
    """The q-th percentile (nearest rank) of an ascending list; NaN when empty."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


def run_h2load(port, frame, clients, streams, threads, seconds, log_path):
    """One h2load run; (requests/s, per-request microseconds, failed requests, h2load's CPU seconds).
    h2load appends to --log-file, so the log is started afresh: it must hold this run's requests alone."""
    if os.path.exists(log_path):
        os.remove(log_path)
    cmd = ["h2load", f"-c{clients}", f"-m{streams}", f"-t{min(clients, threads)}", f"-D{seconds}",
           "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", frame, f"--log-file={log_path}",
           f"http://127.0.0.1:{port}/tensorflow.serving.PredictionService/Predict"]
    r, cpu = run_counting_cpu(cmd)
    m = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", r.stdout)
    failed = re.search(r"requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored, "
                       r"(\d+) timeout", r.stdout)
    if not m or not failed:
        raise RuntimeError(f"unexpected h2load output:\n{r.stdout}\n{r.stderr}")
    times, bad_status = [], 0
    with open(log_path) as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) >= 3:
                times.append(int(cols[2]))
                bad_status += cols[1] != "200"
    return float(m.group(1)), sorted(times), sum(int(g) for g in failed.groups()) + bad_status, cpu


def measure_grpc(server, frame, row, threads, seconds, warmup, tmp):
    clients, streams = GRPC_STREAMS[row["connections"]]
    log = os.path.join(tmp, f"{row['id']}.h2load.log")
    if warmup > 0:  # its own run, as wrk's, so that the timed run's CPU seconds are the timed requests' alone
        run_h2load(server.grpc_port, frame, clients, streams, threads, warmup, log)
    server_cpu = process_cpu_seconds(server.proc.pid)
    rps, times, errors, loadgen_cpu = run_h2load(server.grpc_port, frame, clients, streams, threads, seconds, log)
    server_cpu = process_cpu_seconds(server.proc.pid) - server_cpu
    return {"requests": len(times), "requests_per_s": rps, "rows_per_s": rps * row["batch"],
            "p50_ms": percentile(times, 50) / 1e3, "p99_ms": percentile(times, 99) / 1e3, "errors": errors,
            **cpu_per_request(server_cpu, loadgen_cpu, len(times)),
            "clients": f"h2load -c{clients} -m{streams} -t{min(clients, threads)}"}


# ---------------------------------------------------------------- the TF peer

def tf1_callable(tf, vdir):
    """predict_images through the TF1 loader: a Session callable taking a numpy batch."""
    graph = tf.Graph()
    with graph.as_default():
        sess = tf.compat.v1.Session(graph=graph)
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], vdir)
    sig = meta.signature_def[SIGNATURE]
    (info,) = sig.inputs.values()
    (out,) = sig.outputs.values()
    call = sess.make_callable(out.name, [info.name])
    return lambda batch: call(batch)


def tf2_callable(tf, vdir):
    """predict_images through tf.saved_model.load: the signature's concrete function on a tf.Tensor."""
    fn = tf.saved_model.load(vdir).signatures[SIGNATURE]
    (key,) = fn.structured_input_signature[1].keys()
    return lambda batch: fn(**{key: batch})


def peer_inputs(tf, x, batch, loader):
    inputs = batches_of(x, batch)
    return [tf.constant(b) for b in inputs] if loader == "tf2" else inputs


def time_calls(call, inputs, threads, seconds, warmup):
    """`threads` Python threads calling call() on inputs in turn for warmup + seconds; the calls
    started after the warm-up are timed. (requests/s, sorted per-call seconds)."""
    start = time.perf_counter()
    timed_from, until = start + warmup, start + warmup + seconds
    per_thread = [[] for _ in range(threads)]

    def worker(i):
        n, mine = i, per_thread[i]
        while True:
            t0 = time.perf_counter()
            if t0 >= until:
                return
            call(inputs[n % len(inputs)])
            n += 1
            if t0 >= timed_from:
                mine.append(time.perf_counter() - t0)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    times = sorted(t for lst in per_thread for t in lst)
    return len(times) / seconds, times


def measure_peer(tf, callables, x, row, seconds, warmup):
    call = callables[row["loader"]]
    inputs = peer_inputs(tf, x, row["batch"], row["loader"])
    call(inputs[0])
    rps, times = time_calls(call, inputs, row["threads"], seconds, warmup)
    return {"requests": len(times), "requests_per_s": rps, "rows_per_s": rps * row["batch"],
            "p50_ms": percentile(times, 50) * 1e3, "p99_ms": percentile(times, 99) * 1e3, "errors": 0,
            "clients": f"{row['threads']} Python thread{'s' if row['threads'] > 1 else ''}, no network"}


# ---------------------------------------------------------------- the engine

def export_topology(binary, vdir):
    """The export's layer widths from `pipeline inspect` (its dense kernels' shapes), e.g. "784-256-256-10"."""
    shapes = re.findall(r"^  dense_(\d+)/kernel: DT_FLOAT \((\d+), (\d+)\)$",
                        tfcommon.must_run([binary, "inspect", vdir]).stdout, re.M)
    shapes = sorted((int(i), int(a), int(b)) for i, a, b in shapes)
    return "-".join([str(shapes[0][1])] + [str(b) for _, _, b in shapes]) if shapes else "?"


def config_topology(binary, config):
    """The config's layer widths from `pipeline validate` (model.input and each layer's units)."""
    text = tfcommon.must_run([binary, "validate", config]).stdout
    model = text[text.find("\nmodel:\n"):]
    model = model[:re.search(r"\n\S", model[1:]).start() + 1] if re.search(r"\n\S", model[1:]) else model
    widths = re.findall(r"^  input: (\d+)$", model, re.M) + re.findall(r"^      units: (\d+)$", model, re.M)
    return "-".join(widths) or "?"


def measure_engine(binary, config, threads):
    """Network::Forward's rows/s at batch 100 on `threads` OpenMP threads, from `pipeline bench`'s
    inference measurement."""
    cmd = [binary, "bench", config, "--epochs", "1", "--peer", "off", "--gemm-seconds", "0.1",
           "dataset.train.count=2000", "--threads", str(threads)]
    r = tfcommon.must_run(cmd)
    m = re.search(r"^JSON (\{.*\})$", r.stdout, re.M)
    if not m:
        raise RuntimeError(f"pipeline bench printed no JSON line:\n{r.stdout[-2000:]}")
    j = json.loads(m.group(1))
    rows_per_s = j["engine_inference_b100_per_s"]
    return {"requests": None, "requests_per_s": rows_per_s / 100, "rows_per_s": rows_per_s, "p50_ms": None,
            "p99_ms": None, "errors": 0, "topology": config_topology(binary, config),
            "clients": f"pipeline bench, {j['threads']} OpenMP thread(s), in-process"}


# ---------------------------------------------------------------- ratios, targets, the table

def best(results, kind, batch, **match):
    """The result of that kind and batch with the most requests/s (None if none ran)."""
    found = [r for r in results if r["kind"] == kind and r["batch"] == batch and r.get("requests_per_s") is not None
             and all(r.get(k) == v for k, v in match.items())]
    return max(found, key=lambda r: r["requests_per_s"], default=None)


def ratio(num, den, key="requests_per_s"):
    if num is None or den is None or not den.get(key):
        return None
    return num[key] / den[key]


def ratios_and_targets(results):
    """Issue 13's ratios and targets: ({name: value}, [{name, value, target, met}])."""
    rest_b1, grpc_b1, peer_b1 = best(results, "rest", 1), best(results, "grpc", 1), best(results, "peer", 1)
    rest_b100, grpc_b100, engine = best(results, "rest", 100), best(results, "grpc", 100), best(results, "engine", 100)
    rest_c16, grpc_c16 = best(results, "rest", 1, connections=16), best(results, "grpc", 1, connections=16)

    def named(r):
        return r["id"] if r else None

    engine_t1 = best(results, "engine", 100, threads=1)

    def ceiling(served):
        """The most rows/s any server could give at batch 100 beside this load generator, over the engine's
        best: the cores divided by the load generator's CPU per request plus one forward on one thread (the
        engine's 1-thread time, what each server request runs on), as if the server did nothing else."""
        if served is None or engine_t1 is None or engine is None or served.get("loadgen_cpu_ms") is None:
            return None
        forward_ms = 1e3 / engine_t1["requests_per_s"]
        rows = (os.cpu_count() or 1) * 1e3 / (served["loadgen_cpu_ms"] + forward_ms) * served["batch"]
        return rows / engine["rows_per_s"]

    ratios = {
        "rest_b1_over_peer_b1": {"value": ratio(rest_b1, peer_b1), "of": [named(rest_b1), named(peer_b1)]},
        "grpc_b1_over_peer_b1": {"value": ratio(grpc_b1, peer_b1), "of": [named(grpc_b1), named(peer_b1)]},
        "rest_b100_rows_over_engine_b100": {"value": ratio(rest_b100, engine, "rows_per_s"),
                                            "of": [named(rest_b100), named(engine)]},
        "grpc_b100_rows_over_engine_b100": {"value": ratio(grpc_b100, engine, "rows_per_s"),
                                            "of": [named(grpc_b100), named(engine)]},
        "rest_b100_ceiling_over_engine_b100": {"value": ceiling(rest_b100),
                                               "of": [named(rest_b100), named(engine_t1), named(engine)]},
        "grpc_b100_ceiling_over_engine_b100": {"value": ceiling(grpc_b100),
                                               "of": [named(grpc_b100), named(engine_t1), named(engine)]},
    }

    def target(name, value, goal, at_least, of):
        met = None if value is None else (value >= goal if at_least else value <= goal)
        of = " / ".join(o or "-" for o in (of if isinstance(of, list) else [of]))
        return {"name": name, "value": value, "target": f"{'>=' if at_least else '<='} {goal:g}", "met": met, "of": of}

    targets = [
        target("REST batch-1 requests/s", rest_b1 and rest_b1["requests_per_s"], TARGETS["rest_b1_rps"], True,
               named(rest_b1)),
        target("gRPC batch-1 requests/s", grpc_b1 and grpc_b1["requests_per_s"], TARGETS["grpc_b1_rps"], True,
               named(grpc_b1)),
        target("REST batch-1 p99 ms at 16 connections", rest_c16 and rest_c16["p99_ms"], TARGETS["p99_ms_at_16"], False,
               named(rest_c16)),
        target("gRPC batch-1 p99 ms at 16 streams", grpc_c16 and grpc_c16["p99_ms"], TARGETS["p99_ms_at_16"], False,
               named(grpc_c16)),
        target("REST b1 / TF peer b1 throughput", ratios["rest_b1_over_peer_b1"]["value"], TARGETS["over_peer_b1"],
               True, ratios["rest_b1_over_peer_b1"]["of"]),
        target("gRPC b1 / TF peer b1 throughput", ratios["grpc_b1_over_peer_b1"]["value"], TARGETS["over_peer_b1"],
               True, ratios["grpc_b1_over_peer_b1"]["of"]),
        target("REST b100 rows/s / engine forward b100", ratios["rest_b100_rows_over_engine_b100"]["value"],
               TARGETS["over_engine_b100"], True, ratios["rest_b100_rows_over_engine_b100"]["of"]),
        target("gRPC b100 rows/s / engine forward b100", ratios["grpc_b100_rows_over_engine_b100"]["value"],
               TARGETS["over_engine_b100"], True, ratios["grpc_b100_rows_over_engine_b100"]["of"]),
    ]
    return ratios, targets


def api_label(r):
    return {"rest": "REST", "grpc": "gRPC", "engine": "engine forward",
            "peer": {"tf1": "TF peer (TF1 Session)", "tf2": "TF peer (saved_model.load)"}.get(r.get("loader"))}[r["kind"]]


def connections_label(r):
    if r["kind"] == "rest":
        return str(r["connections"])
    if r["kind"] == "grpc":
        c, m = GRPC_STREAMS[r["connections"]]
        return f"{r['connections']} ({c}x{m})"
    if r["kind"] == "peer":
        return f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}"
    return f"in-process, {r['threads']} thread{'s' if r['threads'] > 1 else ''}"


def number(v, digits=0):
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.{digits}f}"


def ms(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.3g} ms"


def cpu_ms(v):
    return "n/a" if v is None else f"{v:.3f} ms"


def print_table(results, ratios, targets, out=sys.stdout):
    cells = [[api_label(r), str(r["batch"]), connections_label(r), number(r.get("requests_per_s")),
              number(r.get("rows_per_s")), ms(r.get("p50_ms")), ms(r.get("p99_ms")),
              "failed: " + r["failed"] if r.get("failed") else number(r.get("errors")),
              cpu_ms(r.get("server_cpu_ms")), cpu_ms(r.get("loadgen_cpu_ms"))] for r in results]
    widths = [max(len(c) for c in col) for col in zip(COLUMNS, *cells)]
    line = lambda row: "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"  # noqa: E731
    print(line(COLUMNS), file=out)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=out)
    for row in cells:
        print(line(row), file=out)
    print("\nratios:", file=out)
    for name, r in ratios.items():
        print(f"  {name}: {number(r['value'], 2)} ({' / '.join(x or '-' for x in r['of'])})", file=out)
    print("targets (issue 13):", file=out)
    for t in targets:
        verdict = "n/a (not measured)" if t["met"] is None else ("met" if t["met"] else "NOT met")
        print(f"  {t['name']} {t['target']}: {number(t['value'], 2)} ({t['of']}): {verdict}", file=out)


def print_notes(results, topology, out=sys.stdout):
    """How each kind of row was measured."""
    print("how:", file=out)
    for r in results:
        if r["kind"] == "engine" and r.get("topology"):
            same = "the export's" if r["topology"] == topology else f"NOT the export's {topology}"
            print(f"  {r['id']}: {r['clients']}; `pipeline bench` cannot take an export: it trained the config's "
                  f"topology {r['topology']} ({same}) and timed Network::Forward", file=out)
    kinds = {r["kind"] for r in results}

    def sizes(kind):
        seen = sorted({(r["batch"], r["request_bytes"]) for r in results if r["kind"] == kind and "request_bytes" in r})
        return ", ".join(f"batch {b}: {n / 1024:,.1f} KB" for b, n in seen)

    if "rest" in kinds:
        print("  REST: wrk over keep-alive, a Lua script cycling through real test images (json.dumps of numpy's "
              f"tolist(), as a Python client sends them; {sizes('rest')} per request); wrk's percentiles", file=out)
    if "grpc" in kinds:
        print(f"  gRPC: h2load, clients x streams per client as shown ({sizes('grpc')} per request); p50/p99 "
              "from its --log-file", file=out)
    if "peer" in kinds:
        print("  TF peer: predict_images called in-process, no network (TF1 loader: a Session callable on numpy; "
              "saved_model.load: the signature's function on a tf.Tensor)", file=out)


def finite(o):
    """o with every NaN or infinity (an unmeasured value) as None, for strict JSON."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: finite(v) for k, v in o.items()}
    if isinstance(o, list):
        return [finite(v) for v in o]
    return o


def write_json(path, meta, results, ratios, targets):
    keys = ("id", "kind", "batch", "connections", "threads", "loader", "clients", "topology", "request_bytes", "requests",
            "requests_per_s", "rows_per_s", "p50_ms", "p99_ms", "errors", "server_cpu_ms", "loadgen_cpu_ms", "failed")
    rows = [{k: r.get(k) for k in keys} for r in results]
    for row, r in zip(rows, results):
        row["api"], row["connections_label"] = api_label(r), connections_label(r)
    doc = {**meta, "columns": list(COLUMNS), "rows": rows, "ratios": ratios, "targets": targets}
    with open(path, "w") as f:
        json.dump(finite(doc), f, indent=2, allow_nan=False, default=str)
        f.write("\n")


# ---------------------------------------------------------------- the run

def run_row(row, measure):
    """measure() merged into row; a failure is recorded in the row (and its table cell), not fatal."""
    try:
        row.update(measure())
    except Exception as e:  # a tool missing or a server error: the other rows still run
        row["failed"] = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
        print(f"{row['id']}: {row['failed']}", file=sys.stderr)
    else:
        print(f"{row['id']}: {number(row['requests_per_s'])} requests/s, {number(row['rows_per_s'])} rows/s, "
              f"p50 {ms(row['p50_ms'])}, p99 {ms(row['p99_ms'])}", flush=True)
    return row


def run_peer_rows(tf, vdir, x, rows, args):
    makers = {"tf1": tf1_callable, "tf2": tf2_callable}
    callables = {loader: makers[loader](tf, vdir) for loader in sorted({r["loader"] for r in rows})}
    return [run_row(r, lambda r=r: measure_peer(tf, callables, x, r, args.seconds, args.warmup)) for r in rows]


def run_served_rows(tf, base, x, rows, args, tmp):
    """Starts `pipeline serve` on base, checks one request of each kind, runs the REST and gRPC rows."""
    server = servecommon.Server(args.binary, [f"--model_name={args.model_name}", f"--model_base_path={base}"]
                                + args.server_flag, os.path.join(tmp, "serve.log"))
    if not server.wait_ready():
        raise SystemExit("pipeline serve did not open its port:\n" + server.log_text())
    done = []
    try:
        scripts, frames, sizes = {}, {}, {}
        for b in sorted({r["batch"] for r in rows if r["kind"] == "rest"}):
            bodies = rest_bodies(x, b)
            check_rest(server, args.model_name, bodies, b)
            scripts[b] = write_wrk_script(tmp, args.model_name, bodies, b)
            sizes[("rest", b)] = sum(len(body) for body in bodies) / len(bodies)
        for b in sorted({r["batch"] for r in rows if r["kind"] == "grpc"}):
            req = grpc_request(tf, args.model_name, x[:b])
            check_grpc(tf, server.grpc_port, req, b)
            frames[b] = write_grpc_frame(tmp, req, b)
            sizes[("grpc", b)] = os.path.getsize(frames[b])
        for r in rows:
            r["request_bytes"] = sizes[(r["kind"], r["batch"])]
        for r in rows:
            if r["kind"] == "rest":
                done.append(run_row(r, lambda r=r: measure_rest(server, scripts[r["batch"]], r, args.loadgen_threads,
                                                                args.seconds, args.warmup)))
            else:
                done.append(run_row(r, lambda r=r: measure_grpc(server, frames[r["batch"]], r, args.loadgen_threads,
                                                                args.seconds, args.warmup, tmp)))
    finally:
        code = server.stop()
        if code != 0:
            print(f"warning: pipeline serve exited {code}; log:\n{server.log_text()[-2000:]}", file=sys.stderr)
    return done


def add_model_arguments(p):
    """What is served, as this script and bench/serve_soak.py take it: an export's base path or --train, the
    model name, the binary and the config."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model_base_path", help="an export's base path (holding numeric version directories)")
    src.add_argument("--train", action="store_true", help="run --config for one epoch into a temporary directory first")
    p.add_argument("--model_name", default="fashion")
    p.add_argument("--binary", default=os.path.join(SOURCE_DIR, "build", "pipeline"), help="the pipeline executable")
    p.add_argument("--config", default=os.path.join(SOURCE_DIR, "configs", "fashion_mnist.yaml"),
                   help="the config --train runs and the engine row's topology")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(p)
    p.add_argument("--train-override", action="append", default=[], metavar="KEY=VALUE",
                   help="a config override for --train (repeatable), e.g. dataset.train.count=2000")
    p.add_argument("--seconds", type=int, default=5, help="timed seconds per row (whole seconds: wrk takes no less)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds before each row (0: none)")
    p.add_argument("--rows", help="comma-separated row ids or prefixes (default: all); e.g. rest-b1-c1,grpc-b1")
    p.add_argument("--loadgen-threads", type=int, default=default_loadgen_threads(),
                   help="wrk's and h2load's threads, at most one per connection (default: half the cores, "
                        "%(default)s here)")
    p.add_argument("--server-flag", action="append", default=[], help="an extra `pipeline serve` flag (repeatable)")
    p.add_argument("--json", help="also write the table, ratios and targets to this file")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (scripts, logs, h2load logs)")
    args = p.parse_args(argv)
    args.binary = os.path.abspath(args.binary)
    if args.seconds < 1 or args.warmup < 0 or args.loadgen_threads < 1:
        p.error("--seconds and --loadgen-threads must be >= 1 and --warmup >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    rows = select_rows(args.rows)
    tmp = tempfile.mkdtemp(prefix="pipeline-bench-serve-")
    try:
        tf = tfcommon.import_tensorflow()
        if args.train:
            base = train_export(args.binary, args.config, args.train_override, tmp)
        else:
            base = os.path.abspath(args.model_base_path)
        vdir = newest_version(base)
        x = test_images(DISTINCT_IMAGES)
        topology = export_topology(args.binary, vdir)
        print(f"bench/serve.py: {vdir} ({topology}), {args.seconds} s per row after {args.warmup} s of warm-up, "
              f"{os.cpu_count()} cores", flush=True)
        results = []
        peer_rows = [r for r in rows if r["kind"] == "peer"]
        if peer_rows:
            results += run_peer_rows(tf, vdir, x, peer_rows, args)
        for r in rows:
            if r["kind"] == "engine":
                results.append(run_row(r, lambda r=r: measure_engine(args.binary, args.config, r["threads"])))
        served = [r for r in rows if r["kind"] in ("rest", "grpc")]
        if served:
            results += run_served_rows(tf, base, x, served, args, tmp)
        ratios, targets = ratios_and_targets(results)
        print()
        print_table(results, ratios, targets)
        print_notes(results, topology)
        if args.json:
            meta = {"version_dir": vdir, "export_topology": topology, "seconds": args.seconds,
                    "warmup_seconds": args.warmup, "cores": os.cpu_count(), "tensorflow": tf.__version__}
            write_json(args.json, meta, results, ratios, targets)
        return 1 if any(r.get("failed") for r in results) else 0
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
