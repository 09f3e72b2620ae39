// Shapes from the Rust types: the value ends in 4, the event is [3].
use kl::kl;

fn main() {
    let (m, s) = ([0.0_f64; 3], [1.0_f64; 3]);
    let x: Vec<[f64; 4]> = vec![[0.0; 4]; 2];
    let _ = kl!(log_prob(Normal(m, s).to_event(1), x));
}
