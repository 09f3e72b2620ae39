// Every violation is reported at once, each under its own tokens.
use kl::kl;

fn main() {
    let (a, b, c, cov) = (vec![0.0_f64; 32], vec![1.0_f64; 3], vec![0.0_f64; 8], vec![1.0_f64; 56]);
    let _ = kl!(
        Normal(a, b).to_event(2) || MultivariateNormal(c, covariance_matrix = cov)
        where a: [4, 8], b: [3], c: [8], cov: [8, 7]
    );
}
