//! Test support for `kernels.rs`: a deterministic PRNG and naive f64 reference formulas that build
//! matrices explicitly and invert them by Gauss–Jordan, independent of the kernels under test.

// ---------------------------------------------------------------------------------------------
// Deterministic random data (splitmix64), so no rand dependency and reproducible failures.

pub use kl_runtime::testing::SplitMix64;

// ---------------------------------------------------------------------------------------------
// Naive f64 references.

/// `A Bᵀ` for square row-major matrices.
pub fn matmul_nt(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut c = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            c[i * d + j] = (0..d).map(|k| a[i * d + k] * b[j * d + k]).sum();
        }
    }
    c
}

pub fn matmul(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut c = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            c[i * d + j] = (0..d).map(|k| a[i * d + k] * b[k * d + j]).sum();
        }
    }
    c
}

/// Keeps the lower triangle (what kernels read), zeroing the rest.
pub fn lower(l: &[f64], d: usize) -> Vec<f64> {
    let mut out = l.to_vec();
    for i in 0..d {
        for j in i + 1..d {
            out[i * d + j] = 0.0;
        }
    }
    out
}

/// `L Lᵀ` from the lower triangle of `l`.
pub fn cov_of(l: &[f64], d: usize) -> Vec<f64> {
    let l = lower(l, d);
    matmul_nt(&l, &l, d)
}

/// Explicit inverse by Gauss–Jordan with partial pivoting, and `ln |det A|` from its pivots.
pub fn inverse_and_log_det(a: &[f64], d: usize) -> (Vec<f64>, f64) {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; d * d];
    for i in 0..d {
        inv[i * d + i] = 1.0;
    }
    let mut log_det = 0.0;
    for c in 0..d {
        let p = (c..d).max_by(|&x, &y| m[x * d + c].abs().total_cmp(&m[y * d + c].abs())).unwrap();
        for k in 0..d {
            m.swap(c * d + k, p * d + k);
            inv.swap(c * d + k, p * d + k);
        }
        let pivot = m[c * d + c];
        log_det += pivot.abs().ln();
        for k in 0..d {
            m[c * d + k] /= pivot;
            inv[c * d + k] /= pivot;
        }
        for r in 0..d {
            if r != c {
                let f = m[r * d + c];
                for k in 0..d {
                    m[r * d + k] -= f * m[c * d + k];
                    inv[r * d + k] -= f * inv[c * d + k];
                }
            }
        }
    }
    (inv, log_det)
}

/// Textbook `KL(N(m1, S1) || N(m2, S2)) = ½ (tr(S2⁻¹ S1) + δᵀ S2⁻¹ δ - d + ln det S2 - ln det S1)`.
pub fn naive_kl(m1: &[f64], s1: &[f64], m2: &[f64], s2: &[f64], d: usize) -> f64 {
    let (inv2, ld2) = inverse_and_log_det(s2, d);
    let (_, ld1) = inverse_and_log_det(s1, d);
    let trace: f64 = (0..d).map(|i| (0..d).map(|k| inv2[i * d + k] * s1[k * d + i]).sum::<f64>()).sum();
    let delta: Vec<f64> = (0..d).map(|i| m2[i] - m1[i]).collect();
    let maha = quad_form(&inv2, &delta, d);
    0.5 * (trace + maha - d as f64 + ld2 - ld1)
}

pub fn quad_form(a: &[f64], x: &[f64], d: usize) -> f64 {
    (0..d).map(|i| (0..d).map(|j| x[i] * a[i * d + j] * x[j]).sum::<f64>()).sum()
}

pub fn diag_matrix(s: &[f64]) -> Vec<f64> {
    let d = s.len();
    let mut m = vec![0.0; d * d];
    for i in 0..d {
        m[i * d + i] = s[i];
    }
    m
}

pub fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

#[track_caller]
pub fn assert_rel(actual: f64, expected: f64, rel: f64) {
    let err = (actual - expected).abs();
    assert!(
        err <= rel * expected.abs() || err <= f64::MIN_POSITIVE,
        "actual {actual:e}, expected {expected:e}, relative error {:e} > {rel:e}",
        err / expected.abs()
    );
}

#[track_caller]
pub fn assert_abs(actual: f64, expected: f64, tol: f64) {
    assert!((actual - expected).abs() <= tol, "actual {actual:e}, expected {expected:e}, tol {tol:e}");
}
