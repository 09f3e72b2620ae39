// A MultivariateNormal without any matrix.
use kl::kl;

fn main() {
    let m = [0.0_f64; 3];
    let _ = kl!(entropy(MultivariateNormal(m)));
}
