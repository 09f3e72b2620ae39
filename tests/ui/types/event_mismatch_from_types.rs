// Shapes from the Rust types: event [3] on the left, [] on the right.
use kl::kl;

fn main() {
    let (mu, s) = ([0.0_f64; 3], [1.0_f64; 3]);
    let _ = kl!(Normal(mu, s).to_event(1) || Normal(mu, s));
}
