// A MultivariateNormal takes exactly one of covariance_matrix=, scale_tril=, precision_matrix=.
use kl::kl;

fn main() {
    let (m, c, l) = ([0.0_f64; 3], [[1.0_f64; 3]; 3], [[1.0_f64; 3]; 3]);
    let _ = kl!(entropy(MultivariateNormal(m, covariance_matrix = c, scale_tril = l)));
}
