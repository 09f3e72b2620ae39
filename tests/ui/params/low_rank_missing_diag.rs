// A LowRankMultivariateNormal needs both cov_factor= and cov_diag=.
use kl::kl;

fn main() {
    let (m, w) = ([0.0_f64; 3], [[1.0_f64; 2]; 3]);
    let _ = kl!(entropy(LowRankMultivariateNormal(m, cov_factor = w)));
}
