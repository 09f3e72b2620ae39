// Shapes from the Rust types: a 3x4 covariance.
use kl::kl;

fn main() {
    let (m, c) = ([0.0_f64; 3], [[1.0_f64; 4]; 3]);
    let _ = kl!(entropy(MultivariateNormal(m, covariance_matrix = c)));
}
