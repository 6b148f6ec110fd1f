#!/usr/bin/env python3
"""Checks the include graph of the sources: no cycles, and the folder rules below.

  scripts/check-includes.py [ROOT]      check ROOT (default: this script's tree)
  scripts/check-includes.py --self-test plant a cycle and a forbidden include in
                                        a scratch tree and expect both reported

Reads every `#include "..."` line of the .h/.cpp/.cc files under ROOT (not
build*/ or hidden directories) and builds three graphs:
  - files: a header or source file -> the files it includes;
  - units: `x.h` and `x.cpp` are one unit `x`, so a.cpp including b.h while
    b.cpp includes a.h is a cycle (neither header needs the other, but neither
    unit can be understood, tested or moved without the other);
  - folders: the top-level folder of the including file -> that of the included.
A cycle in any graph fails, printed as a path that closes on itself. So does
an include that the folder tables below forbid (MAY_INCLUDE_ONLY,
MUST_NOT_INCLUDE). ctest runs this (CMakeLists.txt).
"""
import os
import re
import sys
import tempfile

# Which top-level folders a folder may include besides itself. A folder not
# listed here may include anything the table below allows (the cycle checks
# still apply). When a folder is added or split, add its row: the lower layers
# list what they may use, so a new dependency on a higher layer fails here.
MAY_INCLUDE_ONLY = {
    "common": [],
    "proto": [],
    "engine": ["common"],
    # engine/optimizer_config.h: the hyperparameters config fills;
    # export/signature_rules.h: TF Serving's rules, which validation reports at file:line:col.
    "config": ["common", "engine", "export"],
    "data": ["common", "config"],
    # records/: the run records the writers, the sweep runner and the report share.
    "records": ["common"],
    # dist/: the collectives of data-parallel training; the engine never includes it.
    "dist": ["common"],
    "report": ["common", "config", "records"],
    "tfformat": ["common", "proto"],
    "export": ["common", "proto", "tfformat"],
    # serving must never reach the training engine or the config.
    "serving": ["common", "proto", "tfformat"],
    # the model server: transport, REST API and lifecycle over serving/.
    "server": ["common", "proto", "tfformat", "serving"],
}
# Folders a folder must not include, whatever else it includes.
MUST_NOT_INCLUDE = {
    "stages": ["cli", "sweep", "bench", "report"],
    "sweep": ["cli", "bench"],
    "bench": ["cli", "sweep"],
}
# Folders outside the layering: tests and fuzz targets may include anything.
# Their includes still count for cycles.
UNRESTRICTED = {"tests", "fuzz"}
# Unit cycles known today and owned by work in progress elsewhere: the units
# involved, and who removes the cycle. A unit cycle among only these units is
# reported but does not fail; an entry no cycle matches any more fails, so that
# its line is deleted here (and cannot hide a new cycle later).
KNOWN_CYCLES = {}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE_EXT = (".h", ".hpp", ".cpp", ".cc")


def source_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith(".") and not (rel_dir == "." and d.startswith("build")))
        for f in sorted(filenames):
            if f.endswith(SOURCE_EXT):
                yield os.path.normpath(os.path.join(rel_dir, f))


def resolve(root, including, target):
    """The repository path an include names, or None (system or generated header)."""
    for base in ("", os.path.dirname(including)):
        p = os.path.normpath(os.path.join(base, target))
        if os.path.isfile(os.path.join(root, p)):
            return p
    if target.endswith(".pb.h"):  # generated from proto/*.proto into the build tree
        proto = target[: -len(".pb.h")] + ".proto"
        if os.path.isfile(os.path.join(root, proto)):
            return target
    return None


def unit(path):
    stem = path
    for ext in (".pb.h",) + SOURCE_EXT:
        if stem.endswith(ext):
            return stem[: -len(ext)]
    return stem


def folder(path):
    return path.split(os.sep)[0] if os.sep in path else "."


def read_includes(root):
    """[(file, line number, included file)] for every resolvable quoted include."""
    edges = []
    for f in source_files(root):
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if m:
                    target = resolve(root, f, m.group(1))
                    if target is not None:
                        edges.append((f, n, target))
    return edges


def shortest_cycle(graph, comp, start):
    """[start, ..., start], breadth-first inside the strongly connected component comp."""
    prev, frontier, last = {start: None}, [start], None
    while frontier and last is None:
        nxt = []
        for v in frontier:
            for w in sorted(graph.get(v, ())):
                if w not in comp:
                    continue
                if w == start:
                    last = v
                    break
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
            if last is not None:
                break
        frontier = nxt
    path = []
    v = last
    while v is not None and v != start:
        path.append(v)
        v = prev[v]
    return [start] + list(reversed(path)) + [start]


def find_cycles(graph):
    """Each cycle once, as a list of nodes [a, b, ..., a], via the strongly
    connected components (Tarjan): one shortest cycle per component."""
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = [0]

    def strongconnect(v):
        # iterative Tarjan, so deep graphs do not hit the recursion limit
        work = [(v, iter(sorted(graph.get(v, ()))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    advanced = True
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1 or node in graph.get(node, ()):
                    comps.append(set(comp))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)

    cycles = []
    for comp in comps:
        covered = set()
        for start in sorted(comp):  # a shortest cycle through each node no earlier one passed
            if start in covered:
                continue
            cyc = shortest_cycle(graph, comp, start)
            covered.update(cyc)
            cycles.append(cyc)
    return sorted(cycles)


def check(root, known=None):
    """(problems, notes, number of includes) under root; known: KNOWN_CYCLES."""
    known = KNOWN_CYCLES if known is None else known
    edges = read_includes(root)
    problems = []
    graphs = {"file": {}, "unit": {}, "folder": {}}
    witness = {}  # (kind, a, b) -> "file:line" of one include behind the edge
    for f, n, t in edges:
        for kind, key in (("file", lambda p: p), ("unit", unit), ("folder", folder)):
            a, b = key(f), key(t)
            if a == b:
                continue
            graphs[kind].setdefault(a, set()).add(b)
            witness.setdefault((kind, a, b), f"{f}:{n}")
        src, dst = folder(f), folder(t)
        if src == dst or src in UNRESTRICTED:
            continue
        if src in MAY_INCLUDE_ONLY and dst not in MAY_INCLUDE_ONLY[src]:
            allowed = ", ".join(MAY_INCLUDE_ONLY[src]) or "nothing outside it"
            problems.append(f"{f}:{n}: {src}/ may include only {allowed} (MAY_INCLUDE_ONLY), not {t}")
        if dst in MUST_NOT_INCLUDE.get(src, ()):
            problems.append(f"{f}:{n}: {src}/ must not include {dst}/ (MUST_NOT_INCLUDE): {t}")
    notes, seen = [], set()
    for kind in ("file", "unit", "folder"):
        for cyc in find_cycles(graphs[kind]):
            name = " -> ".join(cyc)
            steps = [f"{a} -> {b} ({witness[(kind, a, b)]})" for a, b in zip(cyc, cyc[1:])]
            text = f"{kind} include cycle: {name}\n    " + "\n    ".join(steps)
            group = next((g for g in known if set(cyc) <= set(g.split())), None)
            if kind == "unit" and group is not None:
                seen.add(group)
                notes.append(f"known (KNOWN_CYCLES, {known[group]}): {text}")
            else:
                problems.append(text)
    for name in sorted(set(known) - seen):
        problems.append(f"KNOWN_CYCLES lists a cycle among {name}, which no longer exists: delete its line")
    return problems, notes, len(edges)


def self_test():
    with tempfile.TemporaryDirectory(prefix="check-includes-") as root:
        files = {
            "common/a.h": '#include "common/b.h"\n',
            "common/b.h": "",
            "engine/x.h": '#include "common/a.h"\n',
            "engine/x.cpp": '#include "engine/x.h"\n#include "engine/y.h"\n',
            "engine/y.h": "",
            "engine/y.cpp": '#include "engine/y.h"\n#include "engine/x.h"\n',  # unit cycle x <-> y
            "data/d.h": '#include "stages/s.h"\n',                             # forbidden: data -> stages
            "stages/s.h": '#include "data/d.h"\n',                             # and a file cycle
        }
        for path, text in files.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as fh:
                fh.write(text)
        problems, _, _ = check(root, known={})
        text = "\n".join(problems)
        expected = [
            "unit include cycle: engine/x -> engine/y -> engine/x",
            "file include cycle: data/d.h -> stages/s.h -> data/d.h",
            "folder include cycle: data -> stages -> data",
            "data/d.h:1: data/ may include only common, config (MAY_INCLUDE_ONLY), not stages/s.h",
        ]
        missing = [e for e in expected if e not in text]
        if missing or len(problems) != 5:  # the file cycle is also a unit cycle
            print("self-test FAILED; expected:\n  " + "\n  ".join(expected) + "\ngot:\n" + text)
            return 1
        print(f"self-test ok: {len(problems)} planted problems reported")
        return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--self-test":
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    problems, notes, n = check(os.path.abspath(root))
    for p in notes + problems:
        print(p)
    if problems:
        print(f"check-includes: {len(problems)} problem(s) in {n} includes")
        return 1
    print(f"check-includes: {n} includes, no cycles, folder rules kept")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
