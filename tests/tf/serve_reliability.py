"""`pipeline serve`'s REST port under many connections and a slow client (issue 13).

tests/server_http_test.cpp proves both on the bare HTTP transport with a
trivial handler; this is the whole server, on a real export:

--part connections: 1,000 TCP connections opened at once (all connected
  before any request is sent), a batch-1 predict of a different test image
  on each, all in flight together: every one of the 1,000 answers is 200 and
  equal to TF 2.21's output for its image to 1e-5, the server holds all 1,000
  connections open at the end, and after they close a normal request is
  served. The server starts with a soft RLIMIT_NOFILE of 1024 (the usual
  default; `pipeline serve` raises it to the hard limit itself, and the test
  raises its own for its 1,000 sockets): running out of descriptors there is
  a server bug, not the test's.
--part slow_client: with --rest_api_timeout_in_ms=1000 and one event loop
  (--rest_api_num_threads=1, so the slow client and everyone else share it),
  a connection dribbling a predict one byte every 0.5 s gets 408 about 1 s
  after its first byte and is closed, before it sent its request; predicts
  on other connections meanwhile are answered at once and correctly.
"""
import json
import os
import resource
import select
import selectors
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servecommon  # noqa: E402
import tfcommon  # noqa: E402
from serve_rest import max_abs, train_he_fashion  # noqa: E402

TOL = 1e-5
CONNECTIONS = 1000
SERVER_NOFILE = 1024  # the usual default soft limit (systemd, login shells)
PREDICT = "/v1/models/fashion:predict"


def train(args, tmp):
    """A small export of configs/fashion_mnist.yaml; returns (base path, version dir)."""
    base, summary = train_he_fashion(args, tmp, 2000, 500)
    return base, summary["export_dir"]


def predict_request(row):
    """A complete HTTP/1.1 keep-alive predict request for one image."""
    body = json.dumps({"signature_name": "predict_images", "instances": [row.tolist()]}).encode()
    return (f"POST {PREDICT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def parse_response(buf):
    """(status, body) of the first complete Content-Length response in buf, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").split("\r\n")
    length = 0
    for h in head[1:]:
        k, _, v = h.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    if len(buf) < end + 4 + length:
        return None
    return int(head[0].split()[1]), buf[end + 4:end + 4 + length]


def established_held(pid, port):
    """How many established TCP connections on local port `port` process pid holds
    (its socket descriptors matched with /proc/net/tcp{,6} by inode)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                cols = line.split()
                n += int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "01" and cols[9] in inodes
    return n


def raise_own_nofile(need):
    """Raises this process's soft RLIMIT_NOFILE to at least need (up to the hard limit); the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        soft = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def server_nofile():
    """In the server's child before exec: the usual default soft limit, the hard limit kept."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = SERVER_NOFILE if hard == resource.RLIM_INFINITY else min(SERVER_NOFILE, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def connect_all(port, n, deadline):
    """n non-blocking sockets, each connected (waits for every handshake); raises on a failed one."""
    sel = selectors.DefaultSelector()
    socks = []
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, i)
    pending = n
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, f"connection {key.data}: {os.strerror(err)}")
            sel.unregister(key.fileobj)
            pending -= 1
    sel.close()
    if pending:
        raise TimeoutError(f"{pending} of {n} connections not established in time")
    return socks


def exchange_all(socks, requests, deadline):
    """Sends requests[i] on socks[i], all interleaved, and reads one response on each:
    a list of (status, body) or an error string per connection."""
    sel = selectors.DefaultSelector()
    out = [memoryview(r) for r in requests]
    got = [bytearray() for _ in socks]
    answers = [None] * len(socks)
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ, i)
    left = len(socks)
    while left and time.monotonic() < deadline:
        for key, events in sel.select(timeout=1.0):
            i, s = key.data, key.fileobj
            if events & selectors.EVENT_WRITE and out[i]:
                try:
                    out[i] = out[i][s.send(out[i]):]
                except BlockingIOError:
                    pass
                except OSError as e:
                    answers[i], out[i] = f"send: {e}", b""
                if not out[i]:
                    sel.modify(s, selectors.EVENT_READ, i)
            if events & selectors.EVENT_READ and answers[i] is None:
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError as e:
                    chunk, answers[i] = b"", f"recv: {e}"
                if chunk:
                    got[i] += chunk
                    answers[i] = parse_response(bytes(got[i]))
                elif answers[i] is None:
                    answers[i] = f"closed by the server after {len(got[i])} bytes"
            if answers[i] is not None:
                sel.unregister(s)
                left -= 1
    sel.close()
    return [a if a is not None else "no answer in time" for a in answers]


def connections_part(args):
    tf = tfcommon.import_tensorflow()
    from serve_rest import tf1_outputs
    c = tfcommon.Checks("serve reliability: 1,000 connections")
    tmp = tfcommon.mkdtemp("serve-conns")
    x, _ = tfcommon.fashion_test_set()
    x = x[:CONNECTIONS]

    def body():
        base, vdir = train(args, tmp)
        want = tf1_outputs(tf, vdir, "predict_images", x)[0]["outputs"]
        limit = raise_own_nofile(CONNECTIONS + 200)
        if not c.check(limit >= CONNECTIONS + 200, f"RLIMIT_NOFILE hard limit {limit} is below the test's "
                                                   f"{CONNECTIONS + 200} descriptors"):
            return
        server = servecommon.Server(args.binary, ["--model_name=fashion", f"--model_base_path={base}"],
                                    os.path.join(tmp, "serve.log"), preexec_fn=server_nofile)
        if not c.check(server.wait_ready(), "the server did not start:\n" + server.log_text()):
            return
        try:
            with open(f"/proc/{server.proc.pid}/limits") as f:
                nofile = next(line for line in f if line.startswith("Max open files"))
            baseline = len(os.listdir(f"/proc/{server.proc.pid}/fd"))
            c.note(f"server: {baseline} descriptors open before the test; {' '.join(nofile.split())}")
            deadline = time.monotonic() + 40
            start = time.monotonic()
            socks = connect_all(server.rest_port, CONNECTIONS, deadline)
            connected = time.monotonic() - start
            answers = exchange_all(socks, [predict_request(row) for row in x], deadline)
            held = established_held(server.proc.pid, server.rest_port)
            c.check(held == CONNECTIONS, f"the server holds {held} established REST connections after answering, "
                                         f"not the {CONNECTIONS} open ones (did it shed some?)")
            bad = []
            for i, a in enumerate(answers):
                if isinstance(a, str):
                    bad.append(f"connection {i}: {a}")
                    continue
                status, reply = a
                preds = json.loads(reply).get("predictions") if status == 200 else None
                if preds is None or max_abs(preds, want[i:i + 1]) > TOL:
                    bad.append(f"connection {i}: {status} {reply[:200]!r}")
            c.check(not bad, f"{len(bad)} of {CONNECTIONS} answers wrong or missing, e.g. {bad[:3]}\n"
                             f"server log tail:\n{server.log_text()[-1500:]}")
            c.note(f"{CONNECTIONS} connections established in {connected:.2f} s, {CONNECTIONS - len(bad)} answers "
                   f"equal to TF's, {time.monotonic() - start:.2f} s in all; the server held {held} of them at once")
            for s in socks:
                s.close()
            st, reply, _ = servecommon.http(server, "POST", PREDICT,
                                            {"signature_name": "predict_images", "instances": x[:1].tolist()})
            c.check(st == 200 and max_abs(reply.get("predictions"), want[:1]) <= TOL,
                    f"after the 1,000 connections closed: {st} {str(reply)[:200]}")
        finally:
            code = server.stop()
            c.check(code == 0, f"SIGTERM: exit {code}")

    tfcommon.run_checks(c, tmp, body)


class Dribbler(threading.Thread):
    """One connection sending `request` one byte every `interval` seconds until the
    server answers or closes: .sent bytes, .response, .answered_after (seconds after the first byte)."""

    def __init__(self, port, request, interval, give_up):
        super().__init__()
        self.port, self.request, self.interval, self.give_up = port, request, interval, give_up
        self.sent, self.response, self.answered_after, self.closed = 0, b"", None, False

    def run(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            first = time.monotonic()
            while self.sent < len(self.request) and time.monotonic() - first < self.give_up:
                s.sendall(self.request[self.sent:self.sent + 1])
                self.sent += 1
                readable, _, _ = select.select([s], [], [], self.interval)
                if readable:
                    self.answered_after = time.monotonic() - first
                    break
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        self.closed = True
                        break
                    self.response += chunk
            except OSError:
                self.closed = True


def slow_client_part(args):
    # No TensorFlow call here, but the venv's numpy and the skip rule are the
    # conformance suite's: without the venv (a machine without PyPI) it is
    # skipped by name, as every tests/tf/ script is.
    tfcommon.import_tensorflow()
    c = tfcommon.Checks("serve reliability: a slow client")
    tmp = tfcommon.mkdtemp("serve-slow")
    x, _ = tfcommon.fashion_test_set()
    timeout_ms = 1000

    def body():
        base, _ = train(args, tmp)
        server = servecommon.Server(args.binary, ["--model_name=fashion", f"--model_base_path={base}",
                                                  f"--rest_api_timeout_in_ms={timeout_ms}",
                                                  "--rest_api_num_threads=1"], os.path.join(tmp, "serve.log"))
        if not c.check(server.wait_ready(), "the server did not start:\n" + server.log_text()):
            return
        try:
            good = {"signature_name": "predict_images", "instances": x[:1].tolist()}
            st, want, _ = servecommon.http(server, "POST", PREDICT, good)
            if not c.check(st == 200 and len(want.get("predictions", [])) == 1, f"a first predict: {st} {want}"):
                return
            request = predict_request(x[1])
            slow = Dribbler(server.rest_port, request, 0.5, give_up=10)
            slow.start()
            latencies, wrong = [], []
            while slow.is_alive():
                t0 = time.monotonic()
                st, reply, _ = servecommon.http(server, "POST", PREDICT, good, timeout=5)
                latencies.append(time.monotonic() - t0)
                if st != 200 or reply != want:
                    wrong.append(f"{st} {str(reply)[:200]}")
                time.sleep(0.05)
            slow.join()
            status = servecommon.status_line(slow.response)
            c.check(status.startswith("HTTP/1.1 408"), f"the slow client got {status!r}, expected 408 "
                                                       f"(after {slow.sent} bytes, {slow.answered_after} s)")
            after = slow.answered_after
            c.check(after is not None and timeout_ms / 1e3 - 0.1 <= after <= timeout_ms / 1e3 + 1.5,
                    f"the 408 came {after} s after the first byte, --rest_api_timeout_in_ms={timeout_ms}")
            c.check(slow.sent < len(request), f"the slow client sent all {slow.sent} bytes before its answer")
            c.check(slow.closed, "the connection stayed open after the 408")
            c.check(len(latencies) >= 5 and not wrong, f"{len(latencies)} requests answered meanwhile, "
                                                       f"{len(wrong)} wrong: {wrong[:3]}")
            c.check(max(latencies, default=9) < 0.5, f"a request during the slow client's dribble waited "
                                                      f"{max(latencies, default=9):.3f} s (a byte comes each 0.5 s)")
            c.note(f"slow client: {status!r} {after:.2f} s after its first byte, after {slow.sent} of "
                   f"{len(request)} bytes; meanwhile {len(latencies)} predicts on the same event loop, slowest "
                   f"{max(latencies) * 1e3:.1f} ms" if after is not None else "slow client: no answer")
            st, reply, _ = servecommon.http(server, "POST", PREDICT, good)
            c.check(st == 200 and reply == want, f"after the slow client: {st} {str(reply)[:200]}")
        finally:
            code = server.stop()
            c.check(code == 0, f"SIGTERM: exit {code}")

    tfcommon.run_checks(c, tmp, body)


if __name__ == "__main__":
    args = tfcommon.parse_args(lambda p: p.add_argument("--part", required=True, choices=["connections", "slow_client"]))
    (connections_part if args.part == "connections" else slow_client_part)(args)
