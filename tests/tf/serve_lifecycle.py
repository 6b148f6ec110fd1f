"""`pipeline serve`'s servable lifecycle under load (issue 13).

While client threads send predict requests without pause (keep-alive
connections, batch 1 and batch 100), the test publishes, through the base path
the server polls every 0.2 s:
  1. version 2 (a real export of ours, written by `pipeline run`): it must
     become AVAILABLE and take the traffic, version 1 END;
  2. a corrupt version 3 (a saved_model.pb that is not a protobuf): END with
     the loader's error in its status, version 2 still serving;
  3. an export killed with SIGKILL while writing (`.tmp-4-<pid>`, what our
     exporter writes before its atomic rename): never a version;
  4. the removal of version 2's directory: 2 unloads and version 1 (still on
     disk) serves again.
Every request must succeed (zero failures), each answer must equal the
answer of the version that served it (the model spec of a gRPC-free check:
the served scores match one of the versions' TF outputs to 1e-5), and the
status route must tell each state. Last, SIGTERM while requests are in
flight: the server exits 0 and no request gets an error answer.
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servecommon  # noqa: E402
import tfcommon  # noqa: E402
from serve_rest import he_layers, max_abs, tf1_outputs  # noqa: E402

TOL = 1e-5


class Load:
    """Client threads sending predict requests on keep-alive connections."""

    def __init__(self, port, bodies, threads=4):
        self.port, self.bodies = port, bodies
        self.ok = 0
        self.failures = []
        self.answers = []  # (batch index, scores)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def run(self, i):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        n = 0
        while not self.stop.is_set():
            which = (i + n) % len(self.bodies)
            n += 1
            try:
                conn.request("POST", "/v1/models/fashion:predict", self.bodies[which],
                             {"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                if r.status != 200:
                    with self.lock:
                        self.failures.append(f"{r.status} {data[:200]!r}")
                    continue
                preds = json.loads(data)["predictions"]
                with self.lock:
                    self.ok += 1
                    if n % 7 == 0:
                        self.answers.append((which, preds))
            except Exception as e:  # a reset connection is a failed request too
                with self.lock:
                    self.failures.append(f"{type(e).__name__}: {e}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.close()

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()


def main():
    args = tfcommon.parse_args()
    tf = tfcommon.import_tensorflow()
    import numpy as np
    c = tfcommon.Checks("serve lifecycle")
    tmp = tfcommon.mkdtemp("serve-lifecycle")
    x, _ = tfcommon.fashion_test_set()

    def export(seed, run):
        base = os.path.join(tmp, "models", "fashion")
        tfcommon.must_run([args.binary, "run", os.path.join(args.source_dir, "configs/fashion_mnist.yaml"),
                           "train.epochs=1", "dataset.train.count=5000", "dataset.validation.count=1000", he_layers(),
                           f"seed={seed}", f"export.path={os.path.join(tmp, run)}", "--run-dir",
                           os.path.join(tmp, run + "-run")], cwd=tmp)
        return base

    def version_states(server):
        st, body, _ = servecommon.http(server, "GET", "/v1/models/fashion")
        if st != 200:
            return {}
        return {int(v["version"]): (v["state"], v["status"]["error_message"]) for v in body["model_version_status"]}

    def wait_for(server, cond, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = version_states(server)
            if cond(states):
                return states
            time.sleep(0.05)
        c.check(False, f"timed out waiting for {what}; status {version_states(server)}")
        return version_states(server)

    def body():
        base = os.path.join(tmp, "models", "fashion")
        os.makedirs(base)
        # Two trained versions, published by renaming complete directories.
        export(1, "e1")
        export(2, "e2")
        v1_src, v2_src = os.path.join(tmp, "e1", "1"), os.path.join(tmp, "e2", "1")
        shutil.copytree(v1_src, os.path.join(base, "1"))
        rows = [x[:1], x[1:101]]
        bodies = [json.dumps({"signature_name": "predict_images", "instances": r.tolist()}) for r in rows]
        want = {v: [tf1_outputs(tf, src, "predict_images", r)[0]["outputs"] for r in rows]
                for v, src in ((1, v1_src), (2, v2_src))}
        server = servecommon.Server(args.binary, ["--model_name=fashion", f"--model_base_path={base}",
                                                  "--file_system_poll_wait_seconds=0.2"],
                                    os.path.join(tmp, "serve.log"))
        if not c.check(server.wait_ready(), "the server did not start:\n" + server.log_text()):
            return
        load = Load(server.rest_port, bodies)
        load.start()
        try:
            time.sleep(1.0)
            # 1. A new version.
            shutil.copytree(v2_src, os.path.join(base, ".incoming-2"))
            os.rename(os.path.join(base, ".incoming-2"), os.path.join(base, "2"))
            s = wait_for(server, lambda s: s.get(2, ("",))[0] == "AVAILABLE" and s.get(1, ("",))[0] == "END",
                         "version 2 AVAILABLE and 1 END")
            c.note(f"after publishing 2: {s}")
            time.sleep(1.0)
            # 2. A corrupt version.
            os.makedirs(os.path.join(base, ".incoming-3"))
            with open(os.path.join(base, ".incoming-3", "saved_model.pb"), "wb") as f:
                f.write(b"\x08\x96\x01 this is not a SavedModel")
            os.rename(os.path.join(base, ".incoming-3"), os.path.join(base, "3"))
            s = wait_for(server, lambda s: s.get(3, ("",))[0] == "END" and s[3][1] != "", "version 3 END with an error")
            c.check(s.get(2, ("",))[0] == "AVAILABLE", f"version 2 stopped serving after the corrupt 3: {s}")
            c.check("saved_model.pb" in s.get(3, ("", ""))[1], f"version 3's status does not say why: {s.get(3)}")
            c.note(f"after publishing a corrupt 3: {s}")
            # 3. An export killed with SIGKILL while it writes. Its model is
            # wide (26 MB of variables) so that the write lasts long enough to
            # be caught: the MLP's 1 MB was written between two looks on a
            # fast machine, and a finished export is a published version 4
            # that the server loads and serves.
            killed_tmp = None
            proc = subprocess.Popen([args.binary, "run", os.path.join(args.source_dir, "configs/fashion_mnist.yaml"),
                                     "train.epochs=1", "dataset.train.count=2000", "dataset.validation.count=500",
                                     he_layers((8192,)), "export.version=4", f"export.path={base}", "--run-dir",
                                     os.path.join(tmp, "killed-run")], cwd=tmp, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                names = [n for n in os.listdir(base) if n.startswith(".tmp-4-")]
                if names:
                    proc.send_signal(signal.SIGKILL)
                    killed_tmp = names[0]
                    break
                time.sleep(0.0005)
            proc.wait()
            if killed_tmp is None:
                # The export finished between two looks: make its half-written
                # state by hand (what a SIGKILL leaves), with the name it uses.
                shutil.rmtree(os.path.join(base, "4"), ignore_errors=True)
                killed_tmp = f".tmp-4-{proc.pid}"
                shutil.copytree(v2_src, os.path.join(base, killed_tmp), ignore=shutil.ignore_patterns("variables"))
                c.note("the export finished before SIGKILL could hit it; planted its .tmp directory instead")
            else:
                c.note(f"SIGKILLed the export while it wrote {killed_tmp}")
            time.sleep(1.0)
            s = version_states(server)
            c.check(4 not in s, f"a killed export became version 4: {s}")
            c.check(os.path.exists(os.path.join(base, killed_tmp)) or not os.path.exists(os.path.join(base, "4")),
                    "the killed export left a version directory")
            # 4. The newest good version removed.
            shutil.rmtree(os.path.join(base, "2"))
            s = wait_for(server, lambda s: s.get(1, ("",))[0] == "AVAILABLE" and s.get(2, ("",))[0] == "END",
                         "version 1 AVAILABLE again and 2 END")
            c.note(f"after removing 2: {s}")
            time.sleep(1.0)
        finally:
            load.finish()
        c.check(not load.failures, f"{len(load.failures)} of {load.ok + len(load.failures)} requests failed during "
                                   f"the version changes, e.g. {load.failures[:3]}")
        # Every sampled answer is one version's answer.
        mismatched = 0
        for which, preds in load.answers:
            if min(max_abs(preds, want[v][which]) for v in (1, 2)) > TOL:
                mismatched += 1
        c.check(mismatched == 0, f"{mismatched} of {len(load.answers)} sampled answers match neither version")
        c.note(f"{load.ok} requests under load, {len(load.failures)} failed; {len(load.answers)} answers "
               f"sampled, each equal to version 1's or 2's TF outputs")
        # SIGTERM with requests in flight: each gets its answer, then exit 0.
        drain = Load(server.rest_port, bodies, threads=8)
        drain.start()
        time.sleep(0.5)
        before = drain.ok
        server.proc.send_signal(signal.SIGTERM)
        code = server.proc.wait(timeout=60)
        drain.finish()
        c.check(code == 0, f"SIGTERM under load: exit {code}")
        # After the signal the listener closes and idle keep-alive connections
        # are closed, which a client sees as a disconnect on its next request
        # (HTTP allows it; clients retry). What must not happen is a non-200
        # answer: a request the server read is answered in full.
        bad = [f for f in drain.failures if f[:3].isdigit()]
        c.check(not bad, f"non-200 answers during the SIGTERM drain: {bad[:3]}")
        c.note(f"SIGTERM under 8 clients: {drain.ok - before} answered after the signal, exit {code}, "
               f"{len(drain.failures)} requests found their connection closed")
        server.log.close()

    tfcommon.run_checks(c, tmp, body)


if __name__ == "__main__":
    main()
