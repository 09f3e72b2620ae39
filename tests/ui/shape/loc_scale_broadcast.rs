// Trailing dims 8 and 4 do not broadcast.
use kl::kl;

fn main() {
    let (a, b) = (vec![0.0_f64; 16], vec![1.0_f64; 8]);
    let _ = kl!(Normal(a, b) || Normal(0, 1) where a: [B, 8], b: [B, 4]);
}
