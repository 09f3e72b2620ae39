// Parameters are names, numbers or diag(..), not Rust expressions.
use kl::kl;

fn main() {
    let a = [0.0_f64; 3];
    let _ = kl!(Normal(a, a[0] + 1.0) || Normal(0, 1));
}
