// The left side sums the last dim into its event, the right side does not.
use kl::kl;

fn main() {
    let (a, b, c, d) = (vec![0.0_f64; 16], vec![1.0_f64; 16], vec![0.0_f64; 16], vec![1.0_f64; 16]);
    let _ = kl!(Normal(a, b).to_event(1) || Normal(c, d) where a, b, c, d: [B, 8]);
}
