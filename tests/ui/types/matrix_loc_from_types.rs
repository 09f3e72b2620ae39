// Shapes from the Rust types: a 4x4 scale_tril for a loc of event size 3.
use kl::kl;

fn main() {
    let (m, l) = ([0.0_f64; 3], [[1.0_f64; 4]; 4]);
    let _ = kl!(entropy(MultivariateNormal(m, scale_tril = l)));
}
