#!/usr/bin/env python3
"""The f32 polynomials of `kl-runtime/src/simd/math.rs`'s exponentials, refitted.

    python tests/reference/exp_fit.py exp 5        # `exp_lean`: e^r = 1 + c1 r + ... + c5 r^5
    python tests/reference/exp_fit.py expm1mx 4    # `expm1_pair_lean`: (e^r - 1 - r) / r^2 = g0 + ... + g4 r^4

Each fit minimizes the relative error on |r| <= ln(2)/2 (plus 2e-7 for the rounding of
`k = round(x log2 e)`): Lawson-weighted least squares on Chebyshev nodes, against mpmath at 40
digits, which converges to the minimax fit. The coefficients are then rounded to f32 and the
worst relative error of the rounded polynomial, evaluated exactly, is measured on a dense grid
and printed in units of 2^-24 (what the doc comments quote). Needs mpmath and numpy
(benches/compare/.venv has both). Deterministic.
"""

import sys

import mpmath as mp
import numpy as np

mp.mp.dps = 40


def lawson(rows, target, iters=300):
    """Weighted least squares whose weights converge to the minimax (equioscillating) fit."""
    a, b = np.array(rows), np.array(target)
    w = np.ones(len(b))
    for _ in range(iters):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(a * sw[:, None], b * sw, rcond=None)
        w = w * np.abs(a @ c - b)
        w /= w.sum()
    return [float(np.float32(v)) for v in c]


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("exp", "expm1mx"):
        sys.exit(__doc__)
    kind, deg = sys.argv[1], int(sys.argv[2])
    half = mp.log(2) / 2
    r_max = half + mp.mpf("2e-7")
    n = 4000
    xs = [r_max * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n)]
    if kind == "exp":
        # `exp_lean`: c0 = 1 exact, c1..c_deg fitted.
        first = 1
        poly = lambda cs, x: 1 + sum(mp.mpf(c) * x ** (j + first) for j, c in enumerate(cs))
        exact = lambda x: mp.e**x
        rows = [[float(x**j / exact(x)) for j in range(first, deg + 1)] for x in xs]
        target = [float((exact(x) - 1) / exact(x)) for x in xs]
    else:
        # `expm1_pair_lean`: g(r) = (e^r - 1 - r) / r^2, all of g0..g_deg fitted.
        first = 0
        poly = lambda cs, x: sum(mp.mpf(c) * x**j for j, c in enumerate(cs))
        exact = lambda x: (mp.e**x - 1 - x) / x**2
        rows = [[float(x**j / exact(x)) for j in range(0, deg + 1)] for x in xs]
        target = [1.0] * n
    cs = lawson(rows, target)
    worst = mp.mpf(0)
    grid = 40000
    for k in range(grid + 1):
        x = -r_max + 2 * r_max * k / grid
        if x == 0:
            continue
        worst = max(worst, abs(poly(cs, x) / exact(x) - 1))
    names = ", ".join(f"c{j + first}" for j in range(len(cs)))
    print(f"{kind} degree {deg}: {names} =")
    for c in cs:
        print(f"    {c!r}")
    print(f"worst relative error with f32 coefficients: {mp.nstr(worst, 5)} = {mp.nstr(worst * 2**24, 4)} units of 2^-24")


if __name__ == "__main__":
    main()
