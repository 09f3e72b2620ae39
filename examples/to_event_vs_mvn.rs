//! `Normal(mu, s).to_event(1)` and `MultivariateNormal(mu, covariance_matrix=diag(s²))` are the
//! same distribution, so their KLs agree. Passing `s` where the variance belongs gives a
//! different number, silently, in most libraries. kl's explicit `var=` / `scale=` parameters,
//! and `diag(..)` for diagonal matrices, make the intent part of the expression.
//!
//! Run: `cargo run --example to_event_vs_mvn`

use kl::kl;

fn diag_matrix(v: [f64; 3]) -> [[f64; 3]; 3] {
    let mut m = [[0.0; 3]; 3];
    for i in 0..3 {
        m[i][i] = v[i];
    }
    m
}

fn main() -> Result<(), kl::Error> {
    let (mu1, s1) = ([0.1, -0.3, 0.7], [0.9, 1.3, 0.5]);
    let (mu2, s2) = ([0.0, 0.0, 0.5], [1.0, 2.0, 0.8]);
    let (v1, v2) = (s1.map(|s| s * s), s2.map(|s| s * s));

    let diagonal = kl!(Normal(mu1, s1).to_event(1) || Normal(mu2, s2).to_event(1))?;
    let (c1, c2) = (diag_matrix(v1), diag_matrix(v2));
    let full = kl!(MultivariateNormal(mu1, covariance_matrix = c1) || MultivariateNormal(mu2, covariance_matrix = c2))?;
    println!("KL(Normal(mu1, s1).to_event(1) || Normal(mu2, s2).to_event(1))        = {:.15}", diagonal[0]);
    println!("KL(MVN(mu1, diag(s1^2)) || MVN(mu2, diag(s2^2)))                      = {:.15}", full[0]);
    assert!((diagonal[0] - full[0]).abs() <= 1e-12 * diagonal[0]);
    println!("  -> the same distribution, the same KL\n");

    // The classic bug: the standard deviations passed where the covariance belongs.
    let (bug1, bug2) = (diag_matrix(s1), diag_matrix(s2));
    let wrong =
        kl!(MultivariateNormal(mu1, covariance_matrix = bug1) || MultivariateNormal(mu2, covariance_matrix = bug2))?;
    println!("KL(MVN(mu1, diag(s1)) || MVN(mu2, diag(s2)))   (s passed as variance) = {:.15}", wrong[0]);
    println!("  -> a different number, and nothing warns you\n");

    // Say what you mean: the parameterization is part of the expression.
    let by_var = kl!(Normal(mu1, var = v1).to_event(1) || Normal(mu2, var = v2).to_event(1))?;
    let by_diag =
        kl!(MultivariateNormal(mu1, covariance_matrix = diag(v1)) || MultivariateNormal(mu2, scale_tril = diag(s2)))?;
    println!("KL(Normal(mu1, var=v1).to_event(1) || Normal(mu2, var=v2).to_event(1)) = {:.15}", by_var[0]);
    println!("KL(MVN(mu1, covariance_matrix=diag(v1)) || MVN(mu2, scale_tril=diag(s2))) = {:.15}", by_diag[0]);
    assert!((by_var[0] - diagonal[0]).abs() <= 1e-12 * diagonal[0]);
    assert!((by_diag[0] - diagonal[0]).abs() <= 1e-12 * diagonal[0]);
    println!("  -> var=, scale= and diag(..) remove the guesswork (diag(..) is computed elementwise)");
    Ok(())
}
