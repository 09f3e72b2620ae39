// A MultivariateNormal takes its matrix by keyword only.
use kl::kl;

fn main() {
    let (m, c) = ([0.0_f64; 3], [[1.0_f64; 3]; 3]);
    let _ = kl!(MultivariateNormal(m, c) || MultivariateNormal(m, covariance_matrix = c));
}
