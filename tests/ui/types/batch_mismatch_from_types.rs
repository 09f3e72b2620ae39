// Shapes from the Rust types: batches [2] and [5] do not broadcast.
use kl::kl;

fn main() {
    let (m1, s1) = ([[0.0_f64; 3]; 2], [[1.0_f64; 3]; 2]);
    let (m2, s2) = ([[0.0_f64; 3]; 5], [[1.0_f64; 3]; 5]);
    let _ = kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1));
}
