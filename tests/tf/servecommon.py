"""Helpers of the model-server contract tests (tests/tf/serve_*.py): start
`pipeline serve` on free loopback ports, wait for it, and speak plain HTTP to
it (urllib and raw sockets, so that nothing in between rewrites a request)."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`pipeline serve` with the given flags on free ports; stop() sends SIGTERM
    and returns the exit code. preexec_fn runs in the child before the exec
    (e.g. to set its resource limits)."""

    def __init__(self, binary, flags, log_path, rest=True, preexec_fn=None):
        self.grpc_port = free_port()
        self.rest_port = free_port() if rest else 0
        self.log_path = log_path
        self.log = open(log_path, "w")
        cmd = [binary, "serve", f"--port={self.grpc_port}", f"--rest_api_port={self.rest_port}",
               "--host=127.0.0.1"] + flags
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
        self.ready_seconds = None

    def wait_ready(self, timeout=120):
        """Waits until the REST port (else the gRPC port) accepts; False if the process died."""
        port = self.rest_port or self.grpc_port
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    self.ready_seconds = time.monotonic() - self.started
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def url(self, path):
        return f"http://127.0.0.1:{self.rest_port}{path}"

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()


def http(server, method, path, body=None, headers=None, timeout=60):
    """(status, parsed JSON body or the raw text, headers) of one request."""
    data = body if body is None or isinstance(body, bytes) else (
        body.encode() if isinstance(body, str) else json.dumps(body).encode())
    req = urllib.request.Request(server.url(path), data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw, hdrs = r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        status, raw, hdrs = e.code, e.read(), dict(e.headers)
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text), hdrs
    except ValueError:
        return status, text, hdrs


def raw_exchange(port, payload, read_timeout=10):
    """Sends raw bytes on a new connection; returns everything read until the
    server closes or read_timeout passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        try:
            s.sendall(payload)
        except OSError:
            pass  # the server may answer and close before taking the whole payload
        chunks = []
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        except (socket.timeout, ConnectionResetError):
            pass
    return b"".join(chunks)


def status_line(raw):
    return raw.split(b"\r\n", 1)[0].decode("latin-1") if raw else ""
