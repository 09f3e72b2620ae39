// Shapes from the Rust types: [3] and [4] do not broadcast (the const checker).
use kl::kl;

fn main() {
    let mu = [0.0_f64; 3];
    let s = [1.0_f64; 4];
    let _ = kl!(Normal(mu, s) || Normal(0, 1));
}
