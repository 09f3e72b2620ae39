// Two different symbols never broadcast.
use kl::kl;

fn main() {
    let (a, b, c, d) = (vec![0.0_f64; 16], vec![1.0_f64; 16], vec![0.0_f64; 16], vec![1.0_f64; 16]);
    let _ = kl!(Normal(a, b).to_event(1) || Normal(c, d).to_event(1) where a, b: [B, 8], c, d: [T, 8]);
}
