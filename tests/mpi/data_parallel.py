"""Data-parallel training under Open MPI's mpirun (issue 15). Skips (77) when
mpirun is absent or the binary has no MPI, unless CI=true. Parts:
  equivalence  2 ranks x 1 thread vs 1 process x 1 thread, same global batch:
               per-epoch losses agree to relative 1e-4 over 3 epochs;
  identical    two 2-rank runs give bit-identical losses;
  rank0_writes only rank 0 writes: the run directory is one process's;
  resume       SIGINT mid-run, --resume at 2 ranks ends like the uninterrupted
               run; a different world size is refused (exit 2);
  rank_death   kill -9 of one rank: mpirun exits nonzero within seconds;
  early_stop   2 ranks with train.early_stopping: rank 0 decides, every rank
               stops after the epoch Keras' rule gives on the logged curve.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tf"))
import tfcommon  # noqa: E402

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
MPIRUN = ["mpirun", "--bind-to", "none", "--oversubscribe"]


def overrides(epochs=3, count=2000):
    return [f"dataset.train.count={count}", "dataset.validation.count=500", "dataset.test.count=500",
            f"train.epochs={epochs}", "train.batch_size=100", "train.threads=1", "model.layers.0.units=64",
            "model.layers.1.units=32",
            # glorot, not the tutorial's N(0, 1): with losses in the tens, float rounding differences grow chaotically
            *(f"model.layers.{i}.kernel_initializer.type=glorot_uniform" for i in range(3)), "stages=[load,build,train,evaluate]", "train.checkpoint_every=1"]


def run(args, cmd, run_dir, np=None, extra=(), timeout=300):
    full = ([*MPIRUN, "-np", str(np)] if np else []) + [args.binary, "run", args.config, *overrides(), *extra,
                                                         "--run-dir", run_dir]
    return subprocess.run(full, capture_output=True, text=True, env=ENV, timeout=timeout)


def losses(run_dir):
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(l)["loss"] for l in f if l.strip()]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--source-dir", required=True)
    p.add_argument("--part", required=True)
    args = p.parse_args()
    if shutil.which("mpirun") is None:
        tfcommon.skip_without("no mpirun (apt-get install openmpi-bin libopenmpi-dev)")
    if not os.path.isdir(tfcommon.FASHION):
        tfcommon.skip_without(f"no Fashion-MNIST in {tfcommon.FASHION}")
    args.binary = os.path.abspath(args.binary)
    args.config = os.path.join(os.path.abspath(args.source_dir), "configs", "fashion_mnist.yaml")
    c = tfcommon.Checks(f"data_parallel --part {args.part}")
    tmp = tempfile.mkdtemp(prefix=f"pipeline-mpi-{args.part}-")
    try:
        probe = run(args, None, os.path.join(tmp, "probe"), np=2, extra=["train.epochs=1", "dataset.train.count=200"])
        if "built without MPI" in probe.stderr:
            tfcommon.skip_without("this pipeline was built without MPI (PIPELINE_MPI=OFF)")
        if args.part == "equivalence":
            one = run(args, None, os.path.join(tmp, "one"))
            two = run(args, None, os.path.join(tmp, "two"), np=2)
            c.check(one.returncode == 0, f"1 process: exit 0 ({one.returncode}: {one.stderr[-500:]})")
            c.check(two.returncode == 0, f"2 ranks: exit 0 ({two.returncode}: {two.stderr[-500:]})")
            if one.returncode == 0 and two.returncode == 0:
                a, b = losses(os.path.join(tmp, "one")), losses(os.path.join(tmp, "two"))
                rel = max(abs(x - y) / abs(x) for x, y in zip(a, b))
                c.note(f"losses 1 process {a}, 2 ranks {b}: max relative difference {rel:.3g}")
                c.check(len(a) == len(b) == 3, "3 epochs each")
                c.check(rel <= 1e-4, f"per-epoch losses agree to 1e-4 (got {rel:.3g})")
                c.check(two.stdout.count("epoch: 0003") == 1, "one epoch line per epoch (rank 0 prints)")
        elif args.part == "identical":
            r1 = run(args, None, os.path.join(tmp, "a"), np=2)
            r2 = run(args, None, os.path.join(tmp, "b"), np=2)
            c.check(r1.returncode == 0 and r2.returncode == 0, f"both exit 0 ({r1.stderr[-300:]} {r2.stderr[-300:]})")
            if r1.returncode == 0 and r2.returncode == 0:
                c.check(losses(os.path.join(tmp, "a")) == losses(os.path.join(tmp, "b")), "bit-identical losses")
        elif args.part == "rank0_writes":
            one_dir, two_dir = os.path.join(tmp, "one"), os.path.join(tmp, "two")
            run(args, None, one_dir)
            r = run(args, None, two_dir, np=2)
            c.check(r.returncode == 0, f"exit 0 ({r.stderr[-300:]})")
            names = lambda d: sorted(os.path.relpath(os.path.join(r_, f.split("events.out")[0] + ("events" if "events.out" in f else "")), d)
                                    for r_, _, fs in os.walk(d) for f in fs)
            c.check(names(two_dir) == sorted(names(one_dir) + ["world_size"]),
                    f"the 2-rank run directory holds one process's files ({names(two_dir)} vs {names(one_dir)})")
            c.check(len(json.load(open(os.path.join(two_dir, "summary.json")))["epochs"]) == 3, "summary: 3 epochs")
            with open(os.path.join(two_dir, "metrics.jsonl")) as f:
                c.check(len(f.readlines()) == 3, "metrics.jsonl: 3 lines, not one per rank")
        elif args.part == "resume":
            full, cut = os.path.join(tmp, "full"), os.path.join(tmp, "cut")
            r = run(args, None, full, np=2, extra=["train.epochs=4"])
            c.check(r.returncode == 0, f"uninterrupted: exit 0 ({r.stderr[-300:]})")
            # SIGINT to rank 1 only (not mpirun) during epoch 2: all ranks agree to stop, rank 0 checkpoints.
            cmd = [*MPIRUN, "-np", "2", args.binary, "run", args.config, *overrides(), "train.epochs=4", "--run-dir", cut]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (os.path.exists(os.path.join(cut, "metrics.jsonl"))
                                                       and os.path.getsize(os.path.join(cut, "metrics.jsonl")) > 0):
                time.sleep(0.02)
            pids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
            ranks = {}
            for pid in pids:
                try:
                    env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
                    for kv in env:
                        if kv.startswith(b"OMPI_COMM_WORLD_RANK="):
                            ranks[int(kv.split(b"=")[1])] = int(pid)
                except OSError:
                    pass
            c.check(1 in ranks, f"found rank 1's pid ({ranks})")
            if 1 in ranks:
                os.kill(ranks[1], signal.SIGINT)
            out, err = proc.communicate(timeout=120)
            c.check(proc.returncode == 130, f"interrupted run exits 130 ({proc.returncode}: {err[-500:]})")
            c.check(os.path.exists(os.path.join(cut, "checkpoint", "checkpoint.bin")), "rank 0 checkpointed")
            other = subprocess.run([args.binary, "run", args.config, *overrides(), "train.epochs=4", "--resume", cut],
                                   capture_output=True, text=True, env=ENV)
            c.check(other.returncode == 2 and "mpirun -np 2" in other.stderr,
                    f"1 process refuses a 2-rank run's --resume ({other.returncode}: {other.stderr[-300:]})")
            res = subprocess.run([*MPIRUN, "-np", "2", args.binary, "run", args.config, *overrides(), "train.epochs=4",
                                  "--resume", cut], capture_output=True, text=True, env=ENV, timeout=300)
            c.check(res.returncode == 0, f"resumed: exit 0 ({res.returncode}: {res.stderr[-500:]})")
            if res.returncode == 0 and r.returncode == 0:
                a, b = losses(full), losses(cut)
                c.note(f"uninterrupted {a}, resumed {b}")
                c.check(a == b, "resumed run's losses equal the uninterrupted run's, bit for bit")
        elif args.part == "rank_death":
            run_dir = os.path.join(tmp, "death")
            cmd = [*MPIRUN, "-np", "2", args.binary, "run", args.config, *overrides(epochs=50), "--run-dir", run_dir]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not os.path.exists(os.path.join(run_dir, "metrics.jsonl")):
                time.sleep(0.02)
            pids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
            c.check(len(pids) == 2, f"two ranks running ({pids})")
            t0 = time.monotonic()
            os.kill(int(pids[-1]), signal.SIGKILL)
            try:
                out, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            secs = time.monotonic() - t0
            c.note(f"mpirun exited {proc.returncode} {secs:.2f} s after kill -9 of one rank")
            c.check(proc.returncode != 0, "mpirun exits nonzero")
            c.check(secs < 10, f"within seconds ({secs:.1f} s)")
            c.check("signal 9" in err or "Killed" in err, f"names the killed rank: {err[-400:]}")
        elif args.part == "early_stop":
            run_dir = os.path.join(tmp, "es")
            patience, min_delta = 1, 0.1  # the curve falls by less than 0.1 an epoch after ~7
            try:
                r = run(args, None, run_dir, np=2, timeout=120,
                        extra=["train.epochs=12", f"train.early_stopping.patience={patience}",
                               f"train.early_stopping.min_delta={min_delta}", "train.keep=best"])
                code, err = r.returncode, r.stderr
            except subprocess.TimeoutExpired:
                code, err = None, "timed out after 120 s: a rank went on training alone"
            c.check(code == 0, f"exit 0, no rank left waiting ({code}: {err[-500:]})")
            if code == 0:
                with open(os.path.join(run_dir, "metrics.jsonl")) as f:
                    curve = [json.loads(l)["validation_loss"] for l in f if l.strip()]
                best, best_epoch, wait, stop = float("inf"), 0, 0, 0
                for epoch, v in enumerate(curve, 1):
                    if v < best - min_delta:
                        best, best_epoch, wait = v, epoch, 0
                    else:
                        wait += 1
                        if wait >= patience:
                            stop = epoch
                            break
                summary = json.load(open(os.path.join(run_dir, "summary.json")))
                c.note(f"validation losses {curve}; stopped_epoch {summary.get('stopped_epoch')}")
                c.check(0 < stop < 12 and stop == len(curve), f"stopped after epoch {stop} of 12 ({len(curve)} logged)")
                c.check(summary.get("stopped_epoch") == stop and summary.get("kept_epoch") == best_epoch,
                        f"summary: stopped {stop}, kept {best_epoch} ({summary.get('stopped_epoch')}, "
                        f"{summary.get('kept_epoch')})")
        else:
            print(f"unknown part {args.part}")
            return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    sys.exit(main())
