//! Kernel tests against independent references: closed forms derived by another route, and naive
//! f64 formulas that build covariance matrices and invert them explicitly (Gauss–Jordan).

mod common;

use common::*;
use kl_runtime::*;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// log1pmx

/// `ln(1+x) - x = Σ_{k>=2} (-1)^(k+1) x^k / k`, summed smallest term first.
fn log1pmx_taylor(x: f64, terms: usize) -> f64 {
    (2..terms + 2).rev().map(|k| -(-x).powi(k as i32) / k as f64).sum()
}

#[test]
fn log1pmx_matches_taylor_series_at_tiny_x() {
    for &x in &[1e-300, 1e-20, 1e-10, 1e-7, 1e-5, 1e-4, 1e-3] {
        for x in [x, -x] {
            let reference = log1pmx_taylor(x, 12);
            assert_rel(log1pmx(x), reference, 4.0 * f64::EPSILON);
            let x32 = x as f32;
            let reference32 = log1pmx_taylor(x32 as f64, 12);
            // Below f32's normal range the result is subnormal and only absolutely accurate.
            if reference32.abs() >= f32::MIN_POSITIVE as f64 {
                assert_rel(log1pmx(x32) as f64, reference32, 4.0 * f32::EPSILON as f64);
            }
        }
    }
}

#[test]
fn log1pmx_matches_long_taylor_series_below_one_half() {
    let mut rng = SplitMix64(1);
    for _ in 0..2000 {
        let x = rng.uniform(-0.4999, 0.4999);
        let reference = log1pmx_taylor(x, 120);
        assert_rel(log1pmx(x), reference, 4.0 * f64::EPSILON);
        let x32 = x as f32;
        let reference32 = log1pmx_taylor(x32 as f64, 120);
        assert_rel(log1pmx(x32) as f64, reference32, 4.0 * f32::EPSILON as f64);
    }
}

#[test]
fn log1pmx_matches_naive_form_at_moderate_x() {
    let mut rng = SplitMix64(2);
    for _ in 0..2000 {
        let x = if rng.next_u64().is_multiple_of(2) { rng.uniform(-0.999, -0.5) } else { rng.uniform(0.5, 100.0) };
        assert_rel(log1pmx(x), x.ln_1p() - x, 4.0 * f64::EPSILON);
        let x32 = x as f32;
        assert_rel(log1pmx(x32) as f64, (x32 as f64).ln_1p() - x32 as f64, 8.0 * f32::EPSILON as f64);
    }
    assert_eq!(log1pmx(-1.0_f64), f64::NEG_INFINITY);
}

// ---------------------------------------------------------------------------------------------
// Univariate normals

#[test]
fn normal_kl_matches_textbook_form() {
    let mut rng = SplitMix64(3);
    for _ in 0..1000 {
        let (m1, m2) = (rng.uniform(-3.0, 3.0), rng.uniform(-3.0, 3.0));
        let (s1, s2) = (rng.uniform(0.1, 5.0), rng.uniform(0.1, 5.0));
        let textbook = (s2 / s1).ln() + (s1 * s1 + (m1 - m2) * (m1 - m2)) / (2.0 * s2 * s2) - 0.5;
        // The textbook form cancels when p ≈ q, so only compare where the KL is not tiny.
        if textbook > 1e-3 {
            assert_rel(normal_kl(m1, s1, m2, s2), textbook, 1e-12);
            assert_rel(normal_kl(m1 as f32, s1 as f32, m2 as f32, s2 as f32) as f64, textbook, 1e-4);
        }
        let std_textbook = -s1.ln() + (s1 * s1 + m1 * m1) / 2.0 - 0.5;
        if std_textbook > 1e-3 {
            assert_rel(std_normal_kl(m1, s1), std_textbook, 1e-12);
        }
    }
}

#[test]
fn normal_kl_is_accurate_for_nearly_equal_scales() {
    // With s1 = s2 (1 + u), KL = u²/2 - log1pmx(u) = u² - u³/3 + u⁴/4 - ...
    for &u in &[1e-9, -1e-9, 1e-6, -3e-5, 2e-4] {
        let s2 = 1.7_f64;
        let s1 = s2 * (1.0 + u);
        let u = (s1 - s2) / s2; // the u that s1 actually represents
        let series = u * u - u.powi(3) / 3.0 + u.powi(4) / 4.0 - u.powi(5) / 5.0;
        assert_rel(normal_kl(0.25, s1, 0.25, s2), series, 1e-12);
        assert_rel(std_normal_kl(0.0, 1.0 + u), series, 1e-6);
    }
}

#[test]
fn normal_log_prob_and_entropy_match_closed_forms() {
    let mut rng = SplitMix64(4);
    for _ in 0..500 {
        let (x, m, s) = (rng.uniform(-5.0, 5.0), rng.uniform(-2.0, 2.0), rng.uniform(0.2, 3.0));
        let density = (-(x - m) * (x - m) / (2.0 * s * s)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt());
        assert_rel(normal_log_prob(x, m, s), density.ln(), 1e-12);
        let entropy = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * s * s).ln();
        assert_abs(normal_entropy(s), entropy, 1e-14);
        assert_abs(normal_entropy(s as f32) as f64, entropy, 1e-5);
    }
}

// ---------------------------------------------------------------------------------------------
// Dense kernels

#[test]
fn cholesky_reconstructs_random_spd_matrices() {
    let mut rng = SplitMix64(5);
    for d in 1..=12 {
        for _ in 0..5 {
            let a = rng.spd(d);
            let scale = a.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            let mut l = vec![f64::NAN; d * d];
            cholesky(&a, d, &mut l).unwrap();
            for i in 0..d {
                for j in i + 1..d {
                    assert_eq!(l[i * d + j], 0.0, "upper triangle must be zeroed");
                }
            }
            let back = matmul_nt(&l, &l, d);
            for (x, y) in back.iter().zip(&a) {
                assert_abs(*x, *y, 1e-13 * scale);
            }
            let mut l32 = vec![f32::NAN; d * d];
            cholesky(&to_f32(&a), d, &mut l32).unwrap();
            let l32: Vec<f64> = l32.iter().map(|&v| v as f64).collect();
            let back32 = matmul_nt(&l32, &l32, d);
            for (x, y) in back32.iter().zip(&a) {
                assert_abs(*x, *y, 1e-5 * scale);
            }
        }
    }
}

#[test]
fn cholesky_reads_only_the_lower_triangle() {
    let mut rng = SplitMix64(6);
    let d = 5;
    let a = rng.spd(d);
    let mut garbage = a.clone();
    for i in 0..d {
        for j in i + 1..d {
            garbage[i * d + j] = f64::NAN;
        }
    }
    let (mut l1, mut l2) = (vec![0.0; d * d], vec![0.0; d * d]);
    cholesky(&a, d, &mut l1).unwrap();
    cholesky(&garbage, d, &mut l2).unwrap();
    assert_eq!(l1, l2);
}

#[test]
fn cholesky_fails_at_the_right_pivot() {
    let mut rng = SplitMix64(7);
    for d in 1..=8 {
        for k in 0..d {
            let l = lower(&rng.tril(d), d);
            let a = matmul_nt(&l, &l, d);
            let mut out = vec![0.0; d * d];

            // Pivot k becomes L_kk² - 2 L_kk² < 0; earlier pivots are untouched.
            let mut indefinite = a.clone();
            indefinite[k * d + k] -= 2.0 * l[k * d + k] * l[k * d + k];
            assert_eq!(cholesky(&indefinite, d, &mut out), Err(NotPositiveDefinite { pivot: k }));

            // Pivot exactly zero (singular) is not positive either.
            let mut singular = a.clone();
            singular[k * d + k] = 0.0;
            for j in 0..k {
                singular[k * d + j] = 0.0;
            }
            assert_eq!(cholesky(&singular, d, &mut out), Err(NotPositiveDefinite { pivot: k }));

            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let mut poisoned = a.clone();
                poisoned[k * d + rng.next_u64() as usize % (k + 1)] = bad;
                assert_eq!(cholesky(&poisoned, d, &mut out), Err(NotPositiveDefinite { pivot: k }));
                let poisoned32 = to_f32(&poisoned);
                let mut out32 = vec![0.0_f32; d * d];
                assert_eq!(cholesky(&poisoned32, d, &mut out32), Err(NotPositiveDefinite { pivot: k }));
            }
        }
    }
}

#[test]
fn symmetry_check_finds_the_first_offender() {
    let mut rng = SplitMix64(8);
    let d = 6;
    let mut a = rng.spd(d);
    assert_eq!(is_symmetric(&a, d, 1e-12), None);
    a[4 * d + 1] *= 1.0 + 1e-9;
    a[5 * d + 2] *= 1.0 + 1e-9;
    assert_eq!(is_symmetric(&a, d, 1e-12), Some((4, 1)));
    assert_eq!(is_symmetric(&a, d, 1e-6), None);
}

#[test]
fn triangular_solves_invert_multiplication() {
    let mut rng = SplitMix64(9);
    for d in 1..=10 {
        let l = rng.tril(d);
        let dense = lower(&l, d);
        let x = rng.vec(d, -2.0, 2.0);
        // b = L x, then solve back.
        let mut b: Vec<f64> = (0..d).map(|i| (0..d).map(|k| dense[i * d + k] * x[k]).sum()).collect();
        solve_lower(&l, d, &mut b);
        for (u, v) in b.iter().zip(&x) {
            assert_abs(*u, *v, 1e-12);
        }
        // b = Lᵀ x, then solve back.
        let mut b: Vec<f64> = (0..d).map(|i| (0..d).map(|k| dense[k * d + i] * x[k]).sum()).collect();
        solve_lower_transpose(&l, d, &mut b);
        for (u, v) in b.iter().zip(&x) {
            assert_abs(*u, *v, 1e-12);
        }
    }
}

#[test]
fn half_log_det_matches_gauss_jordan_determinant() {
    let mut rng = SplitMix64(10);
    for d in 0..=10 {
        let l = rng.tril(d);
        let (_, log_det) = inverse_and_log_det(&cov_of(&l, d), d);
        assert_abs(half_log_det_tril(&l, d), 0.5 * log_det, 1e-12);
    }
}

#[test]
fn precision_to_scale_tril_inverts_the_precision() {
    let mut rng = SplitMix64(11);
    for d in 1..=12 {
        let p = rng.spd(d);
        let mut l = vec![f64::NAN; d * d];
        let mut scratch = vec![f64::NAN; scratch_len_precision_to_scale_tril(d)];
        precision_to_scale_tril(&p, d, &mut l, &mut scratch).unwrap();
        for i in 0..d {
            assert!(l[i * d + i] > 0.0);
            for j in i + 1..d {
                assert_eq!(l[i * d + j], 0.0);
            }
        }
        // L Lᵀ P ≈ I
        let product = matmul(&matmul_nt(&l, &l, d), &p, d);
        for i in 0..d {
            for j in 0..d {
                assert_abs(product[i * d + j], if i == j { 1.0 } else { 0.0 }, 1e-12);
            }
        }
        // The positive-diagonal factor of P⁻¹ is unique: it is the Cholesky factor of the
        // explicit inverse.
        let (inv, _) = inverse_and_log_det(&p, d);
        let mut chol_inv = vec![0.0; d * d];
        cholesky(&inv, d, &mut chol_inv).unwrap();
        for (u, v) in l.iter().zip(&chol_inv) {
            assert_abs(*u, *v, 1e-12);
        }
        // The const-generic version agrees (checked for one size below too).
        if d == 3 {
            let p3: [[f64; 3]; 3] = std::array::from_fn(|i| std::array::from_fn(|j| p[i * 3 + j]));
            let l3 = precision_to_scale_tril_n(&p3).unwrap();
            assert_eq!(l3.as_flattened(), &l[..]);
        }
    }
}

#[test]
fn precision_to_scale_tril_reports_a_row_of_p() {
    // P = diag(1, -1, 1): the flipped factorization fails at its pivot 1, which is row 1 of P.
    let p = [1.0_f64, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0];
    let (mut out, mut scratch) = ([0.0; 9], [0.0; 9]);
    assert_eq!(precision_to_scale_tril(&p, 3, &mut out, &mut scratch), Err(NotPositiveDefinite { pivot: 1 }));
    // P = diag(1, 1, 0): the trailing entry is the flipped factorization's first pivot.
    let p = [1.0_f64, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    assert_eq!(precision_to_scale_tril(&p, 3, &mut out, &mut scratch), Err(NotPositiveDefinite { pivot: 2 }));
}

#[test]
fn lowrank_covariance_matches_naive_product() {
    let mut rng = SplitMix64(12);
    for (d, r) in [(1, 1), (3, 1), (4, 2), (6, 3), (5, 7)] {
        let w = rng.vec(d * r, -1.0, 1.0);
        let diag = rng.vec(d, 0.1, 1.0);
        let mut out = vec![f64::NAN; d * d];
        lowrank_covariance(&w, &diag, d, r, &mut out);
        for i in 0..d {
            for j in 0..d {
                let expected: f64 =
                    (0..r).map(|k| w[i * r + k] * w[j * r + k]).sum::<f64>() + if i == j { diag[i] } else { 0.0 };
                assert_abs(out[i * d + j], expected, 1e-14);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Multivariate normals

#[test]
fn mvn_kl_tril_matches_naive_formula() {
    let mut rng = SplitMix64(13);
    for d in 1..=8 {
        for _ in 0..10 {
            let (m1, m2) = (rng.vec(d, -1.0, 1.0), rng.vec(d, -1.0, 1.0));
            let (l1, l2) = (rng.tril(d), rng.tril(d));
            let reference = naive_kl(&m1, &cov_of(&l1, d), &m2, &cov_of(&l2, d), d);
            let mut scratch = vec![f64::NAN; scratch_len_mvn_kl_tril(d)];
            assert_rel(mvn_kl_tril(&m1, &l1, &m2, &l2, d, &mut scratch), reference, 1e-10);

            let mut scratch32 = vec![f32::NAN; scratch_len_mvn_kl_tril(d)];
            let kl32 = mvn_kl_tril(
                &to_f32(&m1),
                &to_f32(&lower(&l1, d)),
                &to_f32(&m2),
                &to_f32(&lower(&l2, d)),
                d,
                &mut scratch32,
            );
            assert_rel(kl32 as f64, reference, 1e-3);
        }
    }
}

#[test]
fn mvn_kl_tril_is_accurate_for_nearly_equal_factors() {
    // With L2 = c L1 and equal means, KL = d (u²/2 - log1pmx(u)) = d (u² - u³/3 + ..), 1 + u = 1/c.
    let mut rng = SplitMix64(14);
    for d in 1..=6 {
        let l1 = rng.tril(d);
        let c = 1.0 + 2f64.powi(-20);
        let l2: Vec<f64> = l1.iter().map(|v| v * c).collect();
        let u = 1.0 / c - 1.0;
        let expected = d as f64 * (u * u - u.powi(3) / 3.0 + u.powi(4) / 4.0);
        let mu = rng.vec(d, -1.0, 1.0);
        let mut scratch = vec![0.0; d];
        assert_rel(mvn_kl_tril(&mu, &l1, &mu, &l2, d, &mut scratch), expected, 1e-8);
    }
}

#[test]
fn diag_tril_kl_matches_mvn_kl_with_diagonal_factor() {
    let mut rng = SplitMix64(15);
    for d in 1..=8 {
        let (m1, m2) = (rng.vec(d, -1.0, 1.0), rng.vec(d, -1.0, 1.0));
        let s1 = rng.vec(d, 0.3, 2.0);
        let l2 = rng.tril(d);
        let mut scratch = vec![0.0; scratch_len_diag_tril_kl(d).max(scratch_len_mvn_kl_tril(d))];
        let kl = diag_tril_kl(&m1, &s1, &m2, &l2, d, &mut scratch);
        assert_rel(kl, mvn_kl_tril(&m1, &diag_matrix(&s1), &m2, &l2, d, &mut scratch), 1e-14);
        let reference =
            naive_kl(&m1, &diag_matrix(&s1.iter().map(|s| s * s).collect::<Vec<_>>()), &m2, &cov_of(&l2, d), d);
        assert_rel(kl, reference, 1e-10);
    }
}

#[test]
fn tril_diag_kl_matches_mvn_kl_with_diagonal_factor() {
    let mut rng = SplitMix64(16);
    for d in 1..=8 {
        let (m1, m2) = (rng.vec(d, -1.0, 1.0), rng.vec(d, -1.0, 1.0));
        let l1 = rng.tril(d);
        let s2 = rng.vec(d, 0.3, 2.0);
        let kl = tril_diag_kl(&m1, &l1, &m2, &s2, d);
        let mut scratch = vec![0.0; scratch_len_mvn_kl_tril(d)];
        assert_rel(kl, mvn_kl_tril(&m1, &l1, &m2, &diag_matrix(&s2), d, &mut scratch), 1e-13);
        let reference =
            naive_kl(&m1, &cov_of(&l1, d), &m2, &diag_matrix(&s2.iter().map(|s| s * s).collect::<Vec<_>>()), d);
        assert_rel(kl, reference, 1e-10);
    }
}

#[test]
fn kl_of_identical_inputs_is_exactly_zero() {
    let mut rng = SplitMix64(17);
    for d in 0..=10 {
        let mu = rng.vec(d, -1e3, 1e3);
        let l = rng.tril(d);
        let s = rng.vec(d, 1e-3, 1e3);
        let mut scratch = vec![0.0; d];
        assert_eq!(mvn_kl_tril(&mu, &l, &mu, &l, d, &mut scratch), 0.0);
        assert_eq!(diag_tril_kl(&mu, &s, &mu, &diag_matrix(&s), d, &mut scratch), 0.0);
        assert_eq!(tril_diag_kl(&mu, &diag_matrix(&s), &mu, &s, d), 0.0);
        let (mu32, l32) = (to_f32(&mu), to_f32(&lower(&l, d)));
        let mut scratch32 = vec![0.0_f32; d];
        assert_eq!(mvn_kl_tril(&mu32, &l32, &mu32, &l32, d, &mut scratch32), 0.0);
        for i in 0..d {
            assert_eq!(normal_kl(mu[i], s[i], mu[i], s[i]), 0.0);
            assert_eq!(normal_kl(mu32[i], s[i] as f32, mu32[i], s[i] as f32), 0.0);
        }
    }
    assert_eq!(std_normal_kl(0.0_f32, 1.0), 0.0);
}

#[test]
fn mvn_log_prob_and_entropy_match_closed_forms() {
    let mut rng = SplitMix64(18);
    let ln_2pi = (2.0 * std::f64::consts::PI).ln();
    for d in 1..=8 {
        let (x, mu) = (rng.vec(d, -2.0, 2.0), rng.vec(d, -1.0, 1.0));
        let l = rng.tril(d);
        let cov = cov_of(&l, d);
        let (inv, log_det) = inverse_and_log_det(&cov, d);
        let delta: Vec<f64> = (0..d).map(|i| x[i] - mu[i]).collect();
        let expected = -0.5 * quad_form(&inv, &delta, d) - 0.5 * log_det - 0.5 * d as f64 * ln_2pi;
        let mut scratch = vec![0.0; scratch_len_mvn_log_prob_tril(d)];
        assert_rel(mvn_log_prob_tril(&x, &mu, &l, d, &mut scratch), expected, 1e-11);
        let entropy = 0.5 * (d as f64 * (1.0 + ln_2pi) + log_det);
        assert_abs(mvn_entropy_tril(&l, d), entropy, 1e-12);
    }
    // One dimension reduces to the univariate kernels.
    let mut scratch = [0.0];
    assert_rel(mvn_log_prob_tril(&[0.7], &[0.2], &[1.3], 1, &mut scratch), normal_log_prob(0.7, 0.2, 1.3), 1e-15);
    assert_rel(mvn_entropy_tril(&[1.3], 1), normal_entropy(1.3), 1e-15);
}

// ---------------------------------------------------------------------------------------------
// Const-generic kernels agree with the dynamic ones (same operation order: identical bits).

fn arr<const D: usize>(v: &[f64]) -> [f64; D] {
    std::array::from_fn(|i| v[i])
}

fn mat<const D: usize>(v: &[f64]) -> [[f64; D]; D] {
    std::array::from_fn(|i| std::array::from_fn(|j| v[i * D + j]))
}

fn fixed_matches_dynamic<const D: usize>(rng: &mut SplitMix64) {
    let d = D;
    let (m1, m2, x) = (rng.vec(d, -1.0, 1.0), rng.vec(d, -1.0, 1.0), rng.vec(d, -2.0, 2.0));
    let (l1, l2) = (rng.tril(d), rng.tril(d));
    let (s1, s2) = (rng.vec(d, 0.3, 2.0), rng.vec(d, 0.3, 2.0));
    let a = rng.spd(d);
    let mut scratch = vec![0.0; d];

    let mut chol = vec![0.0; d * d];
    cholesky(&a, d, &mut chol).unwrap();
    assert_eq!(cholesky_n(&mat::<D>(&a)).unwrap().as_flattened(), &chol[..]);
    let mut bad = a.clone();
    bad[(d - 1) * d + d - 1] = -1.0;
    assert_eq!(cholesky_n(&mat::<D>(&bad)), Err(NotPositiveDefinite { pivot: d - 1 }));

    let (mut b, mut b_n) = (x.clone(), arr::<D>(&x));
    solve_lower(&l1, d, &mut b);
    solve_lower_n(&mat::<D>(&l1), &mut b_n);
    assert_eq!(&b_n[..], &b[..]);
    let (mut b, mut b_n) = (x.clone(), arr::<D>(&x));
    solve_lower_transpose(&l1, d, &mut b);
    solve_lower_transpose_n(&mat::<D>(&l1), &mut b_n);
    assert_eq!(&b_n[..], &b[..]);

    let (m1n, m2n, l1n, l2n) = (arr::<D>(&m1), arr::<D>(&m2), mat::<D>(&l1), mat::<D>(&l2));
    assert_eq!(mvn_kl_tril_n(&m1n, &l1n, &m2n, &l2n), mvn_kl_tril(&m1, &l1, &m2, &l2, d, &mut scratch));
    assert_eq!(diag_tril_kl_n(&m1n, &arr::<D>(&s1), &m2n, &l2n), diag_tril_kl(&m1, &s1, &m2, &l2, d, &mut scratch));
    assert_eq!(tril_diag_kl_n(&m1n, &l1n, &m2n, &arr::<D>(&s2)), tril_diag_kl(&m1, &l1, &m2, &s2, d));
    assert_eq!(mvn_log_prob_tril_n(&arr::<D>(&x), &m1n, &l1n), mvn_log_prob_tril(&x, &m1, &l1, d, &mut scratch));
    assert_eq!(mvn_entropy_tril_n(&l1n), mvn_entropy_tril(&l1, d));
    assert_eq!(half_log_det_tril_n(&l1n), half_log_det_tril(&l1, d));
    assert_eq!(mvn_kl_tril_n(&m1n, &l1n, &m1n, &l1n), 0.0);

    let mut p_l = vec![0.0; d * d];
    let mut p_scratch = vec![0.0; scratch_len_precision_to_scale_tril(d)];
    precision_to_scale_tril(&a, d, &mut p_l, &mut p_scratch).unwrap();
    assert_eq!(precision_to_scale_tril_n(&mat::<D>(&a)).unwrap().as_flattened(), &p_l[..]);
}

#[test]
fn fixed_kernels_match_dynamic_kernels_for_d_1_to_8() {
    let mut rng = SplitMix64(19);
    for _ in 0..5 {
        fixed_matches_dynamic::<1>(&mut rng);
        fixed_matches_dynamic::<2>(&mut rng);
        fixed_matches_dynamic::<3>(&mut rng);
        fixed_matches_dynamic::<4>(&mut rng);
        fixed_matches_dynamic::<5>(&mut rng);
        fixed_matches_dynamic::<6>(&mut rng);
        fixed_matches_dynamic::<7>(&mut rng);
        fixed_matches_dynamic::<8>(&mut rng);
    }
}

// ---------------------------------------------------------------------------------------------
// Validation

#[test]
fn validation_errors_name_parameter_index_and_rule() {
    let e = check_positive("s1", &[3, 1], -0.5_f32).unwrap_err();
    assert_eq!(e, Error { param: "s1".into(), index: vec![3, 1], rule: Rule::NonPositive { value: -0.5 } });
    assert_eq!(e.to_string(), "parameter `s1` at batch index [3, 1] must be > 0, found -0.5");
    assert!(check_finite("mu", &[], 1.0_f64).is_ok());
    assert_eq!(check_all_positive("s", &[0], &[1.0, 2.0, 0.0]).unwrap_err().rule, Rule::NonPositive { value: 0.0 });
    let l = [1.0, 0.0, f64::NAN, 1.0];
    assert!(matches!(check_scale_tril("L", &[], &l, 2).unwrap_err().rule, Rule::NonFinite { .. }));
    let l = [1.0, 0.0, 0.5, -1.0];
    assert_eq!(check_scale_tril("L", &[], &l, 2).unwrap_err().rule, Rule::NonPositive { value: -1.0 });
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #[test]
    fn normal_kl_is_non_negative(
        m1 in -1e3..1e3_f64, m2 in -1e3..1e3_f64, s1 in 1e-3..1e3_f64, s2 in 1e-3..1e3_f64,
    ) {
        prop_assert!(normal_kl(m1, s1, m2, s2) >= 0.0);
        prop_assert!(normal_kl(m1 as f32, s1 as f32, m2 as f32, s2 as f32) >= 0.0);
    }

    #[test]
    fn log1pmx_is_non_positive(x in -0.999..1e6_f64) {
        prop_assert!(log1pmx(x) <= 0.0);
        prop_assert!(log1pmx(x as f32) <= 0.0);
    }

    #[test]
    fn mvn_kls_are_non_negative(seed in any::<u64>(), d in 1..7_usize) {
        let mut rng = SplitMix64(seed);
        let (m1, m2) = (rng.vec(d, -1.0, 1.0), rng.vec(d, -1.0, 1.0));
        let (l1, l2) = (rng.tril(d), rng.tril(d));
        let (s1, s2) = (rng.vec(d, 0.1, 3.0), rng.vec(d, 0.1, 3.0));
        let mut scratch = vec![0.0; d];
        prop_assert!(mvn_kl_tril(&m1, &l1, &m2, &l2, d, &mut scratch) >= 0.0);
        prop_assert!(diag_tril_kl(&m1, &s1, &m2, &l2, d, &mut scratch) >= 0.0);
        prop_assert!(tril_diag_kl(&m1, &l1, &m2, &s2, d) >= 0.0);
        // Nearly equal distributions, where the textbook form would round below zero.
        let l1b: Vec<f64> = l1.iter().map(|v| v * (1.0 + 1e-12)).collect();
        prop_assert!(mvn_kl_tril(&m1, &l1, &m1, &l1b, d, &mut scratch) >= 0.0);
    }
}

mod fast_f32;
mod shapes;
