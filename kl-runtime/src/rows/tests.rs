//! The row kernels against the scalar ones, on every instruction set the CPU has.

use super::*;
use crate::scalar::{normal_kl, normal_log_prob, std_normal_kl};
use crate::simd::Isa;

/// Deterministic uniform values in `[lo, hi)`.
fn values(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
    crate::testing::SplitMix64(seed).vec(n, lo, hi)
}

/// The row sums of the scalar kernels, in f64 on the (already rounded) inputs.
fn reference(kind: Kind, d: usize, ins: [&[f64]; 4]) -> Vec<(f64, f64)> {
    let b = ins[0].len().checked_div(d).unwrap_or(0);
    (0..b)
        .map(|i| {
            let (mut sum, mut abs) = (0.0, 0.0);
            #[allow(clippy::needless_range_loop)]
            for j in i * d..(i + 1) * d {
                let v = match kind {
                    Kind::NormalKl => normal_kl(ins[0][j], ins[1][j], ins[2][j], ins[3][j]),
                    Kind::StdNormalKl => std_normal_kl(ins[0][j], ins[1][j]),
                    Kind::NormalLogProb => normal_log_prob(ins[0][j], ins[1][j], ins[2][j]),
                };
                sum += v;
                abs += v.abs();
            }
            (sum, abs)
        })
        .collect()
}

fn call<T: Real>(kind: Kind, d: usize, ins: [&[T]; 4], out: &mut [T], check: bool) -> bool {
    match kind {
        Kind::NormalKl => normal_kl_rows(d, ins[0], ins[1], ins[2], ins[3], out, check),
        Kind::StdNormalKl => std_normal_kl_rows(d, ins[0], ins[1], out, check),
        Kind::NormalLogProb => normal_log_prob_rows(d, ins[0], ins[1], ins[2], out, check),
    }
}

/// Every kind, f64 and f32, through the dispatched path and the portable one, against the
/// scalar kernels: `tol` relative to the sum of the absolute terms.
fn agree(kind: Kind, d: usize, ins: [Vec<f64>; 4], tol64: f64, tol32: f64) {
    agree_in(kind, d, ins, tol64, Some(tol32))
}

/// [`agree_on`] on every instruction set of the CPU.
fn agree_in(kind: Kind, d: usize, ins: [Vec<f64>; 4], tol64: f64, tol32: Option<f64>) {
    for isa in Isa::available() {
        simd::on(isa, || agree_on(kind, d, &ins, tol64, tol32, isa));
    }
}

fn agree_on(kind: Kind, d: usize, ins: &[Vec<f64>; 4], tol64: f64, tol32: Option<f64>, isa: Isa) {
    let b = ins[0].len().checked_div(d).unwrap_or(0);
    let refs = |ins: [&[f64]; 4]| reference(kind, d, ins);
    let want = refs([&ins[0], &ins[1], &ins[2], &ins[3]]);
    let close = |got: f64, (want, abs): (f64, f64), tol: f64, what: &str| {
        assert!(
            (got - want).abs() <= tol * abs.max(f64::MIN_POSITIVE) || got == want,
            "{isa:?} {kind:?} d={d} b={b} {what}: {got:e} vs {want:e}"
        );
    };
    let mut out = vec![f64::NAN; b];
    assert!(call(kind, d, [&ins[0], &ins[1], &ins[2], &ins[3]], &mut out, true));
    for (i, &g) in out.iter().enumerate() {
        close(g, want[i], tol64, &format!("f64 row {i}"));
    }
    // f32: against the f64 value of the rounded inputs.
    let Some(tol32) = tol32 else { return };
    let ins32: Vec<Vec<f32>> = ins.iter().map(|x| x.iter().map(|&v| v as f32).collect()).collect();
    let wide: Vec<Vec<f64>> = ins32.iter().map(|x| x.iter().map(|&v| v as f64).collect()).collect();
    let want = refs([&wide[0], &wide[1], &wide[2], &wide[3]]);
    let mut out = vec![f32::NAN; b];
    assert!(call(kind, d, [&ins32[0], &ins32[1], &ins32[2], &ins32[3]], &mut out, true));
    for (i, &g) in out.iter().enumerate() {
        if want[i].0.abs() > f32::MAX as f64 {
            // Beyond f32's range: the f32 value overflows.
            assert_eq!(g as f64, want[i].0.signum() * f64::INFINITY, "{kind:?} f32 row {i}");
        } else {
            close(g as f64, want[i], tol32, &format!("f32 row {i}"));
        }
    }
}

const KINDS: [Kind; 3] = [Kind::NormalKl, Kind::StdNormalKl, Kind::NormalLogProb];

#[test]
fn every_layout_agrees_with_the_scalar_kernels() {
    // Multiples of both lane counts, shorter rows (flat blocks), long ragged rows.
    for d in [1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 64, 65, 100, 129, 300] {
        for b in [0, 1, 3, 7, 8, 9, 33, 130, 700] {
            let n = b * d;
            let seed = (d * 1000 + b) as u64;
            let ins = [
                values(n, -3.0, 3.0, seed),
                values(n, 0.05, 4.0, seed + 1),
                values(n, -3.0, 3.0, seed + 2),
                values(n, 0.05, 4.0, seed + 3),
            ];
            for kind in KINDS {
                let [a, b, c, e] = ins.clone();
                // log_prob takes `[x, m, s]`.
                let ins = if kind == Kind::NormalLogProb { [a, c, b.clone(), b] } else { [a, b, c, e] };
                agree(kind, d, ins, 1e-14, 2e-6);
            }
        }
    }
}

#[test]
fn near_equal_distributions_keep_their_relative_accuracy() {
    for (d, b) in [(8, 40), (3, 50), (64, 9)] {
        let n = b * d;
        let base = values(n, 0.1, 3.0, 7);
        let rel = values(n, -1.0, 1.0, 8);
        for eps in [1e-4, 1e-8, 1e-12] {
            let s1: Vec<f64> = base.iter().zip(&rel).map(|(s, e)| s * (1.0 + eps * e)).collect();
            let m = values(n, -1.0, 1.0, 9);
            // KL down to ~eps² per element: relative accuracy, not absolute.
            agree(Kind::NormalKl, d, [m.clone(), s1.clone(), m.clone(), base.clone()], 1e-13, 1e-5);
            let s: Vec<f64> = rel.iter().map(|e| 1.0 + eps * e).collect();
            agree(Kind::StdNormalKl, d, [vec![0.0; n], s.clone(), vec![0.0; n], s], 1e-13, 1e-5);
        }
    }
}

#[test]
fn extreme_scales_fall_back_to_the_scalar_kernels() {
    // Ratios that under- or overflow, subnormal scales, huge scales (1 / s2 subnormal).
    let d = 8;
    let mut s1 = values(8 * d, 0.5, 2.0, 1);
    let mut s2 = values(8 * d, 0.5, 2.0, 2);
    (s1[3], s2[3]) = (1e-150, 1e150);
    (s1[20], s2[20]) = (1e150, 1e-150);
    (s1[33], s2[33]) = (5e-324, 1.0);
    (s1[40], s2[40]) = (1.0, 1e308);
    (s1[50], s2[50]) = (1e-30, 1e30);
    let m = values(8 * d, -1.0, 1.0, 3);
    agree_in(Kind::NormalKl, d, [m.clone(), s1.clone(), m.clone(), s2.clone()], 1e-14, None);
    agree_in(Kind::StdNormalKl, d, [m.clone(), s1.clone(), m.clone(), s1.clone()], 1e-14, None);
    agree_in(Kind::NormalLogProb, d, [m.clone(), m.clone(), s2.clone(), s2.clone()], 1e-14, None);
    // The same for f32's range: subnormal f32 scales, ratios beyond it, 1 / s2 subnormal.
    (s1[3], s2[3]) = (1e-30, 1e30);
    (s1[20], s2[20]) = (1e30, 1e-30);
    (s1[33], s2[33]) = (1e-40, 1.0);
    (s1[40], s2[40]) = (1.0, 3e38);
    (s1[50], s2[50]) = (1e-20, 1e20);
    agree(Kind::NormalKl, d, [m.clone(), s1.clone(), m.clone(), s2.clone()], 1e-14, 2e-6);
    agree(Kind::StdNormalKl, d, [m.clone(), s1.clone(), m.clone(), s1.clone()], 1e-14, 2e-6);
    agree(Kind::NormalLogProb, d, [m.clone(), m.clone(), s2.clone(), s2], 1e-14, 2e-6);
}

#[test]
fn identical_distributions_give_exactly_zero() {
    for d in [3, 8, 64] {
        let m = values(50 * d, -5.0, 5.0, 4);
        let s = values(50 * d, 1e-3, 1e3, 5);
        let mut out = vec![1.0; 50];
        assert!(normal_kl_rows(d, &m, &s, &m, &s, &mut out, true));
        assert!(out.iter().all(|&v| v == 0.0), "{out:?}");
        let ones = vec![1.0_f32; 50 * d];
        let zeros = vec![0.0_f32; 50 * d];
        let mut out = vec![1.0_f32; 50];
        assert!(std_normal_kl_rows(d, &zeros, &ones, &mut out, true));
        assert!(out.iter().all(|&v| v == 0.0));
    }
}

#[test]
fn invalid_values_are_reported_only_when_checking() {
    let (d, b) = (8, 21);
    let good = || {
        [
            values(b * d, -1.0, 1.0, 1),
            values(b * d, 0.5, 2.0, 2),
            values(b * d, -1.0, 1.0, 3),
            values(b * d, 0.5, 2.0, 4),
        ]
    };
    // Positions in the first block, a middle block and the last (remainder) rows.
    for at in [0, 77, b * d - 1] {
        for (input, bad) in [(0, f64::NAN), (2, f64::INFINITY), (1, 0.0), (3, -1.0), (1, f64::NAN), (3, f64::INFINITY)]
        {
            let mut ins = good();
            ins[input][at] = bad;
            let mut out = vec![0.0; b];
            let r = [&ins[0][..], &ins[1], &ins[2], &ins[3]];
            assert!(!normal_kl_rows(d, r[0], r[1], r[2], r[3], &mut out, true), "{input} {bad} at {at}");
            assert!(normal_kl_rows(d, r[0], r[1], r[2], r[3], &mut out, false));
            let r32: Vec<Vec<f32>> = ins.iter().map(|x| x.iter().map(|&v| v as f32).collect()).collect();
            let mut out32 = vec![0.0_f32; b];
            assert!(!normal_kl_rows(d, &r32[0], &r32[1], &r32[2], &r32[3], &mut out32, true));
            if input < 2 {
                let (m, s) = (&ins[input & !1], &ins[1]);
                assert!(!std_normal_kl_rows(d, m, s, &mut out, true));
                assert!(!normal_log_prob_rows(d, &ins[2], m, s, &mut out, true));
            }
        }
    }
}

#[test]
fn wrong_lengths_are_refused() {
    let x = vec![1.0_f64; 16];
    let mut out = vec![0.0; 2];
    assert!(!normal_kl_rows(8, &x, &x, &x, &x[..15], &mut out, false));
    assert!(!std_normal_kl_rows(7, &x, &x, &mut out, true));
    assert!(!normal_log_prob_rows(usize::MAX, &x, &x, &x, &mut out, true));
    assert!(normal_kl_rows(0, &[], &[], &[], &[], &mut out, true));
    assert_eq!(out, [0.0, 0.0]);
}
