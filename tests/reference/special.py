#!/usr/bin/env python3
"""Reference values for `kl_runtime::special`, written to `kl-runtime/tests/data/special/`.

    python3 -m venv /tmp/venv-sp && /tmp/venv-sp/bin/pip install mpmath
    /tmp/venv-sp/bin/python tests/reference/special.py

Every value is computed in mpmath from its definition (no stable reformulation: the
differences are formed as plain differences, at enough digits that they do not cancel), at
40 significant digits or more, and rounded to the nearest f64. The files are little-endian
f64 rows without a header (the column counts are fixed below and in `tests/special.rs`):

    gamma.bin   x, lgamma(x), digamma(x), trigamma(x)
    bessel.bin  x, i0e(x), i1e(x), ln_i0(x), bessel_ratio(x)        (x >= 0)
    diff.bin    a, h, lgamma_diff, lgamma_excess, digamma_diff, digamma_excess
    std.bin     x, ln(1 + x), e^x − 1    (the std `ln_1p` / `exp_m1` the kernels build on)
    erf.bin     x, erf(x)                 (the `libm` crate's, behind `Real::erf`)

Functions share their files (and points) to keep the data near 12 MB. Inputs are rounded to
f32 first, so that one file serves both precisions, except for the blocks marked `f64 only`
(points closer to the zeros of lgamma and digamma than f32 can represent), which the test
skips for f32. Every block draws from its own `random.Random(seed)`: rerunning reproduces the
files byte for byte. It takes a few minutes.
"""

import os
import random
import struct

import mpmath as mp
from mpmath.libmp import to_float

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "kl-runtime", "tests", "data", "special")
X0 = 1.4616321449683623  # the positive zero of digamma, near enough to centre the dense block


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def nearest(v):
    """An mpf rounded to the nearest f64 (float() would truncate)."""
    return to_float(mp.mpf(v)._mpf_, rnd="n")


def loguniform(rng, lo, hi):
    return 10 ** rng.uniform(mp.log10(lo), mp.log10(hi))


def points(seed, n, draw, exact32=True):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        x = float(draw(rng))
        x = f32(x) if exact32 else x
        if x > 0:
            out.append(x)
    return out


def near(c, lo, hi):
    """c (1 + r) with r log-uniform in [lo, hi] and a random sign."""
    return lambda rng: c * (1 + rng.choice((-1, 1)) * loguniform(rng, lo, hi))


def write(name, rows):
    with open(os.path.join(OUT, name), "wb") as f:
        for row in rows:
            f.write(struct.pack("<%dd" % len(row), *row))
    print(f"{name}: {len(rows)} rows")


def gamma_rows():
    xs = (
        points(1, 35_000, lambda r: loguniform(r, 1e-3, 1e3))
        + points(2, 25_000, lambda r: r.uniform(0.5, 5))
        + points(3, 10_000, near(1.0, 1e-7, 0.1))
        + points(4, 10_000, near(2.0, 1e-7, 0.1))
        + points(5, 10_000, near(X0, 1e-7, 0.1))
        + points(6, 2_500, lambda r: loguniform(r, 1e-30, 1e-3))
        + points(7, 2_500, lambda r: loguniform(r, 1e3, 1e30))
        # f64 only: down to 1e-15 from the zeros.
        + points(8, 2_000, near(1.0, 1e-15, 1e-6), exact32=False)
        + points(9, 2_000, near(2.0, 1e-15, 1e-6), exact32=False)
        + points(10, 2_000, near(X0, 1e-15, 1e-6), exact32=False)
    )
    rows = []
    with mp.workdps(40):
        for x in xs:
            m = mp.mpf(x)
            rows.append((x, nearest(mp.loggamma(m)), nearest(mp.digamma(m)), nearest(mp.psi(1, m))))
    return rows


def bessel_rows():
    xs = (
        points(11, 50_000, lambda r: loguniform(r, 1e-6, 700))
        + points(12, 50_000, lambda r: r.uniform(0, 30))
        + points(13, 2_000, lambda r: loguniform(r, 700, 1e6))
    )
    rows = []
    with mp.workdps(40):
        for x in xs:
            m = mp.mpf(x)
            i0, i1 = mp.besseli(0, m), mp.besseli(1, m)
            e = mp.exp(-m)
            rows.append((x, nearest(i0 * e), nearest(i1 * e), nearest(mp.log(i0)), nearest(i1 / i0)))
    return rows


def diff_rows():
    def draw(lo, hi, signed):
        def pair(rng):
            a = f32(loguniform(rng, 1e-2, 1e3))
            r = loguniform(rng, lo, hi)
            s = rng.choice((-1, 1)) if signed else 1
            return a, f32(s * a * r)

        return pair

    pairs = []
    for seed, n, d in [(21, 100_000, draw(1e-12, 1, True)), (22, 10_000, draw(1, 1e3, False))]:
        rng, got = random.Random(seed), 0
        while got < n:
            a, h = d(rng)
            if a + h > 0 and h != 0:
                pairs.append((a, h))
                got += 1
    rows = []
    for a, h in pairs:
        # The excesses cancel to ~ (h/a)² of the terms: 2 digits more per decade of h/a.
        lost = max(0, -2 * int(mp.log10(abs(h) / a)))
        with mp.workdps(40 + lost):
            ma, mh = mp.mpf(a), mp.mpf(h)
            y = ma + mh
            lg = mp.loggamma(y) - mp.loggamma(ma)
            pa, py = mp.digamma(ma), mp.digamma(y)
            rows.append((a, h, nearest(lg), nearest(lg - mh * pa), nearest(py - pa), nearest(py - pa - mh * mp.psi(1, ma))))
    return rows


def std_rows():
    rng = random.Random(31)
    xs = [f32(rng.choice((-1, 1)) * loguniform(rng, 1e-12, 0.9)) for _ in range(100_000)]
    rows = []
    with mp.workdps(40):
        for x in xs:
            m = mp.mpf(x)
            rows.append((x, nearest(mp.log1p(m)), nearest(mp.expm1(m))))
    return rows


def erf_rows():
    rng = random.Random(37)
    # Log-uniform over ±[1e-10, 6.5] (erf is 1 in f64 beyond 6), and dense over [0.5, 3].
    xs = [f32(rng.choice((-1, 1)) * loguniform(rng, 1e-10, 6.5)) for _ in range(70_000)]
    xs += [f32(rng.uniform(0.5, 3.0)) for _ in range(30_000)]
    with mp.workdps(40):
        return [(x, nearest(mp.erf(mp.mpf(x)))) for x in xs]


def main():
    os.makedirs(OUT, exist_ok=True)
    write("gamma.bin", gamma_rows())
    write("bessel.bin", bessel_rows())
    write("diff.bin", diff_rows())
    write("std.bin", std_rows())
    write("erf.bin", erf_rows())


if __name__ == "__main__":
    main()
