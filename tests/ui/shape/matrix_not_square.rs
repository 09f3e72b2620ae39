// A covariance matrix is [.., d, d].
use kl::kl;

fn main() {
    let (m, c, l) = (vec![0.0_f64; 3], vec![1.0_f64; 12], vec![1.0_f64; 9]);
    let _ = kl!(
        MultivariateNormal(m, covariance_matrix = c) || MultivariateNormal(m, scale_tril = l)
        where m: [3], c: [3, 4], l: [3, 3]
    );
}
