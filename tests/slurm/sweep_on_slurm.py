"""`pipeline sweep --launcher slurm` on a real one-node Slurm cluster (issue 15).

scripts/slurm-up.sh starts the cluster (CI does, in .ci/run); this test finds it
through SLURM_CONF (default /tmp/pipeline-slurm/slurm.conf) and skips (77)
when no cluster answers, unless CI=true. Parts:
  grid     a 4-trial grid on Slurm gives exactly the local launcher's results
           (every metric bit-identical: same overrides and thread count), each
           trial recorded with its array task's job id;
  asha     an ASHA sweep: each rung one array, promoted trials resume from
           their checkpoints, and the results equal the local launcher's;
  cancel   a trial whose array task is cancelled (scancel) is recorded failed
           with its job id, the others finish; a re-run submits only it;
  sigint   SIGINT of the driver cancels its array (nothing left in squeue).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tf"))
import tfcommon  # noqa: E402  (its Checks and skip rules; it needs no TensorFlow until asked)

SMALL = {"dataset.train.count": 2000, "dataset.validation.count": 1000, "dataset.test.count": 1000}


def skip(why):
    tfcommon.skip_without(f"{why}; scripts/slurm-up.sh starts a one-node cluster")


def sweep_file(path, base, grid, overrides, extra=""):
    with open(path, "w") as f:
        f.write(f"base: {base}\n")
        f.write("overrides: {" + ", ".join(f"{k}: {v}" for k, v in overrides.items()) + "}\n")
        f.write("grid:\n")
        for k, values in grid.items():
            f.write(f"  {k}: [{', '.join(str(v) for v in values)}]\n")
        f.write("export: none\n" + extra)


def run_sweep(binary, cwd, path, *flags, timeout=600):
    t0 = time.monotonic()
    r = subprocess.run([binary, "sweep", path, *flags], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return r, time.monotonic() - t0


def results(cwd, name):
    with open(os.path.join(cwd, "runs", name, "results.json")) as f:
        return {t["id"]: t for t in json.load(f)["trials"]}


METRICS = ("status", "validation_accuracy", "test_accuracy", "test_loss", "final_loss", "epochs", "threads")


def same_results(c, local, slurm, what):
    c.check(sorted(local) == sorted(slurm), f"{what}: the same trials ({sorted(local)} vs {sorted(slurm)})")
    for tid in local:
        if tid in slurm:
            diff = {m: (local[tid].get(m), slurm[tid].get(m)) for m in METRICS if local[tid].get(m) != slurm[tid].get(m)}
            c.check(not diff, f"{what}: trial {tid} equal on Slurm and locally (differs: {diff})")


def squeue(name):
    r = subprocess.run(["squeue", "-h", "-n", name, "-o", "%i %T"], capture_output=True, text=True)
    return [l.split() for l in r.stdout.splitlines() if l.strip()]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--source-dir", required=True)
    p.add_argument("--part", choices=["grid", "asha", "cancel", "sigint"], required=True)
    args = p.parse_args()
    if "SLURM_CONF" not in os.environ and os.path.exists("/tmp/pipeline-slurm/slurm.conf"):
        os.environ["SLURM_CONF"] = "/tmp/pipeline-slurm/slurm.conf"
    if shutil.which("sinfo") is None:
        skip("no Slurm client (Debian package slurm-wlm)")
    info = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    if info.returncode != 0 or not info.stdout.strip():
        skip(f"no Slurm cluster answers (SLURM_CONF={os.environ.get('SLURM_CONF', '')}): {info.stderr.strip()}")
    if not os.path.isdir(tfcommon.FASHION):
        skip(f"no Fashion-MNIST in {tfcommon.FASHION} (Debian package dataset-fashion-mnist)")
    binary = os.path.abspath(args.binary)
    args.source_dir = os.path.abspath(args.source_dir)
    base = os.path.join(args.source_dir, "configs", "fashion_mnist.yaml")
    c = tfcommon.Checks(f"sweep_on_slurm --part {args.part}")
    tmp = tempfile.mkdtemp(prefix=f"pipeline-slurm-{args.part}-")
    try:
        if args.part in ("grid", "asha"):
            grid = {"optimizer.learning_rate": [0.01, 0.05], "train.batch_size": [50, 100]}
            overrides = dict(SMALL)
            extra = ""
            if args.part == "grid":
                overrides["train.epochs"] = 2
            else:
                extra = "scheduler: {type: asha, min_epochs: 1, max_epochs: 4, reduction_factor: 2}\n"
            for where in ("local", "slurm"):
                os.makedirs(os.path.join(tmp, where))
                sweep_file(os.path.join(tmp, where, "s.yaml"), base, grid, overrides, extra)
            local, local_s = run_sweep(binary, os.path.join(tmp, "local"), "s.yaml", "--jobs", "2")
            c.check(local.returncode == 0, f"local sweep exits 0: {local.stdout[-800:]}{local.stderr}")
            slurm, slurm_s = run_sweep(binary, os.path.join(tmp, "slurm"), "s.yaml", "--launcher", "slurm",
                                       "--cpus-per-task", "1")
            c.check(slurm.returncode == 0, f"Slurm sweep exits 0: {slurm.stdout[-1500:]}{slurm.stderr}")
            arrays = re.findall(r"slurm: submitted job array (\d+) \((\d+) tasks?\)", slurm.stdout)
            expect = [4] if args.part == "grid" else [4, 2, 1]  # ASHA: rungs at 1, 2, 4 epochs
            c.check([int(n) for _, n in arrays] == expect, f"one array per batch of trials, sized {expect}: {arrays}")
            if c.check(local.returncode == 0 and slurm.returncode == 0, "both sweeps ran"):
                lr, sr = results(os.path.join(tmp, "local"), "s"), results(os.path.join(tmp, "slurm"), "s")
                same_results(c, lr, sr, args.part)
                last = {t["id"]: t.get("slurm_job", "") for t in sr.values()}
                c.check(all(re.fullmatch(r"\d+_\d+", j or "") for j in last.values()),
                        f"every trial records its array task's job id: {last}")
            if args.part == "asha":
                # Promoted trials resumed (--resume) from the previous rung's checkpoint.
                resumed = 0
                for d in os.scandir(os.path.join(tmp, "slurm", "runs", "s")):
                    cmd = os.path.join(d.path, "command.txt")
                    if d.is_dir() and os.path.exists(cmd) and "--resume" in open(cmd).read():
                        resumed += 1
                c.check(resumed == 2, f"the 2 trials promoted past the first rung resumed from their checkpoints "
                                      f"({resumed} command.txt with --resume)")
            print(f"  {args.part}: local --jobs 2 {local_s:.1f} s wall, Slurm --cpus-per-task 1 {slurm_s:.1f} s wall")
        elif args.part == "cancel":
            # Trial 1 (lr 0.05) trains long; its array task is cancelled while it runs.
            os.makedirs(os.path.join(tmp, "s"))
            cwd = os.path.join(tmp, "s")
            path = os.path.join(cwd, "cancel.yaml")
            with open(path, "w") as f:
                f.write(f"base: {base}\nexport: none\n"
                        "overrides: {" + ", ".join(f"{k}: {v}" for k, v in SMALL.items()) + "}\n"
                        "sets:\n  - {optimizer.learning_rate: 0.01, train.epochs: 1}\n"
                        "  - {optimizer.learning_rate: 0.05, train.epochs: 150}\n")
            driver = subprocess.Popen([binary, "sweep", path, "--launcher", "slurm"], cwd=cwd,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            task = None
            for _ in range(300):
                rows = [r for r in squeue("pipeline-cancel-trials") if r[0].endswith("_1") and r[1] == "RUNNING"]
                if rows:
                    task = rows[0][0]
                    break
                time.sleep(0.1)
            c.check(task is not None, "the long trial's array task runs")
            if task:
                time.sleep(1.0)
                subprocess.run(["scancel", task], check=False)
            out, _ = driver.communicate(timeout=300)
            c.check(driver.returncode == 1, f"the sweep exits 1 with a cancelled trial: {driver.returncode}\n{out[-1500:]}")
            res = results(cwd, "cancel")
            failed = [t for t in res.values() if t["status"] == "failed"]
            ok = [t for t in res.values() if t["status"] == "ok"]
            c.check(len(failed) == 1 and len(ok) == 1, f"one trial failed, one ok: {[t['status'] for t in res.values()]}")
            if failed and task:
                f = failed[0]
                c.check(f.get("slurm_job") == task and f"slurm job {task}" in f.get("error", ""),
                        f"the cancelled trial names its job {task}: {f.get('slurm_job')} / {f.get('error')}")
            # A re-run submits only the missing trial, which now runs to the end.
            again = subprocess.run([binary, "sweep", path, "--launcher", "slurm"],
                                   cwd=cwd, capture_output=True, text=True, timeout=300)
            c.check(again.returncode == 0 and " skip " in again.stdout and
                    re.search(r"submitted job array \d+ \(1 task\)", again.stdout),
                    f"the re-run skips the finished trial, submits one task and exits 0:\n"
                    f"{again.stdout[-1500:]}{again.stderr}")
        elif args.part == "sigint":
            os.makedirs(os.path.join(tmp, "s"))
            cwd = os.path.join(tmp, "s")
            sweep_file(os.path.join(cwd, "sigint.yaml"), base, {"optimizer.learning_rate": [0.01, 0.02]},
                       {**SMALL, "train.epochs": 200})
            driver = subprocess.Popen([binary, "sweep", "sigint.yaml", "--launcher", "slurm"], cwd=cwd,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            running = False
            for _ in range(300):
                if any(r[1] == "RUNNING" for r in squeue("pipeline-sigint-trials")):
                    running = True
                    break
                time.sleep(0.1)
            c.check(running, "the array's tasks run")
            t0 = time.monotonic()
            driver.send_signal(signal.SIGINT)
            out, _ = driver.communicate(timeout=120)
            c.check(driver.returncode == 1 and "interrupted by SIGINT: cancelled slurm job" in out,
                    f"the driver exits 1 naming the cancelled job: {driver.returncode}\n{out[-1500:]}")
            gone = False
            while time.monotonic() - t0 < 30:
                if not squeue("pipeline-sigint-trials"):
                    gone = True
                    break
                time.sleep(0.2)
            c.check(gone, f"no task of the array is left in squeue: {squeue('pipeline-sigint-trials')}")
            print(f"  sigint: the array left squeue {time.monotonic() - t0:.1f} s after SIGINT")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
