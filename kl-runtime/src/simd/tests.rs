//! The lane logarithms against the scalar kernels, on every lane type the CPU runs.

use super::arith::Arith;
use super::lanes::Tiles;
use super::portable::Arr;
#[cfg(target_arch = "x86_64")]
use super::{avx2::F64x4, avx512::F64x8};

/// Deterministic values: mantissas in `[1, 2)` times `2^e`, `e` in `emin..=emax`.
fn spread(n: usize, emin: i32, emax: i32, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let m = 1.0 + (s >> 11) as f64 / (1u64 << 53) as f64;
            m * 2f64.powi(emin + (s % (emax - emin + 1) as u64) as i32)
        })
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        ((a - b) / b).abs()
    }
}

/// `f` on `N`-lane chunks of `xs` (the last padded with copies), lane by lane.
#[cfg(target_arch = "x86_64")]
fn on_lanes<V: Tiles<T = f64>>(xs: &[f64], f: impl Fn(V) -> V) -> Vec<f64> {
    let mut out = Vec::new();
    for c in xs.chunks(V::N) {
        let mut buf = vec![c[0]; V::N];
        buf[..c.len()].copy_from_slice(c);
        let mut r = vec![0.0; V::N];
        unsafe { f(V::load_n(buf.as_ptr(), V::N)).store(r.as_mut_ptr()) };
        out.extend_from_slice(&r[..c.len()]);
    }
    out
}

fn srt_matches<V: Tiles<T = f64>>() {
    let bs = spread(3000, -400, 400, 0x2545_f491_4f6c_dd1d);
    let near = spread(3000, -60, -1, 0x1234_5678_9abc_def1);
    for (k, scale) in [
        (0usize, 1.0),
        (1, 0.3),
        (2, 1.5),
        (3, 1.0 / 1.5),
        (4, 1e10),
        (5, 1e-10),
        (6, std::f64::consts::SQRT_2),
        (7, std::f64::consts::FRAC_1_SQRT_2),
    ] {
        let pairs: Vec<(f64, f64)> = bs
            .iter()
            .zip(&near)
            .enumerate()
            .map(|(i, (&b, &n))| {
                let n = if i % 2 == 0 { n } else { -0.5 * n };
                let a = if k < 2 { b * (1.0 + scale * n) } else { b * scale };
                (if i % 3 == 0 { -a } else { a }, b)
            })
            .collect();
        let a: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let b: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        for (c, (ca, cb)) in a.chunks(V::N).zip(b.chunks(V::N)).enumerate() {
            if ca.len() < V::N {
                continue;
            }
            let (va, vb) = unsafe { (V::load_n(ca.as_ptr(), V::N), V::load_n(cb.as_ptr(), V::N)) };
            let (t, r) = V::scale_ratio_terms(&[va], &[vb], &[V::splat(1.0) / vb]);
            let (mut tt, mut rr) = (vec![0.0; V::N], vec![0.0; V::N]);
            unsafe { (t[0].store(tt.as_mut_ptr()), r[0].store(rr.as_mut_ptr())) };
            for l in 0..V::N {
                let want = crate::scalar::scale_ratio_term(ca[l], cb[l]);
                if rr[l].is_finite() && rr[l] >= f64::MIN_POSITIVE {
                    assert!(
                        rel(tt[l], want) <= 4e-15,
                        "chunk {c}: ({:e}, {:e}): {:e} vs {want:e}",
                        ca[l],
                        cb[l],
                        tt[l]
                    );
                }
            }
        }
    }
}

fn neg_log1pmx_matches<V: Tiles<T = f64>>() {
    let mut xs: Vec<f64> =
        spread(4000, -60, -1, 7).iter().enumerate().map(|(i, &x)| if i % 2 == 0 { x } else { -x }).collect();
    xs.extend(spread(2000, -3, 6, 8));
    xs.extend(spread(2000, -3, -1, 9).iter().map(|&x| -x.min(0.999_999)));
    xs.extend([0.0, -0.5, 0.5, -0.2928, 0.4142, 0.4143, -0.2930, -0.9999, 1e6]);
    let mut got = Vec::new();
    for c in xs.chunks(V::N) {
        let mut b = vec![0.0; V::N];
        b[..c.len()].copy_from_slice(c);
        let x = unsafe { V::load_n(b.as_ptr(), V::N) };
        let r = V::neg_log1pmx(&[x], &[x + V::splat(1.0)]);
        let mut o = vec![0.0; V::N];
        unsafe { r[0].store(o.as_mut_ptr()) };
        got.extend_from_slice(&o[..c.len()]);
    }
    for (&x, &g) in xs.iter().zip(&got) {
        let want = -crate::scalar::log1pmx(x);
        assert!(rel(g, want) <= 8e-15, "-log1pmx({x:e}): {g:e} vs {want:e}");
    }
    assert_eq!(got[xs.len() - 9], 0.0);
}

/// The `f32` `exp` of [`super::math`] on `V`, in ulps of the correctly rounded value, at most
/// over a dense grid of `[−87, 88]` and near its ends.
fn exp_f32_ulps<V: super::Bits + super::Lanes<T = f32>>() -> f64 {
    worst_on_exp_grid::<V>(super::math::exp, |x, g| {
        let want = x.exp();
        let ulp = f64::from((want as f32).next_up()) - f64::from(want as f32);
        (g - want).abs() / ulp
    })
}

/// `exp` on `f32` lanes stays within the 2 ulp its documentation (and the error bounds of
/// `logit_rows`, which count it as 4 units of roundoff) rely on, on every lane type.
#[test]
fn f32_exp_is_within_two_ulp() {
    let mut all = vec![("Arr<f32, 1>", exp_f32_ulps::<Arr<f32, 1>>()), ("Arr<f32, 4>", exp_f32_ulps::<Arr<f32, 4>>())];
    #[cfg(target_arch = "x86_64")]
    {
        let isas = super::Isa::available();
        if isas.contains(&super::Isa::Avx2) {
            all.push(("F32x8", exp_f32_ulps::<super::avx2::F32x8>()));
        }
        if isas.contains(&super::Isa::Avx512) {
            all.push(("F32x16", exp_f32_ulps::<super::avx512::F32x16>()));
        }
    }
    for (name, ulps) in all {
        eprintln!("exp on {name}: worst {ulps:.3} ulp");
        assert!(ulps <= 2.0, "exp on {name}: {ulps} ulp");
    }
}

/// The grid of [`exp_f32_ulps`]: `[−87, 88]` and a dense stretch around 0.
fn exp_grid() -> Vec<f32> {
    let n = 400_000;
    (0..=n).map(|i| -87.0 + 175.0 * i as f32 / n as f32).chain((0..1000).map(|i| -1e-3 + 2e-6 * i as f32)).collect()
}

/// The worst error, in units of roundoff (`2^-24`, relative to the exact value), less
/// `|x| / 16`, of the `f32` lanes `f` against `want` (exact in `f64`) over [`exp_grid`].
fn lean_excess<V: super::Bits + super::Lanes<T = f32>>(f: impl Fn(V) -> V, want: impl Fn(f64) -> f64) -> f64 {
    worst_on_exp_grid::<V>(f, |x, g| rel(g, want(x)) / 2f64.powi(-24) - x.abs() / 16.0)
}

/// The largest `score(x, f(x))` over [`exp_grid`], with `f` run on lanes `V` (both values
/// widened to `f64`).
fn worst_on_exp_grid<V: super::Bits + super::Lanes<T = f32>>(
    f: impl Fn(V) -> V,
    score: impl Fn(f64, f64) -> f64,
) -> f64 {
    let xs = exp_grid();
    let mut worst = f64::NEG_INFINITY;
    for c in xs.chunks_exact(V::N) {
        let mut r = [0.0_f32; 16];
        // SAFETY: the test runs only lane types the CPU has; `c` and `r` hold `V::N` values.
        unsafe { f(V::load(c.as_ptr())).store(r.as_mut_ptr()) };
        for (&x, &g) in c.iter().zip(&r) {
            worst = worst.max(score(f64::from(x), f64::from(g)));
        }
    }
    worst
}

/// `e^x − 1 − x` in `f64` without its cancellation near 0.
fn expm1mx(x: f64) -> f64 {
    if x.abs() < 1e-2 {
        // The series to x^9: the rest is below 1e-22 of the value.
        (2..=9).rev().fold(0.0, |acc, j| (acc + 1.0 / (1..=j).map(f64::from).product::<f64>()) * x) * x
    } else {
        x.exp_m1() - x
    }
}

/// The lean forms' worst excess over their documented bounds on one lane type: `exp_lean`
/// within `4 + |x| / 16` units, both outputs of `expm1_pair_lean` within `12 + |x| / 16`.
/// Returns the failures (after printing every excess).
fn lean_excesses<V: super::Bits + super::Lanes<T = f32>>(name: &str) -> Vec<String> {
    let e = lean_excess::<V>(super::math::exp_lean, f64::exp);
    let m1 = lean_excess::<V>(|x| super::math::expm1_pair_lean(x).0, f64::exp_m1);
    let mx = lean_excess::<V>(|x| super::math::expm1_pair_lean(x).1, expm1mx);
    eprintln!("{name}: exp_lean {e:.3}, expm1 {m1:.3}, expm1 − x {mx:.3} units beyond |x|/16");
    let mut bad = Vec::new();
    if e > 4.0 {
        bad.push(format!("exp_lean on {name}: {e} units beyond |x| / 16"));
    }
    if m1 > 12.0 || mx > 12.0 {
        bad.push(format!("expm1_pair_lean on {name}: {m1}, {mx} units beyond |x| / 16"));
    }
    bad
}

/// `exp_lean` and `expm1_pair_lean` stay within the bounds their documentation (and the error
/// bound of the plain Categorical form in `logit_rows`) rely on, on every lane type.
#[test]
fn f32_lean_exps_are_within_their_bounds() {
    let mut bad = lean_excesses::<Arr<f32, 1>>("Arr<f32, 1>");
    bad.extend(lean_excesses::<Arr<f32, 4>>("Arr<f32, 4>"));
    #[cfg(target_arch = "x86_64")]
    {
        let isas = super::Isa::available();
        if isas.contains(&super::Isa::Avx2) {
            bad.extend(lean_excesses::<super::avx2::F32x8>("F32x8"));
        }
        if isas.contains(&super::Isa::Avx512) {
            bad.extend(lean_excesses::<super::avx512::F32x16>("F32x16"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("; "));
}

#[test]
fn lane_kernels_match_the_scalar_ones() {
    srt_matches::<Arr<f64, 4>>();
    neg_log1pmx_matches::<Arr<f64, 4>>();
    #[cfg(target_arch = "x86_64")]
    {
        let isas = super::Isa::available();
        if isas.contains(&super::Isa::Avx2) {
            srt_matches::<F64x4>();
            neg_log1pmx_matches::<F64x4>();
        }
        if isas.contains(&super::Isa::Avx512) {
            srt_matches::<F64x8>();
            neg_log1pmx_matches::<F64x8>();
            let x = spread(1000, -500, 500, 3);
            for (g, &x) in on_lanes::<F64x8>(&x, F64x8::rsqrt).iter().zip(&x) {
                assert!(rel(*g, 1.0 / x.sqrt()) <= 4e-16, "rsqrt({x:e}): {g:e}");
            }
        }
    }
}
