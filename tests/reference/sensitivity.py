#!/usr/bin/env python3
"""How much the exact KL of an ill-conditioned reference case moves when its f64 inputs move by
at most one rounding (a relative change of at most 2^-53 per entry, symmetric matrices kept
symmetric), computed with mpmath at 60 digits.

This is the accuracy floor of any algorithm that works in f64 and is backward stable (whose
result is the exact KL of inputs perturbed by about one rounding): an error target below this
number can only be met by computing in extended precision from the inputs as given.

    python3 tests/reference/sensitivity.py [CASE ...] > tests/reference/SENSITIVITY.md
    # default: every `ill_*` MVN pair

Prints a markdown table, per case: the target (cond * 1e-15) and the largest relative change of
the exact KL over 40 random perturbations of both sides.
"""

import json
import random
import re
import sys
from pathlib import Path

from mpmath import log, matrix, mp, mpf

mp.dps = 60
HERE = Path(__file__).resolve().parent
EPS = mpf(2) ** -53


def cov_of(kind, M):
    """The covariance matrix of an MVN side given by `kind`."""
    A = matrix(M)
    if kind == "covariance_matrix":
        return A
    if kind == "precision_matrix":
        return A**-1
    # scale_tril: only the lower triangle is read.
    n = A.rows
    L = matrix(n, n)
    for i in range(n):
        for j in range(i + 1):
            L[i, j] = A[i, j]
    return L * L.T


def kl(kinds, mats, m1, m2):
    S1, S2 = cov_of(kinds[0], mats[0]), cov_of(kinds[1], mats[1])
    d = S1.rows
    S2i = S2**-1
    dm = matrix([mpf(b) - mpf(a) for a, b in zip(m1, m2)])
    tr = sum((S2i * S1)[i, i] for i in range(d))
    maha = (dm.T * S2i * dm)[0, 0]
    return (tr - d + maha + log(mp.det(S2)) - log(mp.det(S1))) / 2


def perturb(kind, M, rng):
    M = [[mpf(x) for x in row] for row in M]
    n = len(M)
    for i in range(n):
        for j in range(i + 1):
            f = 1 + EPS * (2 * rng.random() - 1)
            M[i][j] *= f
            if kind != "scale_tril" and i != j:
                M[j][i] = M[i][j]
    return M


def main():
    cases = json.loads((HERE / "cases.json").read_text())
    cases = cases["cases"] if isinstance(cases, dict) else cases
    names = sys.argv[1:]
    pattern = re.compile(r"MultivariateNormal\((\w+), (\w+)=(\w+)\) \|\| MultivariateNormal\((\w+), (\w+)=(\w+)\)$")
    print("# Sensitivity of the ill-conditioned reference cases\n")
    print("Made by `tests/reference/sensitivity.py` (mpmath, 60 digits; not run by CI). Sensitivity: the")
    print("largest relative change of the exact KL over 40 random perturbations of every input entry by at")
    print("most 2^-53 relative (one rounding), symmetric matrices kept symmetric. A backward-stable f64")
    print("algorithm is only guaranteed this accuracy; `kl` does better where it can subtract the two sides'")
    print("matrices exactly (covariance/covariance, precision/precision, scale_tril/scale_tril), and cannot")
    print("where the two sides are given by different matrices (precision against covariance).\n")
    print("| case | target (cond · 1e-15) | sensitivity |")
    print("|---|---:|---:|")
    for c in cases:
        m = pattern.match(c["expr"])
        if not m or (names and c["name"] not in names) or (not names and not c["name"].startswith("ill_")):
            continue
        a, k1, x1, b, k2, x2 = m.groups()
        data = c["data"]
        base = kl((k1, k2), (data[x1], data[x2]), data[a], data[b])
        rng = random.Random(c["name"])
        worst = mpf(0)
        for _ in range(40):
            v = kl((k1, k2), (perturb(k1, data[x1], rng), perturb(k2, data[x2], rng)), data[a], data[b])
            worst = max(worst, abs((v - base) / base))
        print(f"| `{c['name']}` | {c['cond'] * 1e-15:.1e} | {float(worst):.2e} |")


if __name__ == "__main__":
    main()
