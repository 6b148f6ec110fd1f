"""bench/serve.py, the serving benchmark, runs and prints its table (issue 13).

A smoke test, not a speed test (speed claims never live in the suite): one
short row each of REST (wrk), gRPC (h2load) and the in-process TF peer on an
export `--train` makes, then checks the table has every column, each row a
number in every numeric column, the ratio and target lines, and the same in
the --json file. The numbers themselves are not checked.
"""
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfcommon  # noqa: E402

ROWS = {"rest-b1-c1": "REST", "grpc-b1-c1": "gRPC", "peer-tf2-b1-t1": "TF peer (saved_model.load)"}
COLUMNS = ["API", "batch", "connections", "requests/s", "rows/s", "p50", "p99", "errors", "server CPU/req",
           "loadgen CPU/req"]
RATIOS = ["rest_b1_over_peer_b1", "grpc_b1_over_peer_b1", "rest_b100_rows_over_engine_b100",
          "grpc_b100_rows_over_engine_b100", "rest_b100_ceiling_over_engine_b100", "grpc_b100_ceiling_over_engine_b100"]
TARGETS = 8
NUMBER = re.compile(r"^[\d,]+(\.\d+)?( ms)?$")


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def main():
    args = tfcommon.parse_args()
    missing = [t for t in ("wrk", "h2load") if shutil.which(t) is None]
    if missing:
        tfcommon.skip_without(f"{', '.join(missing)} not installed (Debian packages wrk, nghttp2-client)")
    c = tfcommon.Checks("serve bench smoke")
    tmp = tfcommon.mkdtemp("serve-bench")

    def body():
        out = os.path.join(tmp, "bench.json")
        r = tfcommon.run([sys.executable, os.path.join(args.source_dir, "bench", "serve.py"),
                          "--binary", os.path.abspath(args.binary), "--train", "--train-override",
                          "dataset.train.count=2000", "--seconds", "1", "--warmup", "0", "--rows", ",".join(ROWS),
                          "--json", out], cwd=tmp, timeout=120)
        if r.returncode == tfcommon.SKIP:  # no TensorFlow, outside CI (tfcommon.import_tensorflow)
            print(r.stdout)
            sys.exit(tfcommon.SKIP)
        if not c.check(r.returncode == 0, f"bench/serve.py exited {r.returncode}:\n{r.stdout}\n{r.stderr[-3000:]}"):
            return
        lines = r.stdout.splitlines()
        table = [cells(line) for line in lines if line.startswith("| ")]
        c.check(table and table[0] == COLUMNS, f"table header {table[:1]}, expected {COLUMNS}")
        body_rows = table[1:]
        c.check(sorted(row[0] for row in body_rows) == sorted(ROWS.values()),
                f"table rows {[row[0] for row in body_rows]}, expected {sorted(ROWS.values())}")
        for row in body_rows:
            c.check(len(row) == len(COLUMNS) and all(NUMBER.match(v) for v in row[3:7]) and row[7] == "0",
                    f"row {row}: a numeric column is not a number, or errors is not 0")
            served = row[0] in ("REST", "gRPC")  # the CPU columns: measured for served rows only
            c.check(len(row) == len(COLUMNS) and all(bool(NUMBER.match(v)) == served and (served or v == "n/a")
                                                     for v in row[8:10]),
                    f"row {row}: CPU per request should be {'numbers' if served else 'n/a'}")
        text = "\n".join(lines)
        for name in RATIOS:
            c.check(re.search(rf"^  {name}: ", text, re.M) is not None, f"no ratio line {name}")
        verdicts = re.findall(r"^  .*: (met|NOT met|n/a \(not measured\))$", text[text.find("targets (issue 13):"):], re.M)
        c.check(len(verdicts) == TARGETS, f"{len(verdicts)} target lines with a verdict, expected {TARGETS}:\n{text}")
        with open(out) as f:
            j = json.load(f)
        c.check(j.get("columns") == COLUMNS, f"JSON columns {j.get('columns')}")
        ids = [row.get("id") for row in j.get("rows", [])]
        c.check(sorted(ids) == sorted(ROWS), f"JSON row ids {ids}")
        for row in j.get("rows", []):
            c.check(all(isinstance(row.get(k), (int, float)) and row[k] > 0
                        for k in ("requests_per_s", "rows_per_s", "p50_ms", "p99_ms")),
                    f"JSON row {row.get('id')}: a measured value is missing: {row}")
        c.check(sorted(j.get("ratios", {})) == sorted(RATIOS) and len(j.get("targets", [])) == TARGETS,
                f"JSON ratios {sorted(j.get('ratios', {}))}, {len(j.get('targets', []))} targets")
        c.note(f"bench/serve.py printed {len(body_rows)} rows with all {len(COLUMNS)} columns, "
               f"{len(RATIOS)} ratios and {len(verdicts)} targets")

    tfcommon.run_checks(c, tmp, body)


if __name__ == "__main__":
    main()
