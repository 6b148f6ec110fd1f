"""An independent JSON Schema validator agrees with `pipeline validate` (issue 17).

check-jsonschema (PyPI, in the venv; it reads YAML 1.2 with ruamel.yaml, as
editors' YAML servers do) checks:
  1. both committed schemas against the draft 2020-12 metaschema;
  2. every file in configs/ against the schema its modeline names: all pass;
  3. the error corpus tests/data/configs/errors/*.yaml, each file one mistake,
     its `# kind:` and `# expect:` (the key path) in its first lines:
     - `pipeline validate` exits 2 naming exactly the expected key;
     - for a type, enum, unknown-key, range or required mistake the schema
       rejects the file at the same key path;
     - for a `cross_key` mistake (a rule over several keys or values, which a
       JSON Schema cannot state) the schema accepts the file: the list of what
       only our validator catches, kept true;
  4. the sweep corpus tests/data/configs/sweep_errors/*.yaml the same way, against
     `pipeline sweep --dry-run` and the sweep schema.
Not TensorFlow, but it needs the venv, so it runs as the tf tests do.
"""
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfcommon  # noqa: E402

SCHEMA_KINDS = {"type", "enum", "unknown_key", "range", "required"}


def run_check_jsonschema(schema, files):
    """check-jsonschema's JSON report of `files` against `schema`."""
    exe = os.path.join(os.path.dirname(sys.executable), "check-jsonschema")
    r = subprocess.run([exe, "--schemafile", schema, "-o", "json", "--verbose", *files],
                       capture_output=True, text=True)
    return json.loads(r.stdout)


def key_path(jsonpath):
    """'$.model.layers[0].units' -> 'model.layers.0.units';
    "$.grid['train.epochs']" -> 'grid.train.epochs'."""
    p = re.sub(r"\[(\d+)\]", r".\1", jsonpath)
    p = re.sub(r"\['([^']*)'\]", r".\1", p)
    return p[2:] if p.startswith("$.") else ("" if p == "$" else p)


def schema_paths(error):
    """The key paths one check-jsonschema error names. An unknown or missing key
    is reported at its parent map, with the key in the message; a oneOf (a
    layer) by its best-matching branch's error."""
    found = set()
    for e in [error.get("best_match", error)]:
        base = key_path(e["path"])
        m = re.search(r"\('([^']+)' (?:was|were) unexpected\)", e["message"])
        if m:
            found.add(".".join(x for x in (base, m.group(1)) if x))
            continue
        m = re.match(r"'([^']+)' is a required property", e["message"])
        if m:
            found.add(".".join(x for x in (base, m.group(1)) if x))
            continue
        found.add(base)
    return found


def header(path):
    kind = expect = None
    with open(path) as f:
        for line in f:
            if line.startswith("# kind: "):
                kind = line[len("# kind: "):].strip()
            elif line.startswith("# expect: "):
                expect = line[len("# expect: "):].strip()
    return kind, expect


def our_paths(output):
    return {m.group(1) for m in re.finditer(r"^\S+?(?::\d+:\d+)?: error: ([^:\s]+): ", output, re.M)}


def check_corpus(c, files, schema, our_cmd, counts):
    report = run_check_jsonschema(schema, files)
    by_file = {}
    for e in report.get("errors", []):
        by_file.setdefault(e["filename"], set()).update(schema_paths(e))
    parse_failed = {e.get("filename") for e in report.get("parse_errors", [])}
    for f in files:
        name = os.path.relpath(f, c.source_dir)
        kind, expect = header(f)
        if not c.check(kind and expect, f"{name}: has # kind: and # expect: lines"):
            continue
        r = subprocess.run(our_cmd(f), capture_output=True, text=True)
        ours = our_paths(r.stderr)
        c.check(r.returncode == 2 and ours == {expect},
                f"{name}: pipeline exits 2 naming {expect} (exit {r.returncode}, named {sorted(ours)})")
        c.check(f not in parse_failed, f"{name}: check-jsonschema reads it")
        theirs = by_file.get(f, set())
        if kind in SCHEMA_KINDS:
            agreed = theirs == {expect}
            c.check(agreed, f"{name} ({kind}): the schema rejects it at {expect} (it named {sorted(theirs)})")
            counts["agree"] += agreed
        else:
            c.check(kind == "cross_key", f"{name}: kind {kind} is one of {sorted(SCHEMA_KINDS)} or cross_key")
            c.check(not theirs, f"{name} (cross_key): only our validator catches it, the schema accepts it "
                                f"(it named {sorted(theirs)})")
            counts["ours_only"].append(f"{os.path.basename(f)[:-5]}")


def main():
    args = tfcommon.parse_args()
    try:
        import check_jsonschema  # noqa: F401
    except ImportError as e:
        tfcommon.skip_without(f"check-jsonschema is not importable ({e})")
    c = tfcommon.Checks("json_schema_agrees")
    c.source_dir = args.source_dir
    src = args.source_dir
    pipeline_schema = os.path.join(src, "schemas", "pipeline.schema.json")
    sweep_schema = os.path.join(src, "schemas", "sweep.schema.json")

    exe = os.path.join(os.path.dirname(sys.executable), "check-jsonschema")
    r = subprocess.run([exe, "--check-metaschema", pipeline_schema, sweep_schema], capture_output=True, text=True)
    c.check(r.returncode == 0, f"both schemas are valid draft 2020-12 schemas: {r.stdout}{r.stderr}")

    configs = sorted(glob.glob(os.path.join(src, "configs", "**", "*.yaml"), recursive=True))
    c.check(len(configs) >= 7, f"configs/ holds the example configs ({len(configs)})")
    for f in configs:
        with open(f) as fh:
            first = fh.readline().strip()
        m = re.match(r"# yaml-language-server: \$schema=(\S+)$", first)
        if not c.check(m, f"{f}: first line names its schema"):
            continue
        schema = os.path.normpath(os.path.join(os.path.dirname(f), m.group(1)))
        report = run_check_jsonschema(schema, [f])
        c.check(report.get("status") == "ok", f"{os.path.relpath(f, src)} passes {os.path.basename(schema)}: "
                                              f"{report.get('errors')} {report.get('parse_errors')}")

    counts = {"agree": 0, "ours_only": []}
    config_cases = sorted(glob.glob(os.path.join(src, "tests", "data", "configs", "errors", "*.yaml")))
    sweep_cases = sorted(glob.glob(os.path.join(src, "tests", "data", "configs", "sweep_errors", "*.yaml")))
    c.check(len(config_cases) >= 40 and len(sweep_cases) >= 8,
            f"the corpora hold their cases ({len(config_cases)} config, {len(sweep_cases)} sweep)")
    check_corpus(c, config_cases, pipeline_schema, lambda f: [args.binary, "validate", f], counts)
    check_corpus(c, sweep_cases, sweep_schema, lambda f: [args.binary, "sweep", f, "--dry-run"], counts)
    c.note(f"{counts['agree']} cases rejected by both at the same key path; "
           f"{len(counts['ours_only'])} caught only by pipeline: {', '.join(counts['ours_only'])}")
    c.finish()


if __name__ == "__main__":
    main()
