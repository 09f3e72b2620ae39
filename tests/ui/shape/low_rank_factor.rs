// The factor of a LowRankMultivariateNormal is [.., d, r] with d = 5.
use kl::kl;

fn main() {
    let (m, w, d) = (vec![0.0_f64; 5], vec![1.0_f64; 8], vec![1.0_f64; 5]);
    let _ = kl!(entropy(LowRankMultivariateNormal(m, cov_factor = w, cov_diag = d)) where m, d: [5], w: [4, 2]);
}
