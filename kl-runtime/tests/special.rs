//! `kl_runtime::special` against mpmath: the files under `tests/data/special/` hold inputs and
//! their 40-digit values rounded to f64 (written by `tests/reference/special.py`).
//!
//! f64 errors are measured in ulps of the reference value; f32 errors relatively, against the
//! f64 reference of the same input, on the rows whose inputs are exactly f32 (all but the blocks
//! the generator marks `f64 only`). `lgamma_diff` is measured against its condition scale
//! instead (see [`lgamma_diff_matches_mpmath`]). Run with `--nocapture` for the table of worst
//! errors that `src/special/ACCURACY.md` quotes.

use kl_runtime::special::*;

fn read(name: &str, cols: usize) -> Vec<Vec<f64>> {
    let path = format!("{}/tests/data/special/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(bytes.len() % (8 * cols), 0, "{path}: not rows of {cols} f64");
    let vals: Vec<f64> = bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
    vals.chunks_exact(cols).map(<[f64]>::to_vec).collect()
}

/// The spacing of f64 at `v` (subnormal spacing below the normal range).
fn ulp(v: f64) -> f64 {
    let v = v.abs();
    if v < f64::MIN_POSITIVE {
        f64::from_bits(1)
    } else {
        f64::from_bits(v.to_bits() & 0x7ff0_0000_0000_0000) * f64::EPSILON
    }
}

/// Error of `got` in units of `scale` (`ulp(want)` unless given), `0` for equal values and
/// infinities of the same sign.
fn err_in(got: f64, want: f64, scale: f64) -> f64 {
    if got == want {
        0.0
    } else if got.is_nan() || want.is_nan() || got.is_infinite() || want.is_infinite() {
        f64::INFINITY
    } else {
        (got - want).abs() / scale
    }
}

/// The f32 relative error of `got` against the f64 reference `want`: absolute in units of the
/// smallest normal f32 below the normal range; `0` where `want` overflows f32 and `got` is the
/// infinity of its sign.
fn rel32(got: f32, want: f64, scale: f64) -> f64 {
    if want.abs() > f32::MAX as f64 && got as f64 == want.signum() * f64::INFINITY {
        return 0.0;
    }
    err_in(got as f64, want, scale.max(f32::MIN_POSITIVE as f64))
}

/// The worst error seen, and where.
#[derive(Clone, Copy)]
struct Worst {
    err: f64,
    at: [f64; 2],
    n: usize,
}

impl Worst {
    fn new() -> Worst {
        Worst { err: 0.0, at: [f64::NAN; 2], n: 0 }
    }
    fn add(&mut self, err: f64, at: &[f64]) {
        self.n += 1;
        if err.is_nan() || err > self.err {
            self.err = err;
            self.at = [at[0], at.get(1).copied().unwrap_or(f64::NAN)];
        }
    }
    /// Prints a table row and asserts the bound.
    fn check(&self, name: &str, prec: &str, unit: &str, bound: f64) {
        let at = if self.at[1].is_nan() {
            format!("x = {:e}", self.at[0])
        } else {
            format!("a = {:e}, h = {:e}", self.at[0], self.at[1])
        };
        let err = if unit == "ulp" { format!("{:.1} ulp", self.err) } else { format!("{:.1e} {unit}", self.err) };
        println!("| {name} | {prec} | {err} | {at} | {} |", self.n);
        assert!(self.n > 1000, "{name} {prec}: only {} points", self.n);
        assert!(self.err <= bound, "{name} {prec}: {} {unit} > {bound} at {at}", self.err);
    }
}

fn is_f32(x: f64) -> bool {
    x as f32 as f64 == x
}

/// Points reported apart: near a zero of the function, with their absolute error too.
#[derive(Clone, Copy)]
struct Region {
    label: &'static str,
    inside: fn(f64) -> bool,
    /// The bound on the absolute error there.
    abs: f64,
}

/// One function of one argument, in ulps (f64) and relatively (f32), optionally split by a
/// region whose f64 errors are reported (and bounded) apart.
#[allow(clippy::too_many_arguments)]
fn one_arg(
    rows: &[Vec<f64>],
    col: usize,
    name: &str,
    f64_fn: fn(f64) -> f64,
    f32_fn: fn(f32) -> f32,
    ulps: f64,
    rel: f64,
    region: Option<Region>,
) {
    let (mut w64, mut w_in, mut w_abs, mut w32) = (Worst::new(), Worst::new(), Worst::new(), Worst::new());
    for r in rows {
        let (x, want) = (r[0], r[col]);
        let got = f64_fn(x);
        match region {
            Some(Region { inside, .. }) if inside(x) => {
                w_in.add(err_in(got, want, ulp(want)), &r[..1]);
                w_abs.add(err_in(got, want, 1.0), &r[..1]);
            }
            _ => w64.add(err_in(got, want, ulp(want)), &r[..1]),
        }
        if is_f32(x) {
            w32.add(rel32(f32_fn(x as f32), want, want.abs()), &r[..1]);
        }
    }
    w64.check(name, "f64", "ulp", ulps);
    if let Some(Region { label, abs, .. }) = region {
        w_in.check(&format!("{name} ({label})"), "f64", "ulp", ulps);
        w_abs.check(&format!("{name} ({label})"), "f64", "abs", abs);
    }
    w32.check(name, "f32", "rel", rel);
}

fn near_lgamma_zeros(x: f64) -> bool {
    (x - 1.0).abs() < 0.125 || (x - 2.0).abs() < 0.125
}

fn near_digamma_zero(x: f64) -> bool {
    (x - 1.461_632_144_968_362_3).abs() < 0.125
}

#[test]
fn lgamma_matches_mpmath() {
    let rows = read("gamma.bin", 4);
    one_arg(
        &rows,
        1,
        "lgamma",
        lgamma,
        lgamma,
        4.0,
        1e-6,
        Some(Region { label: "near 1, 2", inside: near_lgamma_zeros, abs: 1e-16 }),
    );
}

#[test]
fn digamma_matches_mpmath() {
    let rows = read("gamma.bin", 4);
    one_arg(
        &rows,
        2,
        "digamma",
        digamma,
        digamma,
        4.0,
        1e-6,
        Some(Region { label: "near x0", inside: near_digamma_zero, abs: 1e-16 }),
    );
}

#[test]
fn trigamma_matches_mpmath() {
    let rows = read("gamma.bin", 4);
    one_arg(&rows, 3, "trigamma", trigamma, trigamma, 8.0, 1e-6, None);
}

#[test]
fn bessel_matches_mpmath() {
    let rows = read("bessel.bin", 5);
    one_arg(&rows, 1, "i0e", i0e, i0e, 8.0, 1e-6, None);
    one_arg(&rows, 2, "i1e", i1e, i1e, 8.0, 1e-6, None);
    one_arg(&rows, 3, "ln_i0", ln_i0, ln_i0, 8.0, 1e-6, None);
    one_arg(&rows, 4, "bessel_ratio", bessel_ratio, bessel_ratio, 8.0, 1e-6, None);
    // i0e is even and i1e odd: the negative half of the line is the same numbers.
    for r in rows.iter().step_by(97) {
        assert_eq!(i0e(-r[0]), i0e(r[0]));
        assert_eq!(i1e(-r[0]), -i1e(r[0]));
    }
}

/// The std `ln_1p` and `exp_m1` the kernels build on, on `x` log-uniform in `±[1e-12, 0.9]`.
#[test]
fn std_log1p_expm1_match_mpmath() {
    let rows = read("std.bin", 3);
    one_arg(&rows, 1, "ln_1p (std)", f64::ln_1p, f32::ln_1p, 4.0, 1e-6, None);
    one_arg(&rows, 2, "exp_m1 (std)", f64::exp_m1, f32::exp_m1, 4.0, 1e-6, None);
}

/// The four differences: f64 in ulps, f32 relatively (`lgamma_diff` against its scale).
fn diff_case(col: usize, name: &str, f64_fn: fn(f64, f64) -> f64, f32_fn: fn(f32, f32) -> f32, ulps: f64) {
    let rows = read("diff.bin", 6);
    let (mut w64, mut w32, mut w_cond) = (Worst::new(), Worst::new(), Worst::new());
    for r in &rows {
        let (a, h, want) = (r[0], r[1], r[col]);
        // lgamma_diff crosses zero where lgamma(a + h) = lgamma(a); there no method keeps a
        // relative error, and the scale is what rounding the inputs alone moves it by:
        // a |ψ(a + h) − ψ(a)| + |h ψ(a + h)| (from the reference digamma_diff).
        let scale = if col == 2 {
            let dd = r[4];
            want.abs().max(a * dd.abs() + h.abs() * (digamma(a) + dd).abs())
        } else {
            want.abs()
        };
        let unit = if col == 2 { f64::EPSILON * scale } else { ulp(want) };
        let got = f64_fn(a, h);
        w64.add(err_in(got, want, unit), &r[..2]);
        if col == 2 && scale <= 2.0 * want.abs() {
            // Well-conditioned points of lgamma_diff, in plain ulps.
            w_cond.add(err_in(got, want, ulp(want)), &r[..2]);
        }
        w32.add(rel32(f32_fn(a as f32, h as f32), want, scale), &r[..2]);
    }
    let unit = if col == 2 { "eps·scale" } else { "ulp" };
    w64.check(name, "f64", unit, ulps);
    if col == 2 {
        w_cond.check(&format!("{name} (scale <= 2 |value|)"), "f64", "ulp", 2.0 * ulps);
    }
    w32.check(name, "f32", "rel", 1e-6);
}

/// Against `max(|value|, a |ψ(a + h) − ψ(a)| + |h ψ(a + h)|)`: relative where the value is not
/// near one of its zeros.
#[test]
fn lgamma_diff_matches_mpmath() {
    diff_case(2, "lgamma_diff", lgamma_diff, lgamma_diff, 4.0);
}

#[test]
fn lgamma_excess_matches_mpmath() {
    diff_case(3, "lgamma_excess", lgamma_excess, lgamma_excess, 8.0);
}

#[test]
fn digamma_diff_matches_mpmath() {
    diff_case(4, "digamma_diff", digamma_diff, digamma_diff, 8.0);
}

#[test]
fn digamma_excess_matches_mpmath() {
    diff_case(5, "digamma_excess", digamma_excess, digamma_excess, 8.0);
}

/// `Real::erf` (the `libm` crate's, for the Normal ‖ Laplace KL) on `x` log-uniform in
/// `±[1e-10, 6.5]` and uniform in `[0.5, 3]`.
#[test]
fn erf_matches_mpmath() {
    use kl_runtime::Real;
    let rows = read("erf.bin", 2);
    one_arg(&rows, 1, "erf", Real::erf, Real::erf, 2.0, 1e-6, None);
}
