#!/usr/bin/env python3
"""Accuracy of `kl` next to PyTorch on the high-precision reference cases (cases.json).

How to run (from the repository root):

    cargo build --release -p klc                      # builds target/release/klc
    python3 -m venv tests/reference/.venv             # git-ignored
    tests/reference/.venv/bin/pip install mpmath torch numpy   # CPU build from PyPI is enough
    tests/reference/.venv/bin/python tests/reference/accuracy_table.py [--klc PATH] [--out PATH]

(A venv that already has torch, mpmath and numpy, e.g. benches/compare/.venv, can stand in for
tests/reference/.venv through a symlink.) It needs: the `klc` binary (--klc PATH, else $KLC,
else target/release/klc relative to the repository root), Python 3 with torch, mpmath and numpy.
It writes tests/reference/ACCURACY.md (or --out). `--only NAME ..` runs some cases (a quick check;
write it elsewhere with --out), `--no-f32` skips the float32 pass, `--no-param-conversion` counts
Normal's var= / log_scale= / precision= as "PyTorch cannot compute" instead of converting them.
CI does not run this script: it needs PyTorch, which the CI image does not have, and its
output is documentation, not a test. The Rust tests check `kl` against the same cases.

What it does, for every case in cases.json:

  1. ours: `klc eval EXPR --data FILE.json` (f64), with the case's data written to a temp file;
     its "inf" (+inf) compares as infinity;
  2. PyTorch: the expression translated to torch.distributions in float64, the way a PyTorch
     user writes it: Normal(loc, scale) with var / log_scale / precision turned into a scale by
     sqrt / exp / rsqrt; MultivariateNormal(loc, covariance_matrix= | scale_tril= |
     precision_matrix=); LowRankMultivariateNormal(loc, cov_factor, cov_diag); every other
     family (Exponential .. VonMises, Bernoulli(probs= | logits=), Binomial(n, probs= | logits=),
     Geometric, Poisson, Categorical, OneHotCategorical, ContinuousBernoulli) by the same name
     with the same positional and keyword parameters, which are torch's;
     `.to_event(n)` / `Independent(P, n)` = Independent(P, n); `.expand([..])` = P.expand(..);
     `diag(v)` = torch.diag_embed(v); `P || Q` = kl_divergence(P, Q); log_prob(P, x) =
     P.log_prob(x); entropy(P) = P.entropy(). Argument validation stays at PyTorch's default.
     Where PyTorch gives no value the case counts as "PyTorch cannot compute", with the reason:
     not implemented (NotImplementedError: no registered KL, no entropy, Binomial counts),
     rejected by validation (ValueError), a kl-only parameterization, a family torch lacks, or
     another exception (torch's KL raising IndexError on batch shapes that only broadcast);
  3. the error of each against the mpmath reference: max over the entries of |x - ref| / |ref|,
     or |x - ref| where ref is exactly 0 (the `P || P` cases); +inf against a +inf reference is
     0. A NaN, an infinity where the reference is finite, or a wrong shape counts as an
     infinite error.

The report has the errors per class, per family, a section on the discrete families (per family
and query, the cases and the entries where PyTorch is off, with their inputs), the kl cases with
an error above 1e-13, and every case.

Optionally (on by default, --no-f32 to skip) the well_conditioned and near_equal cases are also
run in float32, by `klc eval --dtype f32` and by PyTorch with float32 tensors. Both get the same
inputs rounded to f32, so their reference is recomputed in mpmath (with generate.py's evaluator,
60 digits, without its quadrature cross-checks) for exactly those rounded inputs: the f32 errors
measure the arithmetic, not the rounding of the inputs.

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
# The discrete families (and ContinuousBernoulli, whose parameters are Bernoulli's), reported in
# their own section.
DISCRETE = ("Bernoulli", "Binomial", "Geometric", "Poisson", "Categorical", "OneHotCategorical",
            "ContinuousBernoulli")
# The Gaussian families: grouped as "Normal" (diagonal only) or "MultivariateNormal / LowRank".
GAUSSIAN = ("Normal", "MultivariateNormal", "LowRankMultivariateNormal")
# A kl error above this is listed in the report (kl is ~1e-15 relative nearly everywhere).
KL_FLAG = 1e-13


class CannotCompute:
    """Why PyTorch gives no value for a case: `kind` is one of KINDS (a short label), `detail`
    the exception or the reason."""
    KINDS = {
        "not implemented": "no registered KL, entropy or log_prob (`NotImplementedError`)",
        "rejected": "argument validation rejects the inputs (`ValueError`)",
        "kl-only parameterization": "a parameterization torch.distributions does not have",
        "no such family": "a family torch.distributions does not have",
        "raises": "another exception: an `IndexError` of torch's KL where the two batch shapes only "
                  "broadcast (it indexes with the unbroadcast `probs == 0` mask), or a linalg error",
    }

    def __init__(self, kind, detail):
        assert kind in self.KINDS, kind
        self.kind, self.detail = kind, detail

    def __str__(self):
        return f"{self.kind}: {self.detail}"

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

class KlOnly(Exception):
    """A parameterization of kl's that torch.distributions does not have."""


class NoFamily(Exception):
    """A family of kl's that torch.distributions does not have."""


def torch_value(ast, data, dtype, convert_params=True):
    """Evaluate with torch.distributions; returns (shape, nested list / float), or raises.
    With convert_params, Normal's `var=` / `log_scale=` / `precision=` become a scale (sqrt /
    exp / rsqrt) as a PyTorch user writes it; without, they raise KlOnly."""
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
            if kind not in ("pos", "scale") and not convert_params:
                raise KlOnly(f"torch's Normal has no `{kind}=`")
            scale = {"pos": lambda v: v, "scale": lambda v: v, "var": torch.sqrt,
                     "log_scale": torch.exp, "precision": torch.rsqrt}[kind](s)
            return D.Normal(loc, scale)
        if tag == "mvn":
            return D.MultivariateNormal(arg(n[1]), **{n[2]: arg(n[3])})
        if tag == "lowrank":
            return D.LowRankMultivariateNormal(arg(n[1]), cov_factor=arg(n[2]), cov_diag=arg(n[3]))
        if tag == "family":
            # Positional and keyword parameters as written (`Bernoulli(logits=l)`,
            # `Binomial(n, probs=p)`, `Categorical(probs=p)`): kl uses torch's names and order.
            family = getattr(D, n[1], None)
            if not (isinstance(family, type) and issubclass(family, D.Distribution)):
                raise NoFamily(f"torch.distributions has no {n[1]}")
            pos = [arg(v) for k, v in n[2] if k is None]
            kw = {k: arg(v) for k, v in n[2] if k is not None}
            try:
                return family(*pos, **kw)
            except TypeError as e:
                if "unexpected keyword" in str(e) or "positional argument" in str(e):
                    names = ", ".join(f"`{k}=`" for k in kw) or "these positional parameters"
                    raise KlOnly(f"torch's {n[1]} does not take {names} ({e})") from None
                raise
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


def first_line(e, n=110):
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return msg if len(msg) <= n else msg[:n - 1] + "…"


def run_torch(ast, data, dtype, convert_params=True):
    """(shape, value), or a CannotCompute with the reason."""
    try:
        return torch_value(ast, data, dtype, convert_params)
    except KlOnly as e:
        return CannotCompute("kl-only parameterization", str(e))
    except NoFamily as e:
        return CannotCompute("no such family", str(e))
    except NotImplementedError as e:
        return CannotCompute("not implemented", f"NotImplementedError: {first_line(e) or '(without a message)'}")
    except ValueError as e:  # argument validation (validate_args, on by default)
        return CannotCompute("rejected", f"{type(e).__name__}: {first_line(e)}")
    except Exception as e:  # anything else PyTorch raises (e.g. linalg errors)
        return CannotCompute("raises", f"{type(e).__name__}: {first_line(e)}")


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
    """klc prints +inf as the string "inf" and the reference writes it so: both compare as
    infinity (an exact +inf against a +inf reference is error 0)."""
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
    """(max error, index of the worst entry, flat values), or (None, ...) for a result that is
    no value (a klc error string, a CannotCompute)."""
    if isinstance(result, (str, CannotCompute)):
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
            name, kws = n[1], n[2]
            # The families with keyword parameters (probs= / logits=), generate.py's own classes.
            kw = {k: arg(v) for k, v in kws if k is not None}
            pos = [arg(v) for k, v in kws if k is None]
            if name in ("Bernoulli", "Geometric", "ContinuousBernoulli", "Categorical",
                        "OneHotCategorical", "Binomial"):
                (kind,) = [k for k in kw if k in ("probs", "logits")]
                if name == "Binomial":
                    count = kw["total_count"] if "total_count" in kw else pos[0]
                    return G.Binomial(count, kw[kind], kind)
                if name in ("Categorical", "OneHotCategorical"):
                    return G.Categorical(kw[kind], kind, onehot=name == "OneHotCategorical")
                return getattr(G, name)(kw[kind], kind)
            if name == "Poisson":
                (rate,) = pos or [kw["rate"]]
                return G.Poisson(rate)
            # Positional arguments in torch's order (the cases pass them so).
            assert not kw, n
            args = pos
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
    # As generate.py: +inf is "inf"; tiny values of the discrete sums are real, not residue.
    snap = not any(isinstance(x, (G.Bernoulli, G.Poisson, G.Geometric, G.Binomial, G.Categorical))
                   for x in G.nodes(tree))
    checks = G.continuous.CHECKS["on"]
    G.continuous.CHECKS["on"] = False  # the quadrature cross-checks ran in generate.py
    try:
        with mp.workdps(G.DPS):
            t = tree.evaluate()
    finally:
        G.continuous.CHECKS["on"] = checks

    def conv(v):
        if mp.isinf(v):
            assert v > 0, v
            return "inf"
        return 0.0 if snap and abs(v) < G.ZERO_SNAP else G.ref_float(v)
    vals = [conv(v) for v in t.data]
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


def klc_version(klc):
    try:
        r = subprocess.run([klc, "--version"], capture_output=True, text=True, check=True)
        return f"`{r.stdout.strip()}`"
    except Exception:
        return "klc version unknown"


def git(*args):
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return "unknown"


def dist_family(n):
    """The family name of a distribution node (through Independent / to_event / expand)."""
    tag = n[0]
    if tag in ("indep", "expand"):
        return dist_family(n[1])
    return {"normal": "Normal", "mvn": "MultivariateNormal", "lowrank": "LowRankMultivariateNormal"}.get(
        tag, n[1] if tag == "family" else tag)


def case_families(ast):
    return [dist_family(d) for d in ((ast[1], ast[2]) if ast[0] == "kl" else (ast[1],))]


def family_group(ast):
    """A case's family for the per-family table: the one family of the case (the Gaussians as
    "Normal" when only diagonal Normals occur, else "MultivariateNormal / LowRank"), or, for a
    KL between two families, "P || Q"."""
    fams = case_families(ast)
    if all(f in GAUSSIAN for f in fams):
        return "Normal" if all(f == "Normal" for f in fams) else "MultivariateNormal / LowRank"
    if len(set(fams)) == 1:
        return fams[0]
    return " || ".join(fams)


def is_discrete(ast):
    return any(f in DISCRETE for f in case_families(ast))


QUERY = {"kl": "KL", "log_prob": "log_prob", "entropy": "entropy"}


def md_expr(e):
    return e.replace("|", chr(92) + "|")


def summary_row(label, rs, key_o="oe", key_t="te"):
    omax, omed = stats([r[key_o] for r in rs])
    tmax, tmed = stats([r[key_t] for r in rs])
    na = sum(1 for r in rs if r[key_t] is None)
    return (f"| {md_expr(label)} | {len(rs)} | {fmt_err(omax)} | {fmt_err(omed)} | {fmt_err(tmax)} | "
            f"{fmt_err(tmed)} | {na} |")


SUMMARY_HEAD = ["| {0} | cases | kl max | kl median | PyTorch max | PyTorch median | PyTorch cannot compute |",
                "|---|---:|---:|---:|---:|---:|---:|"]


def worst_table(rows, n):
    L = ["| case | expression | reference | kl | PyTorch |", "|---|---|---:|---:|---:|"]
    worst = sorted([r for r in rows if r["te"] is not None], key=lambda r: (-r["te"], r["case"]["name"]))[:n]
    for r in worst:
        c, k = r["case"], r["tk"]
        refs = list(flat(c["expected"]["value"]))
        idx = f" [{k}]" if len(refs) > 1 else ""
        ov = r["ov"][k] if r["ov"] is not None and k < len(r["ov"]) else None
        tv = r["tv"][k] if r["tv"] is not None and k < len(r["tv"]) else None
        L.append(f"| `{c['name']}`{idx} | `{md_expr(c['expr'])}` | {fmt_val(refs[k])} | "
                 f"{fmt_val(ov)} ({fmt_err(r['oe'])}) | {fmt_val(tv)} ({fmt_err(r['te'])}) |")
    return L


ROW_FAMILIES = ("Categorical", "OneHotCategorical", "Dirichlet")  # parameters with a last dim of K


def param_layout(ast):
    """{name: (event rank, reinterpreted dims)} for the named parameters (and the log_prob
    value) of the families other than the multivariate Gaussians: how a parameter lines up with
    the result.
    A parameter's batch dims align, from the right, with the result's dims followed by the
    dims that to_event / Independent reinterpret; its event dims (a Categorical's K) follow."""
    out = {}

    def walk(n, reint):
        tag = n[0]
        if tag == "indep":
            return walk(n[1], reint + n[2])
        if tag == "expand":
            return walk(n[1], reint)
        if tag == "family":
            for k, a in n[2]:
                if a[0] == "name":
                    row = n[1] in ROW_FAMILIES and k != "total_count"
                    out.setdefault(a[1], (1 if row else 0, reint))
            return n[1], reint
        if tag == "normal":  # a Normal met by another family (its loc and scale, elementwise)
            for a in (n[1], n[3]):
                if a[0] == "name":
                    out.setdefault(a[1], (0, reint))
            return "Normal", reint
        return None, reint

    if ast[0] == "kl":
        walk(ast[1], 0)
        walk(ast[2], 0)
    else:
        fam, reint = walk(ast[1], 0)
        if ast[0] == "log_prob" and ast[2][0] == "name":
            out.setdefault(ast[2][1], (1 if fam in ("OneHotCategorical", "Dirichlet") else 0, reint))
    return out


def fmt_input(v):
    if isinstance(v, list):
        items = [fmt_input(x) for x in v]
        if len(items) > 6:
            items = items[:3] + ["…"] + items[-2:]
        return "[" + ", ".join(items) + "]"
    return repr(v) if isinstance(v, float) else str(v)  # the exact input: 40.000000001, not 40


def entry_inputs(case, ast, k):
    """The parameter values behind entry k of the result, as `name=value` (a row or block
    where the entry reads several), or "—" where they do not line up simply."""
    import numpy as np
    shape = case["expected"]["shape"]
    idx = np.unravel_index(k, shape) if shape else ()
    parts = []
    for name, (er, reint) in param_layout(ast).items():
        arr = np.asarray(case["data"][name], dtype=float)
        batch = arr.shape[:arr.ndim - er]
        pad = len(shape) + reint - len(batch)
        if pad < 0:
            return "—"
        sel = []
        for j, size in enumerate(batch):
            dim = j + pad
            if dim < len(shape):
                sel.append(int(idx[dim]) if size > 1 else 0)
            else:
                sel.append(slice(None))
        v = arr[tuple(sel)]
        parts.append(f"{name}={fmt_input(v.tolist())}")
    return ", ".join(parts) if parts else "—"


def entry_rows(rows):
    """(error, row, entry) for every entry of the cases PyTorch computes."""
    out = []
    for r in rows:
        if r["te"] is None:
            continue
        refs = list(flat(r["case"]["expected"]["value"]))
        for k, (v, ref) in enumerate(zip(r["tv"], refs)):
            out.append((element_error(v, ref), r, k))
    return out


def entry_line(e, r, k):
    c = r["case"]
    refs = list(flat(c["expected"]["value"]))
    ov = r["ov"][k] if r["ov"] is not None and k < len(r["ov"]) else None
    oe = element_error(ov, refs[k]) if ov is not None else None
    idx = f" [{k}]" if len(refs) > 1 else ""
    return (f"| `{c['name']}`{idx} | {entry_inputs(c, r['ast'], k)} | {fmt_val(refs[k])} | "
            f"{fmt_val(ov)} ({fmt_err(oe)}) | {fmt_val(r['tv'][k])} ({fmt_err(e)}) |")


ENTRY_HEAD = ["| case [entry] | inputs at the entry | reference | kl (error) | PyTorch (error) |",
              "|---|---|---:|---:|---:|"]
OFF = 1e-3  # an entry "PyTorch is off" at: 0.1 %


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--klc", default=os.environ.get("KLC") or os.path.join(REPO, "target", "release", "klc"),
                    help="path to the klc binary (default: $KLC, else target/release/klc)")
    ap.add_argument("--out", default=os.path.join(HERE, "ACCURACY.md"))
    ap.add_argument("--no-f32", action="store_true", help="skip the float32 comparison")
    ap.add_argument("--no-param-conversion", action="store_true",
                    help="count Normal(.., var= | log_scale= | precision=) as PyTorch cannot compute "
                         "(kl-only parameterization) instead of converting to a scale")
    ap.add_argument("--only", nargs="*", metavar="NAME", help="only these cases (for a quick check)")
    args = ap.parse_args()

    klc = os.path.abspath(args.klc)
    if not (os.path.isfile(klc) and os.access(klc, os.X_OK)):
        sys.exit(f"error: klc binary not found at {klc}\n"
                 f"build it with `cargo build --release -p klc` from the repository root, "
                 f"or pass --klc PATH (or set KLC)")
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # torch without numpy
    try:
        import torch
    except ImportError:
        sys.exit("error: PyTorch is not installed: `tests/reference/.venv/bin/pip install torch`")
    torch.set_num_threads(1)
    convert = not args.no_param_conversion

    cases = json.load(open(CASES))["cases"]
    if args.only:
        missing = set(args.only) - {c["name"] for c in cases}
        if missing:
            sys.exit(f"error: no such case(s) in cases.json: {', '.join(sorted(missing))}")
        cases = [c for c in cases if c["name"] in set(args.only)]
    rows = []
    for n, c in enumerate(cases):
        ast = parse(c["expr"])
        ours = run_klc(klc, c["expr"], c["data"])
        th = run_torch(ast, c["data"], torch.float64, convert)
        oe, _, ov = case_error(ours, c["expected"])
        te, tk, tv = case_error(th, c["expected"])
        if oe is None:
            print(f"warning: {c['name']}: {ours}", file=sys.stderr)
        row = dict(case=c, ast=ast, ours=ours, torch=th, oe=oe, ov=ov, te=te, tk=tk, tv=tv,
                   group=family_group(ast), query=QUERY[ast[0]], discrete=is_discrete(ast))
        if not args.no_f32 and c["class"] in F32_CLASSES:
            d32 = {k: f32_round(v) for k, v in c["data"].items()}
            ref32 = f32_reference(ast, d32)
            row["oe32"] = case_error(run_klc(klc, c["expr"], d32, "f32"), ref32)[0]
            row["te32"] = case_error(run_torch(ast, d32, torch.float32, convert), ref32)[0]
        rows.append(row)
        if (n + 1) % 100 == 0:
            print(f"{n + 1} / {len(cases)} cases", file=sys.stderr, flush=True)

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
             f"torch {torch.__version__}, mpmath {mpmath.__version__}, kl commit {commit}, {klc_version(klc)}.")
    L.append("")
    L.append("Error of a case: the largest over its entries of |x − ref| / |ref|, or |x − ref| where the "
             "reference is exactly 0 (the `P || P` cases, in `near_equal`). A +∞ result (klc prints "
             "`\"inf\"`) where the reference is +∞ has error 0. A NaN, an infinity where the reference is "
             "finite, or a wrong shape counts as `inf`. PyTorch's statistics are over the cases it can "
             "compute; \"PyTorch cannot compute\" counts the cases where it gives no value (reasons below).")
    L.append("")
    L.append("The PyTorch side is the expression as a PyTorch user writes it: the same family names, "
             "parameter names and positional order (`Bernoulli(logits=l)`, `Binomial(n, probs=p)`, "
             "`Categorical(probs=p)`, `Gamma(a, b)`, ..), `.to_event(n)` / `Independent(P, n)` as "
             "`Independent(P, n)`, `.expand([..])` as `P.expand(..)`, `diag(v)` as `torch.diag_embed(v)`, "
             "`P || Q` as `kl_divergence(P, Q)`, with argument validation at its default. " +
             ("kl's `Normal(m, var=v)`, `log_scale=l` and `precision=p` have no torch counterpart; they "
              "are passed as `Normal(m, sqrt(v))`, `Normal(m, exp(l))`, `Normal(m, rsqrt(p))`."
              if convert else
              "kl's `Normal(m, var=v)`, `log_scale=l` and `precision=p` have no torch counterpart and "
              "count as \"PyTorch cannot compute\" (run without `--no-param-conversion` to convert "
              "them to a scale)."))
    L.append("")
    L.append("## Per class (float64)")
    L.append("")
    L += [SUMMARY_HEAD[0].format("class"), SUMMARY_HEAD[1]]
    for cls in CLASSES + ("all",):
        rs = [r for r in rows if cls == "all" or r["case"]["class"] == cls]
        L.append(summary_row(f"`{cls}`" if cls != "all" else "**all**", rs))
    L.append("")

    failures = [r for r in rows if r["te"] is None]
    if failures:
        L.append("### Why PyTorch cannot compute")
        L.append("")
        L.append("| reason | cases |")
        L.append("|---|---:|")
        for kind, what in CannotCompute.KINDS.items():
            k = sum(1 for r in failures if r["torch"].kind == kind)
            if k:
                L.append(f"| {kind}: {what} | {k} |")
        L.append("")
        L.append("<details><summary>The cases, by reason</summary>")
        L.append("")
        for kind in CannotCompute.KINDS:
            for r in (r for r in failures if r["torch"].kind == kind):
                L.append(f"- `{r['case']['name']}`: `{r['case']['expr']}`: {r['torch']}")
        L.append("")
        L.append("</details>")
        L.append("")

    def by_group(rs, key):
        groups = {}
        for r in rs:
            groups.setdefault(key(r), []).append(r)
        return groups

    L.append("## Per family (float64)")
    L.append("")
    L.append("A case's family is the one family it uses (`to_event`, `Independent` and `expand` "
             "included); KLs between two families are grouped as the cross-family pairs, continuous or "
             "with a discrete family (itemized in the next section).")
    L.append("")
    L += [SUMMARY_HEAD[0].format("family"), SUMMARY_HEAD[1]]

    def fam_key(r):
        if " || " in r["group"]:
            return "cross-family pairs, with a discrete family" if r["discrete"] else "cross-family pairs, continuous"
        return r["group"]
    groups = by_group(rows, fam_key)
    for g in sorted(groups, key=lambda g: (g.startswith("cross"), g in DISCRETE, g)):
        L.append(summary_row(g, groups[g]))
    L.append("")

    drows = [r for r in rows if r["discrete"]]
    if drows:
        L.append("## The discrete families vs PyTorch (float64)")
        L.append("")
        L.append("Bernoulli, Binomial, Geometric, Poisson, Categorical, OneHotCategorical, and "
                 "ContinuousBernoulli (parameterized like Bernoulli), with their cross-family pairs, by "
                 "family and query.")
        L.append("")
        L += [SUMMARY_HEAD[0].format("family, query"), SUMMARY_HEAD[1]]
        groups = by_group(drows, lambda r: (r["group"], r["query"]))
        order = {q: i for i, q in enumerate(QUERY.values())}
        for g in sorted(groups, key=lambda g: (" || " in g[0], g[0], order[g[1]])):
            L.append(summary_row(f"{g[0]}, {g[1]}", groups[g]))
        L.append(summary_row("**all discrete**", drows))
        L.append("")
        L.append("The 10 discrete cases with the largest PyTorch error (values at PyTorch's worst entry, "
                 "as in the table of all families below):")
        L.append("")
        L += worst_table(drows, 10)
        L.append("")
        entries = entry_rows(drows)
        off = [t for t in entries if t[0] > OFF]
        L.append(f"### Where PyTorch is off by more than {OFF:g} (0.1 %)")
        L.append("")
        L.append("Per result entry (a batched case has several). \"wrong ∞ / NaN\" counts the entries where "
                 "PyTorch returns a NaN, an infinity against a finite reference or a finite value against "
                 "+∞; the worst finite entry is the largest of the other errors, with the parameters behind "
                 "it.")
        L.append("")
        L.append("| family | entries | off by > 0.1 % | of them wrong ∞ / NaN | worst finite entry | "
                 "inputs | reference | kl (error) | PyTorch (error) |")
        L.append("|---|---:|---:|---:|---|---|---:|---:|---:|")
        fams = {}
        for t in entries:
            fams.setdefault(t[1]["group"], []).append(t)
        for g in sorted(fams, key=lambda g: (" || " in g, g)):
            ts = fams[g]
            n_off = sum(1 for t in ts if t[0] > OFF)
            n_inf = sum(1 for t in ts if math.isinf(t[0]))
            finite = [t for t in ts if math.isfinite(t[0])]
            if n_off and finite:
                e, r, k = max(finite, key=lambda t: t[0])
                cells = entry_line(e, r, k).split(" | ")
                L.append(f"| {md_expr(g)} | {len(ts)} | {n_off} | {n_inf} | " + " | ".join(cells)[2:])
            else:
                L.append(f"| {md_expr(g)} | {len(ts)} | {n_off} | {n_inf} | — | | | | |")
        L.append("")
        if off:
            L.append(f"<details><summary>All {len(off)} entries where PyTorch is off by more than 0.1 %, "
                     "by family and error</summary>")
            L.append("")
            L += ENTRY_HEAD
            for e, r, k in sorted(off, key=lambda t: (" || " in t[1]["group"], t[1]["group"], -t[0],
                                                        t[1]["case"]["name"], t[2])):
                L.append(entry_line(e, r, k))
            L.append("")
            L.append("</details>")
            L.append("")

    L.append("## kl cases with an error above 1e-13 (float64)")
    L.append("")
    flagged = [r for r in rows if r["oe"] is None or r["oe"] > KL_FLAG]
    if not flagged:
        L.append("None.")
    else:
        L.append("| case | class | expression | kl error | PyTorch error |")
        L.append("|---|---|---|---:|---:|")
        for r in sorted(flagged, key=lambda r: (-(math.inf if r["oe"] is None else r["oe"]), r["case"]["name"])):
            c = r["case"]
            oe = fmt_err(r["oe"]) if r["oe"] is not None else f"fails: {r['ours']}"
            te = fmt_err(r["te"]) if r["te"] is not None else f"n/a ({r['torch'].kind})"
            L.append(f"| `{c['name']}` | {c['class']} | `{md_expr(c['expr'])}` | {oe} | {te} |")
    L.append("")

    L.append("## The 10 cases with the largest PyTorch error (float64)")
    L.append("")
    L.append("Values are the entry where PyTorch's error is largest (its flat index in brackets for "
             "batched results); the error of the whole case is in parentheses.")
    L.append("")
    L += worst_table(rows, 10)
    L.append("")

    if not args.no_f32:
        L.append("## float32 (well_conditioned and near_equal)")
        L.append("")
        L.append("`klc eval --dtype f32` and PyTorch with float32 tensors, on the case inputs rounded to "
                 "f32. The reference is recomputed in mpmath (60 digits, generate.py's evaluator) for "
                 "exactly those rounded inputs, so input rounding is not counted. In `near_equal` the "
                 "rounding can make the two sides identical (reference 0, absolute error).")
        L.append("")
        L += [SUMMARY_HEAD[0].format("class"), SUMMARY_HEAD[1]]
        for cls in F32_CLASSES:
            rs = [r for r in rows if r["case"]["class"] == cls]
            L.append(summary_row(f"`{cls}`", rs, "oe32", "te32"))
        rs = [r for r in rows if r["case"]["class"] in F32_CLASSES and r["discrete"]]
        if rs:
            L.append(summary_row("discrete families (both classes)", rs, "oe32", "te32"))
        L.append("")

    L.append("## Every case (float64)")
    L.append("")
    L.append(f"<details><summary>{len(rows)} rows</summary>")
    L.append("")
    f32 = not args.no_f32
    L.append("| case | class | kl error | PyTorch error |" + (" kl f32 | PyTorch f32 |" if f32 else ""))
    L.append("|---|---|---:|---:|" + ("---:|---:|" if f32 else ""))
    for r in rows:
        c = r["case"]
        t = fmt_err(r["te"]) if r["te"] is not None else f"n/a ({r['torch'].kind})"
        o = fmt_err(r["oe"]) if r["oe"] is not None else "fails"
        line = f"| `{c['name']}` | {c['class']} | {o} | {t} |"
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
    print(f"wrote {args.out} ({len(rows)} cases)")


if __name__ == "__main__":
    main()
