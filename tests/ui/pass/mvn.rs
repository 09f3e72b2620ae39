// Multivariate normals from arrays: a 2x2 KL against the textbook formula with an explicit
// inverse, the same distribution through scale_tril, diag(..), and a diagonal Normal against a
// full MVN.
use kl::kl;

type M2 = [[f64; 2]; 2];

fn det(a: &M2) -> f64 {
    a[0][0] * a[1][1] - a[0][1] * a[1][0]
}

fn inv(a: &M2) -> M2 {
    let d = det(a);
    [[a[1][1] / d, -a[0][1] / d], [-a[1][0] / d, a[0][0] / d]]
}

/// ½ (tr(Σ₂⁻¹Σ₁) + (μ₂−μ₁)ᵀΣ₂⁻¹(μ₂−μ₁) − k + ln(det Σ₂ / det Σ₁)).
fn mvn_kl(m1: [f64; 2], c1: &M2, m2: [f64; 2], c2: &M2) -> f64 {
    let p = inv(c2);
    let tr: f64 = (0..2).map(|i| (0..2).map(|k| p[i][k] * c1[k][i]).sum::<f64>()).sum();
    let dm = [m2[0] - m1[0], m2[1] - m1[1]];
    let quad: f64 = (0..2).map(|i| (0..2).map(|k| dm[i] * p[i][k] * dm[k]).sum::<f64>()).sum();
    0.5 * (tr + quad - 2.0 + (det(c2) / det(c1)).ln())
}

fn main() {
    let (m1, m2) = ([0.0_f64, 1.0], [0.5_f64, -0.5]);
    let l1: M2 = [[1.0, 0.0], [0.4, 0.8]];
    let l2: M2 = [[1.5, 0.0], [-0.3, 0.6]];
    let cov = |l: &M2| -> M2 {
        let mut c = [[0.0; 2]; 2];
        for i in 0..2 {
            for j in 0..2 {
                c[i][j] = (0..2).map(|k| l[i][k] * l[j][k]).sum();
            }
        }
        c
    };
    let (c1, c2) = (cov(&l1), cov(&l2));
    let by_hand = mvn_kl(m1, &c1, m2, &c2);

    let from_cov =
        kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, covariance_matrix = c2));
    assert!((from_cov.unwrap().scalar().unwrap() - by_hand).abs() < 1e-12);
    let from_tril = kl!(MultivariateNormal(m1, scale_tril = l1) || MultivariateNormal(m2, scale_tril = l2)).unwrap();
    assert!((from_tril.scalar().unwrap() - by_hand).abs() < 1e-12);

    // A diagonal Normal against the full MVN equals the MVN with the diagonal covariance.
    let s = [0.7_f64, 1.3];
    let v = s.map(|x| x * x);
    let diag_cov: M2 = [[v[0], 0.0], [0.0, v[1]]];
    let mixed = kl!(Normal(m1, s).to_event(1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap();
    assert!((mixed.scalar().unwrap() - mvn_kl(m1, &diag_cov, m2, &c2)).abs() < 1e-12);
    let by_diag = kl!(MultivariateNormal(m1, covariance_matrix = diag(v)) || MultivariateNormal(m2, scale_tril = l2));
    assert!((by_diag.unwrap().scalar().unwrap() - mvn_kl(m1, &diag_cov, m2, &c2)).abs() < 1e-12);

    // Not positive definite: a data error, not a NaN or a panic.
    let bad: M2 = [[1.0, 2.0], [2.0, 1.0]];
    assert!(
        kl!(MultivariateNormal(m1, covariance_matrix = bad) || MultivariateNormal(m2, covariance_matrix = c2)).is_err()
    );
}
