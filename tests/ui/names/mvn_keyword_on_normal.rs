// `covariance_matrix` belongs to MultivariateNormal, not Normal.
use kl::kl;

fn main() {
    let (m, c) = ([0.0_f64; 3], [[1.0_f64; 3]; 3]);
    let _ = kl!(entropy(Normal(m, covariance_matrix = c)));
}
