#!/usr/bin/env python3
"""A soak of `pipeline serve` (issue 13): steady mixed load for --minutes while its RSS is sampled.

Client threads send, without pause, a fixed mix on keep-alive connections
(each REST thread reconnects every 200 requests, so connections come and go):
REST predict at batch 1 and 100, classify at batch 10, status and metadata
GETs, and bad requests (malformed JSON, an unknown model, an unknown
signature, a short row, a malformed path), plus a thread of gRPC Predicts at
batch 1 and 100. Every answer is checked: good requests against the answer
the same request got before the load started (predictions to 1e-5 relative),
bad ones for their status code. The server's VmRSS (/proc/PID/status) is
sampled every --sample-seconds; at the end the script prints the first, min,
max and last RSS, the slope over the last 4 minutes (least squares, KB/min;
over all but the first fifth of a shorter run), the requests and failures of
each kind, and the server's exit code after SIGTERM. Not a test (not in ctest):
it needs a quiet machine and minutes.
"""
import argparse
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "tf"))
import serve  # noqa: E402  (bench/serve.py: what is served and how it is trained)
import servecommon  # noqa: E402
import tfcommon  # noqa: E402

SIGNATURE = "predict_images"
RECONNECT_EVERY = 200
SLOPE_WINDOW_S = 240.0


# ---------------------------------------------------------------- what is sent

def rest_mix(model, x):
    """[(kind, method, path, body bytes or None, expected status)]: one round of the REST mix."""
    def predict(rows):
        return json.dumps({"signature_name": SIGNATURE, "instances": rows.tolist()}).encode()

    row = x[0].tolist()
    p = f"/v1/models/{model}"
    return [
        ("predict_b1", "POST", f"{p}:predict", predict(x[:1]), 200),
        ("predict_b1", "POST", f"{p}:predict", predict(x[1:2]), 200),
        ("predict_b1", "POST", f"{p}:predict", predict(x[2:3]), 200),
        ("predict_b100", "POST", f"{p}:predict", predict(x[:100]), 200),
        ("classify_b10", "POST", f"{p}:classify", json.dumps({"examples": [{"x": r} for r in x[:10].tolist()]}).encode(),
         200),
        ("predict_b1", "POST", f"{p}:predict", predict(x[3:4]), 200),
        ("status", "GET", p, None, 200),
        ("metadata", "GET", f"{p}/metadata", None, 200),
        ("bad_json", "POST", f"{p}:predict", b'{"instances": [1, 2,', 400),
        ("bad_model", "POST", "/v1/models/nope:predict", json.dumps({"instances": [row]}).encode(), 404),
        ("bad_signature", "POST", f"{p}:predict", json.dumps({"signature_name": "nope", "instances": [row]}).encode(),
         400),
        ("bad_row", "POST", f"{p}:predict", json.dumps({"signature_name": SIGNATURE, "instances": [row[:700]]}).encode(),
         400),
        ("bad_path", "GET", "/v2/models/nope", None, 400),
    ]


def grpc_mix(tf, model, x):
    """[(kind, PredictRequest)]: one round of the gRPC mix."""
    from tensorflow_serving.apis import predict_pb2
    out = []
    for kind, rows in (("grpc_predict_b1", x[:1]), ("grpc_predict_b1", x[1:2]), ("grpc_predict_b100", x[:100])):
        req = predict_pb2.PredictRequest()
        req.model_spec.name = model
        req.model_spec.signature_name = SIGNATURE
        req.inputs["inputs"].CopyFrom(tf.make_tensor_proto(rows))
        out.append((kind, req))
    return out


# ---------------------------------------------------------------- checking answers

def same_answer(np, got, want):
    """JSON values equal, numbers to 1e-5 relative."""
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(same_answer(np, got[k], want[k]) for k in want)
    if isinstance(want, list):
        try:  # a numeric array: at once
            w = np.asarray(want, dtype=np.float64)
        except (ValueError, TypeError):  # mixed, e.g. classify's [label, score] pairs
            return isinstance(got, list) and len(got) == len(want) and all(
                same_answer(np, g, v) for g, v in zip(got, want))
        try:
            g = np.asarray(got, dtype=np.float64)
        except (ValueError, TypeError):
            return False
        return g.shape == w.shape and bool(np.allclose(g, w, rtol=1e-5, atol=1e-6))
    if isinstance(want, float) or (isinstance(want, int) and not isinstance(want, bool)):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and abs(got - want) <= 1e-6 + 1e-5 * abs(want)
    return got == want


class Tally:
    """Requests and failures per kind, with a few failure examples; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests, self.failures, self.examples = {}, {}, []

    def add(self, kind, failure=None):
        with self.lock:
            self.requests[kind] = self.requests.get(kind, 0) + 1
            if failure is not None:
                self.failures[kind] = self.failures.get(kind, 0) + 1
                if self.failures[kind] <= 2:  # the first two of each kind
                    self.examples.append(f"{kind}: {failure}")


# ---------------------------------------------------------------- the load

def rest_call(conn, method, path, body):
    conn.request(method, path, body, {"Content-Type": "application/json"} if body else {})
    r = conn.getresponse()
    return r.status, r.read()


def rest_references(port, mix):
    """The answer of each good request of the mix, asked once before the load."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    refs = []
    for kind, method, path, body, want_status in mix:
        status, data = rest_call(conn, method, path, body)
        if status != want_status:
            raise RuntimeError(f"{kind}: {status} before the load, expected {want_status}: {data[:300]!r}")
        refs.append(json.loads(data) if status == 200 else None)
    conn.close()
    return refs


def rest_worker(np, port, mix, refs, stop, tally, offset):
    conn, n = None, 0
    while not stop.is_set():
        kind, method, path, body, want_status = mix[(offset + n) % len(mix)]
        ref = refs[(offset + n) % len(mix)]
        n += 1
        if conn is None or n % RECONNECT_EVERY == 0:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            status, data = rest_call(conn, method, path, body)
        except (OSError, http.client.HTTPException) as e:
            tally.add(kind, f"{type(e).__name__}: {e}")
            conn = None
            continue
        if status != want_status:
            tally.add(kind, f"status {status}, expected {want_status}: {data[:200]!r}")
        elif ref is not None and not same_answer(np, json.loads(data), ref):
            tally.add(kind, f"answer differs from the first one: {data[:200]!r}")
        else:
            tally.add(kind)
    if conn is not None:
        conn.close()


def grpc_worker(tf, np, port, mix, stop, tally):
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        refs = [tf.make_ndarray(stub.Predict(req, timeout=60).outputs["outputs"]) for _, req in mix]
        n = 0
        while not stop.is_set():
            (kind, req), ref = mix[n % len(mix)], refs[n % len(mix)]
            n += 1
            try:
                got = tf.make_ndarray(stub.Predict(req, timeout=60).outputs["outputs"])
            except grpc.RpcError as e:
                tally.add(kind, f"{e.code()}: {e.details()}")
                continue
            ok = got.shape == ref.shape and np.allclose(got, ref, rtol=1e-5, atol=1e-6)
            tally.add(kind, None if ok else "answer differs from the first one")


# ---------------------------------------------------------------- RSS

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def sample_rss(pid, seconds, every, on_sample):
    """[(seconds since start, VmRSS KB)] every `every` seconds for `seconds`."""
    start = time.monotonic()
    samples = [(0.0, rss_kb(pid))]
    while True:
        next_at = start + every * len(samples)
        if next_at > start + seconds:
            break
        time.sleep(max(0.0, next_at - time.monotonic()))
        samples.append((time.monotonic() - start, rss_kb(pid)))
        on_sample(samples)
    return samples


def slope_kb_per_min(samples, window_s):
    """Least-squares slope (KB/min) of the samples in the last window_s seconds; the
    window used (all but the first fifth when the run is shorter than window_s + 60 s)."""
    end = samples[-1][0]
    since = end - window_s if end >= window_s + 60 else end / 5
    pts = [(t, kb) for t, kb in samples if t >= since]
    if len(pts) < 2:
        return float("nan"), since
    mt = sum(t for t, _ in pts) / len(pts)
    mk = sum(kb for _, kb in pts) / len(pts)
    var = sum((t - mt) ** 2 for t, _ in pts)
    return sum((t - mt) * (kb - mk) for t, kb in pts) / var * 60.0, since


# ---------------------------------------------------------------- the run

def report(samples, tally, code, window_s, out=sys.stdout):
    kbs = [kb for _, kb in samples]
    slope, since = slope_kb_per_min(samples, window_s)
    print(f"\nRSS (VmRSS, {len(samples)} samples over {samples[-1][0] / 60:.1f} min): first {kbs[0]:,} KB, "
          f"min {min(kbs):,} KB, max {max(kbs):,} KB, last {kbs[-1]:,} KB", file=out)
    print(f"RSS slope from minute {since / 60:.1f} to the end: {slope:+.1f} KB/min", file=out)
    total, failed = sum(tally.requests.values()), sum(tally.failures.values())
    print(f"requests: {total:,} ({total / max(samples[-1][0], 1e-9):,.0f}/s), failures: {failed}", file=out)
    for kind in sorted(tally.requests):
        print(f"  {kind:18s} {tally.requests[kind]:>10,}  failures {tally.failures.get(kind, 0)}", file=out)
    for e in tally.examples:
        print(f"  e.g. {e}", file=out)
    print(f"server exit code after SIGTERM: {code}", file=out)
    return {"rss_kb": {"first": kbs[0], "min": min(kbs), "max": max(kbs), "last": kbs[-1]},
            "slope_kb_per_min": slope, "slope_from_s": since, "samples": samples, "requests": tally.requests,
            "failures": tally.failures, "failure_examples": tally.examples, "exit_code": code}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_model_arguments(p)
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--sample-seconds", type=float, default=5.0)
    p.add_argument("--rest-threads", type=int, default=3)
    p.add_argument("--server-flag", action="append", default=[], help="an extra `pipeline serve` flag (repeatable)")
    p.add_argument("--json", help="also write the numbers (and every RSS sample) to this file")
    args = p.parse_args(argv)
    args.binary = os.path.abspath(args.binary)
    return args


def main(argv=None):
    args = parse_args(argv)
    tf = tfcommon.import_tensorflow()
    import numpy as np
    tmp = tempfile.mkdtemp(prefix="pipeline-soak-")
    try:
        base = serve.train_export(args.binary, args.config, [], tmp) if args.train else os.path.abspath(args.model_base_path)
        x, _ = tfcommon.fashion_test_set()
        server = servecommon.Server(args.binary, [f"--model_name={args.model_name}", f"--model_base_path={base}"]
                                    + args.server_flag, os.path.join(tmp, "serve.log"))
        if not server.wait_ready():
            raise SystemExit("pipeline serve did not open its port:\n" + server.log_text())
        mix = rest_mix(args.model_name, x)
        refs = rest_references(server.rest_port, mix)
        stop, tally = threading.Event(), Tally()
        workers = [threading.Thread(target=rest_worker, args=(np, server.rest_port, mix, refs, stop, tally, 5 * i))
                   for i in range(args.rest_threads)]
        workers.append(threading.Thread(target=grpc_worker,
                                        args=(tf, np, server.grpc_port, grpc_mix(tf, args.model_name, x), stop, tally)))
        for w in workers:
            w.start()
        print(f"soak: pid {server.proc.pid}, {args.minutes:g} min, {args.rest_threads} REST threads + 1 gRPC thread",
              flush=True)

        def progress(samples):
            t, kb = samples[-1]
            if len(samples) % max(1, int(60 / args.sample_seconds)) == 0:
                print(f"  {t / 60:4.1f} min: VmRSS {kb:,} KB, {sum(tally.requests.values()):,} requests, "
                      f"{sum(tally.failures.values())} failures", flush=True)

        try:
            samples = sample_rss(server.proc.pid, args.minutes * 60, args.sample_seconds, progress)
        finally:
            stop.set()
            for w in workers:
                w.join()
            code = server.stop()
        result = report(samples, tally, code, SLOPE_WINDOW_S)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
        return 0 if code == 0 and not tally.failures else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
