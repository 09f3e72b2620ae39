#!/usr/bin/env python3
"""Accuracy of `kl` next to PyTorch on the high-precision reference cases (cases.json).

How to run (from the repository root):

    cargo build --release -p klc                      # builds target/release/klc
    python3 -m venv tests/reference/.venv             # git-ignored
    tests/reference/.venv/bin/pip install mpmath torch   # CPU build from PyPI is enough
    tests/reference/.venv/bin/python tests/reference/accuracy_table.py [--klc PATH] [--out PATH]

It needs: the `klc` binary (default target/release/klc relative to the repository root, or
--klc PATH), Python 3 with torch and mpmath. It writes tests/reference/ACCURACY.md (or --out).
CI does not run this script: it needs PyTorch, which the CI image does not have, and its
output is documentation, not a test. The Rust tests check `kl` against the same cases.

What it does, for every case in cases.json:

  1. ours: `klc eval EXPR --data FILE.json` (f64), with the case's data written to a temp file;
  2. PyTorch: the expression translated to torch.distributions in float64, the way a PyTorch
     user writes it: Normal(loc, scale) with var / log_scale / precision turned into a scale by
     sqrt / exp / rsqrt; MultivariateNormal(loc, covariance_matrix= | scale_tril= |
     precision_matrix=); LowRankMultivariateNormal(loc, cov_factor, cov_diag);
     `.to_event(n)` / `Independent(P, n)` = Independent(P, n); `.expand([..])` = P.expand(..);
     `diag(v)` = torch.diag_embed(v); `P || Q` = kl_divergence(P, Q); log_prob(P, x) =
     P.log_prob(x); entropy(P) = P.entropy(). Argument validation stays at PyTorch's default.
     Pairs PyTorch has no KL for (NotImplementedError) are recorded as "n/a (not implemented)";
  3. the error of each against the mpmath reference: max over the entries of |x - ref| / |ref|,
     or |x - ref| where ref is exactly 0 (the `P || P` cases). A NaN, an infinity where the
     reference is finite, or a wrong shape counts as an infinite error.

Optionally (on by default, --no-f32 to skip) the well_conditioned and near_equal cases are also
run in float32, by `klc eval --dtype f32` and by PyTorch with float32 tensors. Both get the same
inputs rounded to f32, so their reference is recomputed in mpmath (with generate.py's evaluator,
60 digits) for exactly those rounded inputs: the f32 errors measure the arithmetic, not the
rounding of the inputs.

The output is deterministic for given versions of torch and kl (PyTorch runs single-threaded).
"""

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import warnings

import mpmath
from mpmath import mp, mpf

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CASES = os.path.join(HERE, "cases.json")
CLASSES = ("well_conditioned", "near_equal", "extreme_scale", "ill_conditioned")
F32_CLASSES = ("well_conditioned", "near_equal")
NA = "n/a (not implemented)"

mp.dps = 60


# ----------------------------------------------------------------------------------------------
# A recursive-descent parser for the expressions in cases.json (a subset of the kl language).
#
#   query := dist '||' dist | 'log_prob' '(' dist ',' arg ')' | 'entropy' '(' dist ')'
#   dist  := prim ( '.' 'to_event' '(' INT ')' | '.' 'expand' '(' '[' INT {',' INT} ']' ')' )*
#   prim  := 'Normal' '(' arg ',' [KIND '='] arg ')'
#          | 'MultivariateNormal' '(' arg ',' KIND '=' arg ')'
#          | 'LowRankMultivariateNormal' '(' arg ',' 'cov_factor' '=' arg ',' 'cov_diag' '=' arg ')'
#          | 'Independent' '(' dist ',' INT ')'
#   arg   := NAME | NUMBER | 'diag' '(' arg ')'
#
# Nodes are tuples: ("kl", p, q), ("log_prob", p, x), ("entropy", p), ("normal", loc, kind, s),
# ("mvn", loc, kind, m), ("lowrank", loc, W, D), ("family", name, [(keyword or None, arg)]) for
# every other family, ("indep", base, n), ("expand", base, shape),
# ("name", s), ("num", float), ("diag", arg).
# ----------------------------------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(\|\|)|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|([A-Za-z_]\w*)|(.))")


def tokenize(src):
    toks, pos = [], 0
    src = src.strip()
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if not m:
            raise SyntaxError(f"cannot tokenize {src[pos:]!r}")
        pos = m.end()
        op, num, ident, punct = m.groups()
        if op:
            toks.append(("op", op))
        elif num:
            toks.append(("num", num))
        elif ident:
            toks.append(("id", ident))
        elif punct and not punct.isspace():
            toks.append(("op", punct))
    return toks


class Parser:
    def __init__(self, src):
        self.src = src
        self.toks = tokenize(src)
        self.i = 0

    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("eof", None)

    def take(self, kind=None, value=None):
        t = self.peek()
        if (kind and t[0] != kind) or (value and t[1] != value):
            raise SyntaxError(f"in {self.src!r}: expected {value or kind}, found {t[1]!r}")
        self.i += 1
        return t[1]

    def accept(self, value):
        if self.peek()[1] == value:
            self.i += 1
            return True
        return False

    def query(self):
        t = self.peek()
        if t == ("id", "log_prob") and self.peek(1)[1] == "(":
            self.take()
            self.take("op", "(")
            p = self.dist()
            self.take("op", ",")
            x = self.arg()
            self.take("op", ")")
            node = ("log_prob", p, x)
        elif t == ("id", "entropy") and self.peek(1)[1] == "(":
            self.take()
            self.take("op", "(")
            p = self.dist()
            self.take("op", ")")
            node = ("entropy", p)
        else:
            p = self.dist()
            self.take("op", "||")
            node = ("kl", p, self.dist())
        if self.peek()[0] != "eof":
            raise SyntaxError(f"in {self.src!r}: trailing {self.peek()[1]!r}")
        return node

    def dist(self):
        d = self.prim()
        while self.accept("."):
            meth = self.take("id")
            self.take("op", "(")
            if meth == "to_event":
                d = ("indep", d, int(self.take("num")))
            elif meth == "expand":
                self.take("op", "[")
                shape = [int(self.take("num"))]
                while self.accept(","):
                    shape.append(int(self.take("num")))
                self.take("op", "]")
                d = ("expand", d, tuple(shape))
            else:
                raise SyntaxError(f"in {self.src!r}: unknown method {meth}")
            self.take("op", ")")
        return d

    def kwarg(self):
        if self.peek()[0] == "id" and self.peek(1)[1] == "=":
            k = self.take("id")
            self.take("op", "=")
            return k, self.arg()
        return None, self.arg()

    def prim(self):
        name = self.take("id")
        self.take("op", "(")
        if name == "Normal":
            loc = self.arg()
            self.take("op", ",")
            kind, s = self.kwarg()
            node = ("normal", loc, kind or "pos", s)
        elif name == "MultivariateNormal":
            loc = self.arg()
            self.take("op", ",")
            kind, m = self.kwarg()
            assert kind in ("covariance_matrix", "scale_tril", "precision_matrix"), kind
            node = ("mvn", loc, kind, m)
        elif name == "LowRankMultivariateNormal":
            loc = self.arg()
            args = {}
            while self.accept(","):
                k, v = self.kwarg()
                args[k] = v
            node = ("lowrank", loc, args["cov_factor"], args["cov_diag"])
        elif name == "Independent":
            base = self.dist()
            self.take("op", ",")
            node = ("indep", base, int(self.take("num")))
        else:
            # Every other family: the same name, parameters and positional order as
            # torch.distributions, so the call carries over as written.
            args = [self.kwarg()]
            while self.accept(","):
                args.append(self.kwarg())
            node = ("family", name, args)
        self.take("op", ")")
        return node

    def arg(self):
        t = self.peek()
        if t[0] == "num":
            return ("num", float(self.take()))
        if t == ("id", "diag") and self.peek(1)[1] == "(":
            self.take()
            self.take("op", "(")
            a = self.arg()
            self.take("op", ")")
            return ("diag", a)
        return ("name", self.take("id"))


def parse(src):
    return Parser(src).query()


# ----------------------------------------------------------------------------------------------
# PyTorch
# ----------------------------------------------------------------------------------------------

def torch_value(ast, data, dtype):
    """Evaluate with torch.distributions; returns a nested list / float, or raises."""
    import torch
    import torch.distributions as D

    def arg(a):
        if a[0] == "name":
            return torch.tensor(data[a[1]], dtype=dtype)
        if a[0] == "num":
            return torch.tensor(a[1], dtype=dtype)
        return torch.diag_embed(arg(a[1]))

    def dist(n):
        tag = n[0]
        if tag == "normal":
            loc, s = arg(n[1]), arg(n[3])
            kind = n[2]
            scale = {"pos": lambda v: v, "scale": lambda v: v, "var": torch.sqrt,
                     "log_scale": torch.exp, "precision": torch.rsqrt}[kind](s)
            return D.Normal(loc, scale)
        if tag == "mvn":
            return D.MultivariateNormal(arg(n[1]), **{n[2]: arg(n[3])})
        if tag == "lowrank":
            return D.LowRankMultivariateNormal(arg(n[1]), cov_factor=arg(n[2]), cov_diag=arg(n[3]))
        if tag == "family":
            pos = [arg(v) for k, v in n[2] if k is None]
            kw = {k: arg(v) for k, v in n[2] if k is not None}
            return getattr(D, n[1])(*pos, **kw)
        if tag == "indep":
            return D.Independent(dist(n[1]), n[2])
        if tag == "expand":
            return dist(n[1]).expand(torch.Size(n[2]))
        raise ValueError(tag)

    if ast[0] == "kl":
        out = D.kl_divergence(dist(ast[1]), dist(ast[2]))
    elif ast[0] == "log_prob":
        out = dist(ast[1]).log_prob(arg(ast[2]))
    else:
        out = dist(ast[1]).entropy()
    return list(out.shape), out.double().tolist()


def run_torch(ast, data, dtype):
    try:
        return torch_value(ast, data, dtype)
    except NotImplementedError:
        return NA
    except Exception as e:  # argument validation (ValueError) or anything else PyTorch raises
        msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return f"error ({type(e).__name__}: {msg[:80]})"


# ----------------------------------------------------------------------------------------------
# kl (klc eval)
# ----------------------------------------------------------------------------------------------

def run_klc(klc, expr, data, dtype="f64"):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(data, fh)
        path = fh.name
    try:
        r = subprocess.run([klc, "eval", expr, "--data", path, "--dtype", dtype],
                           capture_output=True, text=True)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        err = (r.stderr.strip().splitlines() or [""])[0]
        return f"error (klc exit {r.returncode}: {err[:80]})"
    out = json.loads(r.stdout)
    return list(out["shape"]), out["value"]


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------

def flat(x):
    if isinstance(x, list):
        for y in x:
            yield from flat(y)
    else:
        yield x


def to_float(x):
    if isinstance(x, str):  # klc may print non-finite values as strings
        return float(x)
    return float(x) if x is not None else math.nan


def element_error(x, ref):
    x, ref = to_float(x), to_float(ref)
    if math.isinf(ref):  # a KL that is +inf where the supports do not nest
        return 0.0 if x == ref else math.inf
    if not math.isfinite(x):
        return math.inf
    d = abs(mpf(x) - mpf(ref))
    if ref == 0:
        return float(d)
    return float(d / abs(mpf(ref)))


def case_error(result, expected):
    """(max error, index of the worst entry, flat values) or (None, ...) for a string result."""
    if isinstance(result, str):
        return None, None, None
    shape, value = result
    vals = [to_float(v) for v in flat(value)]
    refs = list(flat(expected["value"]))
    if shape != expected["shape"] or len(vals) != len(refs):
        return math.inf, 0, vals
    errs = [element_error(v, r) for v, r in zip(vals, refs)]
    k = max(range(len(errs)), key=lambda i: errs[i])
    return errs[k], k, vals


# ----------------------------------------------------------------------------------------------
# float32: the reference for f32-rounded inputs, from generate.py's own mpmath evaluator
# ----------------------------------------------------------------------------------------------

def f32_round(x):
    import struct
    if isinstance(x, list):
        return [f32_round(y) for y in x]
    return struct.unpack("f", struct.pack("f", x))[0]


def f32_reference(ast, data, new_model=False):
    """The reference for the f32-rounded inputs. Exponential has two models in generate.py
    (its own elementwise one, and continuous.py's family for the pairs with Gamma and Chi2):
    the first is tried first, the second when the pair needs it."""
    if new_model is False:
        try:
            return f32_reference(ast, data, new_model=None)
        except AssertionError:
            return f32_reference(ast, data, new_model=True)
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    import generate as G  # its module level only registers the cases; nothing is evaluated

    def arg(a):
        if a[0] == "name":
            return G.Param(a[1], data[a[1]])
        if a[0] == "num":
            return G.Lit(a[1])
        return G.Diag(arg(a[1]))

    def dist(n):
        tag = n[0]
        if tag == "normal":
            return G.Normal(arg(n[1]), arg(n[3]), n[2])
        if tag == "mvn":
            return G.MVN(arg(n[1]), n[2], arg(n[3]))
        if tag == "lowrank":
            return G.LowRank(arg(n[1]), arg(n[2]), arg(n[3]))
        if tag == "family":
            # Positional arguments in torch's order (the cases pass them so).
            assert all(k is None for k, _ in n[2]), n
            args = [arg(v) for _, v in n[2]]
            old = {"Laplace": G.Laplace, "Cauchy": G.Cauchy, "LogNormal": G.LogNormal,
                   "Exponential": G.Exponential, "HalfNormal": G.HalfNormal}
            use_old = n[1] in old and not (new_model is True and n[1] in G.FAMILIES)
            return old[n[1]](*args) if use_old else G.Family(n[1], *args)
        if tag == "indep":
            return G.Indep(dist(n[1]), n[2])
        return G.Expand(dist(n[1]), n[2])

    if ast[0] == "kl":
        tree = G.KL(dist(ast[1]), dist(ast[2]))
    elif ast[0] == "log_prob":
        tree = G.LogProb(dist(ast[1]), arg(ast[2]))
    else:
        tree = G.Entropy(dist(ast[1]))
    with mp.workdps(G.DPS):
        t = tree.evaluate()
        vals = [0.0 if abs(v) < G.ZERO_SNAP else G.ref_float(v) for v in t.data]
    value = vals[0] if not t.shape else vals  # case_error only flattens
    return {"shape": list(t.shape), "value": value}


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

def fmt_err(e):
    if e is None:
        return "—"
    if math.isinf(e):
        return "inf"
    if e == 0:
        return "0"
    return f"{e:.1e}"


def fmt_val(v):
    if v is None:
        return "—"
    if isinstance(v, str):
        v = to_float(v)
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return f"{v:.10g}"


def stats(errs):
    errs = [e for e in errs if e is not None]
    if not errs:
        return None, None
    return max(errs), statistics.median(errs)


def git(*args):
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--klc", default=os.path.join(REPO, "target", "release", "klc"),
                    help="path to the klc binary (default: target/release/klc)")
    ap.add_argument("--out", default=os.path.join(HERE, "ACCURACY.md"))
    ap.add_argument("--no-f32", action="store_true", help="skip the float32 comparison")
    args = ap.parse_args()

    klc = os.path.abspath(args.klc)
    if not (os.path.isfile(klc) and os.access(klc, os.X_OK)):
        sys.exit(f"error: klc binary not found at {klc}\n"
                 f"build it with `cargo build --release -p klc` from the repository root, "
                 f"or pass --klc PATH")
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # torch without numpy
    try:
        import torch
    except ImportError:
        sys.exit("error: PyTorch is not installed: `tests/reference/.venv/bin/pip install torch`")
    torch.set_num_threads(1)

    cases = json.load(open(CASES))["cases"]
    rows = []
    for c in cases:
        ast = parse(c["expr"])
        ours = run_klc(klc, c["expr"], c["data"])
        th = run_torch(ast, c["data"], torch.float64)
        oe, _, ov = case_error(ours, c["expected"])
        te, tk, tv = case_error(th, c["expected"])
        if oe is None:
            print(f"warning: {c['name']}: {ours}", file=sys.stderr)
        row = dict(case=c, ours=ours, torch=th, oe=oe, ov=ov, te=te, tk=tk, tv=tv)
        if not args.no_f32 and c["class"] in F32_CLASSES:
            d32 = {k: f32_round(v) for k, v in c["data"].items()}
            ref32 = f32_reference(ast, d32)
            row["oe32"] = case_error(run_klc(klc, c["expr"], d32, "f32"), ref32)[0]
            row["te32"] = case_error(run_torch(ast, d32, torch.float32), ref32)[0]
        rows.append(row)

    dirty = git("status", "--porcelain", "--untracked-files=no")
    commit = git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if dirty else "")
    L = []
    L.append("# Accuracy: kl next to PyTorch")
    L.append("")
    L.append("Generated by `tests/reference/accuracy_table.py` (not run by CI; see its header for how to "
             "run it). Every case of [`cases.json`](cases.json) is evaluated by `klc eval` (f64) and by "
             "the same expression written with `torch.distributions` in float64, and compared with the "
             "60-digit mpmath reference.")
    L.append("")
    L.append(f"Machine: {platform.system()} {platform.machine()}, Python {platform.python_version()}, "
             f"torch {torch.__version__}, mpmath {mpmath.__version__}, kl commit {commit}.")
    L.append("")
    L.append("Error of a case: the largest over its entries of |x − ref| / |ref|, or |x − ref| where the "
             "reference is exactly 0 (the `P || P` cases, in `near_equal`). A NaN, an infinity or a wrong "
             "shape counts as `inf`. PyTorch's statistics are over the cases it can compute; "
             "\"PyTorch cannot compute\" counts pairs without a registered KL (`NotImplementedError`) "
             "and inputs its argument validation rejects.")
    L.append("")
    L.append("## Per class (float64)")
    L.append("")
    L.append("| class | cases | kl max | kl median | PyTorch max | PyTorch median | PyTorch cannot compute |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    for cls in CLASSES + ("all",):
        rs = [r for r in rows if cls == "all" or r["case"]["class"] == cls]
        omax, omed = stats([r["oe"] for r in rs])
        tmax, tmed = stats([r["te"] for r in rs])
        na = sum(1 for r in rs if r["te"] is None)
        name = f"`{cls}`" if cls != "all" else "**all**"
        L.append(f"| {name} | {len(rs)} | {fmt_err(omax)} | {fmt_err(omed)} | {fmt_err(tmax)} | "
                 f"{fmt_err(tmed)} | {na} |")
    L.append("")
    failures = [r for r in rows if r["te"] is None]
    if failures:
        L.append("Cases PyTorch cannot compute:")
        L.append("")
        for r in failures:
            L.append(f"- `{r['case']['name']}`: `{r['case']['expr']}`: {r['torch']}")
        L.append("")

    L.append("## The 10 cases with the largest PyTorch error (float64)")
    L.append("")
    L.append("Values are the entry where PyTorch's error is largest (its flat index in brackets for "
             "batched results); the error of the whole case is in parentheses.")
    L.append("")
    L.append("| case | expression | reference | kl | PyTorch |")
    L.append("|---|---|---:|---:|---:|")
    worst = sorted([r for r in rows if r["te"] is not None], key=lambda r: (-r["te"], r["case"]["name"]))[:10]
    for r in worst:
        c, k = r["case"], r["tk"]
        refs = list(flat(c["expected"]["value"]))
        idx = f" [{k}]" if len(refs) > 1 else ""
        ov = r["ov"][k] if r["ov"] is not None and k < len(r["ov"]) else None
        tv = r["tv"][k] if r["tv"] is not None and k < len(r["tv"]) else None
        L.append(f"| `{c['name']}`{idx} | `{c['expr'].replace('|', chr(92) + '|')}` | {fmt_val(refs[k])} | "
                 f"{fmt_val(ov)} ({fmt_err(r['oe'])}) | {fmt_val(tv)} ({fmt_err(r['te'])}) |")
    L.append("")

    if not args.no_f32:
        L.append("## float32 (well_conditioned and near_equal)")
        L.append("")
        L.append("`klc eval --dtype f32` and PyTorch with float32 tensors, on the case inputs rounded to "
                 "f32. The reference is recomputed in mpmath (60 digits, generate.py's evaluator) for "
                 "exactly those rounded inputs, so input rounding is not counted. In `near_equal` the "
                 "rounding can make the two sides identical (reference 0, absolute error).")
        L.append("")
        L.append("| class | cases | kl max | kl median | PyTorch max | PyTorch median | PyTorch cannot compute |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for cls in F32_CLASSES:
            rs = [r for r in rows if r["case"]["class"] == cls]
            omax, omed = stats([r["oe32"] for r in rs])
            tmax, tmed = stats([r["te32"] for r in rs])
            na = sum(1 for r in rs if r["te32"] is None)
            L.append(f"| `{cls}` | {len(rs)} | {fmt_err(omax)} | {fmt_err(omed)} | {fmt_err(tmax)} | "
                     f"{fmt_err(tmed)} | {na} |")
        L.append("")

    L.append("## Every case (float64)")
    L.append("")
    L.append("<details><summary>189 rows</summary>".replace("189", str(len(rows))))
    L.append("")
    f32 = not args.no_f32
    L.append("| case | class | kl error | PyTorch error |" + (" kl f32 | PyTorch f32 |" if f32 else ""))
    L.append("|---|---|---:|---:|" + ("---:|---:|" if f32 else ""))
    for r in rows:
        c = r["case"]
        t = fmt_err(r["te"]) if r["te"] is not None else ("n/a" if r["torch"] == NA else "error")
        line = f"| `{c['name']}` | {c['class']} | {fmt_err(r['oe'])} | {t} |"
        if f32:
            if "oe32" in r:
                t32 = fmt_err(r["te32"]) if r["te32"] is not None else "n/a"
                line += f" {fmt_err(r['oe32'])} | {t32} |"
            else:
                line += " | |"
        L.append(line)
    L.append("")
    L.append("</details>")
    L.append("")

    with open(args.out, "w") as fh:
        fh.write("\n".join(L))
    print(f"wrote {os.path.relpath(args.out)} ({len(rows)} cases)")


if __name__ == "__main__":
    main()
