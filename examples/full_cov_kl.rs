//! KL between multivariate normals with full covariances, built from (mu, L) with Σ = L Lᵀ and
//! from covariance matrices; both routes give the same number, and a matrix that is not
//! positive definite is an error naming the parameter and batch index, not a NaN.
//!
//! Run: `cargo run --example full_cov_kl`

use kl::kl;

fn cov_from_tril(l: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut c = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            c[i][j] = (0..3).map(|k| l[i][k] * l[j][k]).sum();
        }
    }
    c
}

fn main() -> Result<(), kl::Error> {
    let mu1 = [[0.0, 0.5, -0.2], [1.0, 0.0, 0.3]];
    let mu2 = [[0.1, 0.4, 0.0], [0.9, -0.1, 0.2]];
    let l1 =
        [[[1.0, 0.0, 0.0], [0.3, 0.8, 0.0], [-0.2, 0.1, 0.5]], [[0.7, 0.0, 0.0], [0.0, 1.2, 0.0], [0.4, -0.3, 0.9]]];
    let l2 =
        [[[1.1, 0.0, 0.0], [0.2, 0.9, 0.0], [0.0, 0.2, 0.6]], [[0.8, 0.0, 0.0], [0.1, 1.0, 0.0], [0.3, -0.2, 1.0]]];

    let from_tril = kl!(MultivariateNormal(mu1, scale_tril = l1) || MultivariateNormal(mu2, scale_tril = l2))?;
    let (c1, c2) = (l1.map(|l| cov_from_tril(&l)), l2.map(|l| cov_from_tril(&l)));
    let from_cov =
        kl!(MultivariateNormal(mu1, covariance_matrix = c1) || MultivariateNormal(mu2, covariance_matrix = c2))?;
    println!("batch of {}: KL from scale_tril   {:?}", from_tril.len(), &from_tril[..]);
    println!("            KL from covariances {:?}", &from_cov[..]);
    for b in 0..2 {
        assert!((from_tril[b] - from_cov[b]).abs() <= 1e-12 * from_tril[b]);
    }

    // A diagonal Gaussian against the full one, without building a dense diagonal.
    let s = [[0.9, 1.1, 0.6], [0.5, 0.7, 1.3]];
    let mixed = kl!(Normal(mu1, s).to_event(1) || MultivariateNormal(mu2, covariance_matrix = c2))?;
    println!("KL(diagonal || full): {:?}", &mixed[..]);

    // Not positive definite: a data error, reported with parameter, batch index and rule.
    let mut bad = c2;
    bad[1][2][2] = -1.0;
    match kl!(MultivariateNormal(mu1, covariance_matrix = c1) || MultivariateNormal(mu2, covariance_matrix = bad)) {
        Err(e) => println!("bad covariance: {e}"),
        Ok(v) => panic!("accepted a non-positive-definite covariance: {v:?}"),
    }
    Ok(())
}
