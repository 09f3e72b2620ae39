// A Normal without a scale.
use kl::kl;

fn main() {
    let m = [0.0_f64; 3];
    let _ = kl!(entropy(Normal(m)));
}
