#!/usr/bin/env python3
"""High-precision gradient references for `kl`: d(sum of the result)/d(parameter entry) of the
reference cases in cases.json.

How to run (from the repository root, with the venv of README.md):

    tests/reference/.venv/bin/python tests/reference/gradients.py

This rewrites tests/reference/grad_cases.json. It is deterministic: the cases and their inputs
are generate.py's (same names, same seeds), and mpmath's numerical differentiation is too.

Independence from the Rust code
-------------------------------
Nothing here knows the closed-form adjoints of the Rust kernels. Each gradient entry is the
numerical derivative (a central difference with relative step 10^-DPS at 3 * DPS digits, taken
element by element of the result and then summed) of generate.py's textbook evaluation of the
whole case (explicit mp.inverse / mp.det for the Gaussians, the
closed forms of continuous.py and the defining sums of discrete.py), summed over the result, with
respect to that one input entry, every other entry held fixed. So a matrix entry is moved alone:
the "every entry independent" convention, under which the gradient of a symmetric matrix
parameter is symmetric. The step is relative to the entry (absolute for 0), so that extreme
scales (1e-150, 1e150) are differentiated as well as unit ones, and the difference is taken per
output element, so that a huge element of the result does not swamp a small one's change.

Self-check: every entry is differentiated at DPS (40) and at 2 * DPS digits, and the two must
agree to 1e-25 relative to the parameter's largest entry, before the DPS value is rounded to the
f64 that is written. An entry where they do not (a value that moves by far more than its linear
part over any step the precision allows, as a Gumbel KL at locations of 1e100 does) is written as
null and listed on stdout.

Entries without a derivative are written as null:
  * the strictly upper triangle of a scale_tril (the textbook formula reads a lower-triangular L;
    kl's convention gives those entries gradient 0, which the Rust test checks separately);
  * integer-valued inputs: a Binomial total_count, the value of a discrete log_prob;
  * entries where the case sits on the boundary of its domain (a probability of exactly 0 or 1,
    a value on the edge of a support), where one side of the difference is undefined.
Cases whose value is +inf somewhere are left out (no gradient). A derivative beyond the f64
range is written as the string "inf" or "-inf".

Differentiating a whole case once per input entry is expensive for the big ones, so cases with
more than MAX_ENTRIES input entries, or that take more than CASE_SECONDS, are left out too; the Rust tests cover those through finite
differences (well-conditioned ones) and the interpreter/emitted-code agreement.
"""

import json
import math
import os
import random
import signal
import sys

from mpmath import mp, mpf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import continuous  # noqa: E402
import generate as G  # noqa: E402

DPS = 40
MAX_ENTRIES = 96
CASE_SECONDS = 30
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grad_cases.json")

# ---- one input entry replaced by an mpf -------------------------------------------------------

OVERRIDE = {}
UNRESOLVED = []
_tensor = G.Param.tensor


def _patched(self):
    t = _tensor(self)
    if self.name in OVERRIDE:
        k, x = OVERRIDE[self.name]
        data = list(t.data)
        data[k] = x
        return G.T(t.shape, data)
    return t


G.Param.tensor = _patched


def integer_inputs(expr):
    """Names of inputs that are integers by meaning: Binomial counts and discrete values."""
    out = set()
    for n in G.nodes(expr):
        if isinstance(n, G.Binomial):
            out |= {p.name for p in n.count.params()}
        if isinstance(n, G.LogProb):
            base = n.p
            while hasattr(base, "base"):
                base = base.base
            name = type(base).__name__
            if name in G.DISCRETE or name in ("OneHotCategorical",):
                out |= {p.name for p in n.x.params()}
    return out


def values(expr):
    out = []
    for x in expr.evaluate().data:
        if not isinstance(x, mpf) or mp.isinf(x) or mp.isnan(x):
            raise ValueError("not a finite real")  # a step left the domain (log of a negative)
        out.append(x)
    return out


def derivative(expr, name, k, x0, dps, extra=0):
    """d(sum of the result)/d(entry k of `name`) at x0: a central difference of every output
    element separately (so that a huge element elsewhere in the result cannot swamp the change
    of a small one), summed; relative step h = 10^-dps at 3 * dps working digits, so that the
    truncation error (h^2) and the rounding error (10^-3dps / h) are both far below 1e-dps.
    `extra` more digits resolve an entry's effect on a result element much larger than it (the
    value 1e200 of a KL whose gradient in one entry is 1e100 times an entry of 1, or an entry
    of 1e-300 next to values of order 1)."""
    with mp.workdps(3 * dps + extra):
        h = mpf(10) ** (-dps)
        step = h * abs(x0) if x0 != 0 else h

        def at(x):
            OVERRIDE[name] = (k, x)
            try:
                return values(expr)
            finally:
                OVERRIDE.pop(name, None)

        up, down = at(x0 + step), at(x0 - step)
        d = mp.fsum((a - b) for a, b in zip(up, down)) / (2 * step)
    with mp.workdps(dps):
        return +d


def upper_of_tril(expr, name, shape, k):
    """Whether entry k of `name` is strictly above the diagonal of a scale_tril."""
    for n in G.nodes(expr):
        if isinstance(n, G.MVN) and n.kind == "scale_tril" and name in {p.name for p in n.mat.params()}:
            d = shape[-1]
            return (k % (d * d)) % d > (k % (d * d)) // d
    return False


def grad_case(name, cls, f):
    expr = f(random.Random(G.seed_of(name)))
    data = {}
    for p in expr.params():
        data[p.name] = p.value
    with mp.workdps(DPS):
        v = expr.evaluate()
        if any(mp.isinf(x) for x in v.data):
            return None
    if sum(len(list(G.flatten(x))) for x in data.values()) > MAX_ENTRIES:
        return None
    ints = integer_inputs(expr)
    # Digits beyond 3 * DPS: the decades between the largest result element and 1, and between
    # 1 and the smallest nonzero input (see `derivative`).
    with mp.workdps(DPS):
        big = max([abs(x) for x in v.data] + [mpf(1)])
        small = min([abs(mpf(x)) for vals in data.values() for x in G.flatten(vals) if x != 0] + [mpf(1)])
        extra = min(int(mp.ceil(mp.log10(big))) + int(mp.ceil(-mp.log10(small))) + 5, 400)
    out = {}
    for pname, value in sorted(data.items()):
        flat = list(G.flatten(value))
        shape = G.nested_shape(value)
        lo, hi = [], []
        for k, x in enumerate(flat):
            if pname in ints or upper_of_tril(expr, pname, shape, k):
                lo.append(None)
                hi.append(None)
                continue
            try:
                lo.append(derivative(expr, pname, k, mpf(x), DPS, extra))
                hi.append(derivative(expr, pname, k, mpf(x), 2 * DPS, extra))
            except (AssertionError, ValueError, ZeroDivisionError, OverflowError):
                lo.append(None)
                hi.append(None)
        scale = max([abs(h) for h in hi if h is not None] + [mpf(0)])
        for k, (a, b) in enumerate(zip(lo, hi)):
            if a is not None and not abs(a - b) <= mpf("1e-25") * scale + mpf("1e-300"):
                # The difference does not resolve this entry (the value moves by more than its
                # linear part over any step the precision allows): left out, and listed.
                UNRESOLVED.append(f"{name}: d/d{pname}[{k}]")
                lo[k] = None
        conv = [None if a is None else to_f64(a) for a in lo]
        out[pname] = nest(shape, conv)
    return {"name": name, "grad": out}


def to_f64(x):
    """The nearest f64, or "inf" / "-inf" for a derivative beyond its range (JSON has no
    infinity)."""
    try:
        return G.ref_float(x)
    except OverflowError:
        return "inf" if x > 0 else "-inf"


def nest(shape, flat):
    if not shape:
        return flat[0]
    step = len(flat) // shape[0]
    if len(shape) == 1:
        return flat
    return [nest(shape[1:], flat[i * step:(i + 1) * step]) for i in range(shape[0])]


class Slow(Exception):
    pass


def _alarm(_signum, _frame):
    raise Slow()


def main():
    continuous.CHECKS["on"] = False  # the closed forms were checked when cases.json was made
    only = set(sys.argv[1:])
    out, slow = [], []
    signal.signal(signal.SIGALRM, _alarm)
    for name, cls, f in G.CASES:
        if only and name not in only:
            continue
        # A case whose defining sums at the digits it needs take more than CASE_SECONDS (a
        # Binomial of 1e6 trials with probs 1e-300) is left out, and listed.
        signal.alarm(CASE_SECONDS)
        try:
            c = grad_case(name, cls, f)
        except Slow:
            slow.append(name)
            c = None
        finally:
            signal.alarm(0)
        if c is not None:
            out.append(c)
    lines = ["{", '  "generator": "tests/reference/gradients.py",', f'  "dps": {DPS},', '  "cases": [']
    for n, c in enumerate(out):
        lines.append("    " + json.dumps(c, allow_nan=False) + ("," if n + 1 < len(out) else ""))
    lines += ["  ]", "}"]
    text = "\n".join(lines) + "\n"
    json.loads(text)
    if not only:
        with open(OUT, "w") as fh:
            fh.write(text)
    entries = sum(1 for c in out for g in c["grad"].values() for v in G.flatten(g) if v is not None)
    print(f"{len(out)} cases, {entries} gradient entries" + ("" if only else f" -> {os.path.relpath(OUT)}"))
    print(f"{len(slow)} cases over {CASE_SECONDS} s (left out): {', '.join(slow)}")
    print(f"{len(UNRESOLVED)} entries not resolved at {DPS} and {2 * DPS} digits (left out):")
    for u in UNRESOLVED:
        print("  " + u)


if __name__ == "__main__":
    main()
