// The right side of `||` is missing.
use kl::kl;

fn main() {
    let (a, b) = ([0.0_f64; 3], [1.0_f64; 3]);
    let _ = kl!(Normal(a, b) ||);
}
