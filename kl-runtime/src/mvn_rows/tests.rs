//! The multivariate row kernels against the scalar ones, on every instruction set the CPU has.

use super::drive::is;
use super::*;
use crate::simd::{on, Isa};
use crate::{cholesky_n, cov_kl, diag_tril_kl_n, mvn_kl_tril_n};

/// Every instruction set this CPU can run.
fn isas() -> Vec<Isa> {
    Isa::available()
}

use crate::testing::SplitMix64 as Rng;

/// `b` well-conditioned factors with garbage (huge values, NaN) above the diagonal.
fn trils(r: &mut Rng, b: usize, d: usize) -> Vec<f64> {
    r.trils_above(b, d, |i, j| if (i + j) % 2 == 0 { f64::NAN } else { 1e300 })
}

fn cast<T: Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::from_f64(x)).collect()
}

fn arr<T: Real, const D: usize>(p: &[T]) -> [T; D] {
    core::array::from_fn(|i| p[i])
}

fn mat<T: Real, const D: usize>(p: &[T]) -> [[T; D]; D] {
    core::array::from_fn(|i| core::array::from_fn(|j| p[i * D + j]))
}

/// The scalar kernels' value for row `r`: `None` where they fail (cov: a Cholesky).
fn reference<T: Real, const D: usize>(kind: Kind, x: &[Vec<T>; 4], r: usize) -> Option<T> {
    let [m1, p1, m2, p2] = x;
    let (m1, m2) = (arr::<T, D>(&m1[r * D..]), arr::<T, D>(&m2[r * D..]));
    let dd = D * D;
    match kind {
        Kind::Tril => Some(mvn_kl_tril_n(&m1, &mat(&p1[r * dd..]), &m2, &mat(&p2[r * dd..]))),
        Kind::Diag => Some(diag_tril_kl_n(&m1, &arr(&p1[r * D..]), &m2, &mat(&p2[r * dd..]))),
        Kind::Cov => {
            let (c1, c2) = (&p1[r * dd..(r + 1) * dd], &p2[r * dd..(r + 1) * dd]);
            let l = cholesky_n::<T, D>(&mat(c2)).ok()?;
            let l: Vec<T> = l.iter().flatten().copied().collect();
            let mut scratch = vec![T::ZERO; dd + D];
            cov_kl(&m1, c1, &m2, c2, &l, D, &mut scratch).ok()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Tril,
    Diag,
    Cov,
}

/// A batched kernel's signature.
type Kernel<T> = fn(&[T], &[T], &[T], &[T], &mut [T], bool) -> bool;

fn kernel<T: Real, const D: usize>(kind: Kind) -> Kernel<T> {
    match kind {
        Kind::Tril => tril_kl_rows::<T, D>,
        Kind::Diag => diag_tril_kl_rows::<T, D>,
        Kind::Cov => cov_kl_rows::<T, D>,
    }
}

/// Random valid inputs of `b` rows, `[m1, l1 | s1 | c1, m2, l2 | c2]`.
fn inputs(kind: Kind, b: usize, d: usize, seed: u64) -> [Vec<f64>; 4] {
    let mut r = Rng(seed);
    let (m1, m2) = (r.vec(b * d, -1.0, 1.0), r.vec(b * d, -1.0, 1.0));
    match kind {
        Kind::Tril => [m1, trils(&mut r, b, d), m2, trils(&mut r, b, d)],
        Kind::Diag => [m1, r.vec(b * d, 0.5, 2.0), m2, trils(&mut r, b, d)],
        Kind::Cov => [m1, r.covs(b, d), m2, r.covs(b, d)],
    }
}

fn rel_tol<T: Real>() -> f64 {
    if is::<T, f32>() {
        1e-5
    } else {
        1e-14
    }
}

/// Runs `kind` on `x` with every instruction set and both `check` values, and compares every
/// row with the scalar kernels within `tol` (relative).
fn agrees<T: Real, const D: usize>(kind: Kind, x: &[Vec<T>; 4], tol: f64) {
    let b = x[0].len() / D.max(1);
    let want: Vec<T> = (0..b)
        .map(|r| reference::<T, D>(kind, x, r).unwrap_or_else(|| panic!("valid input, row {r} of {x:?}")))
        .collect();
    for isa in isas() {
        for check in [true, false] {
            let mut out = vec![T::NAN; b];
            let ok = on(isa, || kernel::<T, D>(kind)(&x[0], &x[1], &x[2], &x[3], &mut out, check));
            assert!(ok, "{kind:?} {} d={D} b={b} {isa:?} check={check}: false", T::NAME);
            for (r, (&got, &want)) in out.iter().zip(&want).enumerate() {
                let (g, w) = (got.to_f64(), want.to_f64());
                let err = if g == w { 0.0 } else { ((g - w) / w).abs() };
                assert!(
                    err <= tol,
                    "{kind:?} {} d={D} b={b} {isa:?} check={check} row {r}: {g:e} vs {w:e} (rel {err:e})",
                    T::NAME
                );
            }
        }
    }
}

fn agrees_all_sizes<T: Real, const D: usize>(kind: Kind) {
    for b in [0, 1, 3, 7, 8, 17, 1001] {
        let x = inputs(kind, b, D, 1000 * D as u64 + b as u64);
        agrees::<T, D>(kind, &[cast(&x[0]), cast(&x[1]), cast(&x[2]), cast(&x[3])], rel_tol::<T>());
    }
}

macro_rules! agree_tests {
    ($($name:ident: $kind:expr, [$($d:literal),*];)*) => {$(
        #[test]
        fn $name() {
            $(
                agrees_all_sizes::<f64, $d>($kind);
                agrees_all_sizes::<f32, $d>($kind);
            )*
        }
    )*};
}

agree_tests! {
    tril_agrees_with_the_scalar_kernel: Kind::Tril, [1, 2, 3, 4, 5, 8, 9, 32];
    diag_tril_agrees_with_the_scalar_kernel: Kind::Diag, [1, 2, 3, 4, 5, 8, 13];
    cov_agrees_with_the_scalar_kernel: Kind::Cov, [1, 2, 3, 4, 5, 8, 12];
}

/// Where `P` is much narrower (or wider) than `Q` in every direction, the difference kernel's
/// pivots fall below `DIRECT_BELOW` and the direct form takes over: the lanes agree with the
/// scalar kernel, and both with the factor route (`mvn_kl_tril_n` of the Cholesky factors),
/// which forms no difference to cancel and is accurate there.
fn cov_agrees_far_apart<const D: usize>() {
    for f in [2f64.powi(-40), 2f64.powi(-10), 0.2, 0.3, 2f64.powi(40)] {
        for b in [1, 8, 17] {
            let mut x = inputs(Kind::Cov, b, D, 5 + b as u64);
            x[1].iter_mut().for_each(|v| *v *= f);
            agrees::<f64, D>(Kind::Cov, &x, 1e-14);
            agrees::<f32, D>(Kind::Cov, &[cast(&x[0]), cast(&x[1]), cast(&x[2]), cast(&x[3])], 1e-5);
            let dd = D * D;
            for r in 0..b {
                let got = reference::<f64, D>(Kind::Cov, &x, r).expect("valid input");
                let l1 = cholesky_n::<f64, D>(&mat(&x[1][r * dd..])).unwrap();
                let l2 = cholesky_n::<f64, D>(&mat(&x[3][r * dd..])).unwrap();
                let want = mvn_kl_tril_n(&arr::<f64, D>(&x[0][r * D..]), &l1, &arr::<f64, D>(&x[2][r * D..]), &l2);
                assert!(((got - want) / want).abs() <= 1e-13, "f={f:e} d={D} row {r}: {got:e} vs {want:e}");
            }
        }
    }
}

#[test]
fn cov_agrees_with_the_factor_route_far_apart() {
    cov_agrees_far_apart::<1>();
    cov_agrees_far_apart::<3>();
    cov_agrees_far_apart::<4>();
    cov_agrees_far_apart::<8>();
    cov_agrees_far_apart::<12>();
}

#[test]
fn sizes_beyond_the_fast_path_give_false() {
    let mut out = vec![0.0; 2];
    let (m, l) = (vec![0.0; 2 * 17], vec![1.0; 2 * 17 * 17]);
    assert!(!cov_kl_rows::<f64, 17>(&m, &l, &m, &l, &mut out, false));
    let (m, l) = (vec![0.0; 2 * 65], vec![1.0; 2 * 65 * 65]);
    assert!(!tril_kl_rows::<f64, 65>(&m, &l, &m, &l, &mut out, false));
}

/// `b` rows of valid `kind` inputs with `spoil` applied to row `r`: the kernels must report
/// `false` with `check` (and, `always`, without).
fn rejects<T: Real, const D: usize>(kind: Kind, what: &str, always: bool, spoil: impl Fn(&mut [Vec<f64>; 4], usize)) {
    let b = 19;
    for r in [0, 5, 15, 16, 18] {
        let mut x = inputs(kind, b, D, 77 + r as u64);
        spoil(&mut x, r);
        let x: [Vec<T>; 4] = [cast(&x[0]), cast(&x[1]), cast(&x[2]), cast(&x[3])];
        for isa in isas() {
            for check in [true, false] {
                let mut out = vec![T::ZERO; b];
                let ok = on(isa, || kernel::<T, D>(kind)(&x[0], &x[1], &x[2], &x[3], &mut out, check));
                if check || always {
                    assert!(!ok, "{kind:?} {} d={D} {isa:?} check={check}: {what} at row {r} accepted", T::NAME);
                }
            }
        }
    }
}

fn rejects_invalid<T: Real, const D: usize>() {
    let (d, dd) = (D, D * D);
    // Means.
    for kind in [Kind::Tril, Kind::Diag, Kind::Cov] {
        rejects::<T, D>(kind, "NaN in m1", false, |x, r| x[0][r * d + d - 1] = f64::NAN);
        rejects::<T, D>(kind, "inf in m2", false, |x, r| x[2][r * d] = f64::INFINITY);
    }
    // Factors: only the lower triangle counts.
    for kind in [Kind::Tril, Kind::Diag] {
        rejects::<T, D>(kind, "zero diagonal in L2", false, |x, r| x[3][r * dd + dd - 1] = 0.0);
        rejects::<T, D>(kind, "negative diagonal in L2", false, |x, r| x[3][r * dd] = -1.0);
        if D > 1 {
            rejects::<T, D>(kind, "NaN below the diagonal of L2", false, |x, r| x[3][r * dd + d] = f64::NAN);
            rejects::<T, D>(kind, "inf below the diagonal of L2", false, |x, r| {
                x[3][r * dd + dd - 2] = f64::NEG_INFINITY
            });
        }
    }
    rejects::<T, D>(Kind::Tril, "zero diagonal in L1", false, |x, r| x[1][r * dd + (d / 2) * (d + 1)] = 0.0);
    rejects::<T, D>(Kind::Tril, "NaN diagonal in L1", false, |x, r| x[1][r * dd] = f64::NAN);
    if D > 1 {
        rejects::<T, D>(Kind::Tril, "NaN below the diagonal of L1", false, |x, r| {
            x[1][r * dd + (d - 1) * d] = f64::NAN
        });
    }
    rejects::<T, D>(Kind::Diag, "zero s1", false, |x, r| x[1][r * d + d - 1] = 0.0);
    rejects::<T, D>(Kind::Diag, "negative s1", false, |x, r| x[1][r * d] = -0.5);
    rejects::<T, D>(Kind::Diag, "NaN s1", false, |x, r| x[1][r * d] = f64::NAN);
    // Covariances.
    rejects::<T, D>(Kind::Cov, "NaN in C1", false, |x, r| x[1][r * dd + dd - 1] = f64::NAN);
    rejects::<T, D>(Kind::Cov, "inf in C2", false, |x, r| x[3][r * dd] = f64::INFINITY);
    if D > 1 {
        // Only an upper-triangle entry: symmetry (and finiteness) must read it.
        rejects::<T, D>(Kind::Cov, "NaN above the diagonal of C2", false, |x, r| x[3][r * dd + 1] = f64::NAN);
        rejects::<T, D>(Kind::Cov, "non-symmetric C1", false, |x, r| x[1][r * dd + d] *= 1.0 + 1e-4);
        rejects::<T, D>(Kind::Cov, "non-symmetric C2", false, |x, r| x[3][r * dd + 1] += 0.25);
        // Symmetric but indefinite: a large off-diagonal pair.
        rejects::<T, D>(Kind::Cov, "indefinite C1", false, |x, r| {
            x[1][r * dd + d] = 10.0;
            x[1][r * dd + 1] = 10.0;
        });
        rejects::<T, D>(Kind::Cov, "indefinite C2", true, |x, r| {
            x[3][r * dd + dd - 2] = 10.0;
            x[3][r * dd + dd - 1 - d] = 10.0;
        });
    }
    rejects::<T, D>(Kind::Cov, "negative diagonal in C1", false, |x, r| x[1][r * dd] = -1.0);
    rejects::<T, D>(Kind::Cov, "zero C2", true, |x, r| x[3][r * dd..(r + 1) * dd].fill(0.0));
}

#[test]
fn check_rejects_every_invalid_value() {
    rejects_invalid::<f64, 1>();
    rejects_invalid::<f64, 2>();
    rejects_invalid::<f64, 3>();
    rejects_invalid::<f64, 4>();
    rejects_invalid::<f64, 8>();
    rejects_invalid::<f32, 3>();
    rejects_invalid::<f32, 4>();
}

#[test]
fn check_rejects_invalid_values_of_large_factors() {
    let (d, dd) = (32, 32 * 32);
    rejects::<f64, 32>(Kind::Tril, "NaN in m1", false, |x, r| x[0][r * d + 17] = f64::NAN);
    rejects::<f64, 32>(Kind::Tril, "zero diagonal in L1", false, |x, r| x[1][r * dd + 9 * 33] = 0.0);
    rejects::<f64, 32>(Kind::Tril, "negative diagonal in L2", false, |x, r| x[3][r * dd + 31 * 33] = -1.0);
    rejects::<f64, 32>(Kind::Tril, "NaN below the diagonal of L1", false, |x, r| {
        x[1][r * dd + 31 * 32 + 30] = f64::NAN
    });
    rejects::<f64, 32>(Kind::Tril, "inf below the diagonal of L2", false, |x, r| {
        x[3][r * dd + 12 * 32 + 3] = f64::INFINITY
    });
    rejects::<f32, 32>(Kind::Tril, "NaN in m2", false, |x, r| x[2][r * d + 31] = f64::NAN);
}

/// Identical distributions: exactly zero, on every path.
fn identical<T: Real, const D: usize>(kind: Kind) {
    for b in [1, 7, 8, 19] {
        let mut x = inputs(kind, b, D, 5);
        x[2] = x[0].clone();
        match kind {
            Kind::Tril | Kind::Cov => x[3] = x[1].clone(),
            Kind::Diag => {
                // L2 = diag(s1) (garbage above the diagonal is not read).
                for r in 0..b {
                    for i in 0..D {
                        for j in 0..i {
                            x[3][r * D * D + i * D + j] = 0.0;
                        }
                        x[3][r * D * D + i * D + i] = x[1][r * D + i];
                    }
                }
            }
        }
        let x: [Vec<T>; 4] = [cast(&x[0]), cast(&x[1]), cast(&x[2]), cast(&x[3])];
        for isa in isas() {
            for check in [true, false] {
                let mut out = vec![T::NAN; b];
                let ok = on(isa, || kernel::<T, D>(kind)(&x[0], &x[1], &x[2], &x[3], &mut out, check));
                assert!(ok && out.iter().all(|&v| v == T::ZERO), "{kind:?} {} d={D} {isa:?}: {out:?}", T::NAME);
            }
        }
    }
}

#[test]
fn identical_distributions_give_exactly_zero() {
    for kind in [Kind::Tril, Kind::Diag, Kind::Cov] {
        identical::<f64, 1>(kind);
        identical::<f64, 3>(kind);
        identical::<f64, 4>(kind);
        identical::<f64, 8>(kind);
        identical::<f32, 3>(kind);
        identical::<f32, 5>(kind);
    }
    identical::<f64, 32>(Kind::Tril);
    identical::<f64, 32>(Kind::Diag);
    identical::<f32, 32>(Kind::Tril);
}

/// Near-equal pairs: relative perturbations of `eps`; the batched kernels keep the relative
/// accuracy of the scalar ones.
fn near_equal<const D: usize>(kind: Kind, eps: f64) {
    let b = 19;
    let mut x = inputs(kind, b, D, 11);
    let mut rng = Rng(12);
    x[2] = x[0].iter().map(|&m| m + eps * rng.uniform(-1.0, 1.0)).collect();
    match kind {
        Kind::Tril => x[3] = x[1].iter().map(|&l| l * (1.0 + eps * rng.uniform(-1.0, 1.0))).collect(),
        Kind::Diag => {
            for r in 0..b {
                for i in 0..D {
                    for j in 0..i {
                        x[3][r * D * D + i * D + j] = eps * rng.uniform(-1.0, 1.0);
                    }
                    x[3][r * D * D + i * D + i] = x[1][r * D + i] * (1.0 + eps * rng.uniform(-1.0, 1.0));
                }
            }
        }
        Kind::Cov => {
            let mut c = x[1].clone();
            for r in 0..b {
                for i in 0..D {
                    for j in 0..=i {
                        let e = 1.0 + eps * rng.uniform(-1.0, 1.0);
                        c[r * D * D + i * D + j] *= e;
                        c[r * D * D + j * D + i] = c[r * D * D + i * D + j];
                    }
                }
            }
            x[3] = c;
        }
    }
    agrees::<f64, D>(kind, &x, 1e-12);
}

#[test]
fn near_equal_pairs_keep_relative_accuracy() {
    for eps in [1e-9, 1e-6] {
        for kind in [Kind::Tril, Kind::Diag, Kind::Cov] {
            near_equal::<1>(kind, eps);
            near_equal::<3>(kind, eps);
            near_equal::<4>(kind, eps);
            near_equal::<8>(kind, eps);
        }
        near_equal::<32>(Kind::Tril, eps);
        near_equal::<32>(Kind::Diag, eps);
    }
}

#[test]
fn covariances_asymmetric_within_the_tolerance_are_accepted() {
    let b = 19;
    let mut x = inputs(Kind::Cov, b, 4, 3);
    for r in 0..b {
        x[1][r * 16 + 1] *= 1.0 + 1e-10;
        x[3][r * 16 + 14] *= 1.0 - 1e-10;
    }
    agrees::<f64, 4>(Kind::Cov, &x, 1e-14);
}

#[test]
fn extreme_scale_ratios_are_right_or_refused() {
    // Diagonal ratios of 1e-300 / 1e200 leave the lanes' normal range: `false` is allowed
    // there, a wrong value is not.
    let b = 19;
    let mut x = inputs(Kind::Tril, b, 3, 9);
    for r in 0..b {
        x[1][r * 9] = 1e-300;
        x[3][r * 9 + 4] = 1e200;
    }
    for isa in isas() {
        let mut out = vec![0.0; b];
        if on(isa, || tril_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3], &mut out, true)) {
            for r in 0..b {
                let want = reference::<f64, 3>(Kind::Tril, &x, r).unwrap();
                assert!(((out[r] - want) / want).abs() < 1e-14, "{isa:?} row {r}: {} vs {want}", out[r]);
            }
        }
    }
}

#[test]
fn inconsistent_lengths_give_false() {
    let x = inputs(Kind::Tril, 5, 3, 1);
    let mut out = vec![0.0; 5];
    assert!(tril_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3], &mut out, true));
    assert!(!tril_kl_rows::<f64, 3>(&x[0][..14], &x[1], &x[2], &x[3], &mut out, true));
    assert!(!tril_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3][..44], &mut out, false));
    assert!(!tril_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3], &mut out[..4], false));
    assert!(!diag_tril_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3], &mut out, true));
    assert!(!cov_kl_rows::<f64, 3>(&x[0], &x[1], &x[2], &x[3][..9], &mut out, true));
    // A zero-sized event: every KL is zero.
    let mut out = vec![1.0; 4];
    assert!(tril_kl_rows::<f64, 0>(&[], &[], &[], &[], &mut out, true) && out == [0.0; 4]);
}
