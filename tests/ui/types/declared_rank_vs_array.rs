// `m` is declared [B, 8], but its Rust type is [f64; 8] (rank 1, not a flat slice).
use kl::kl;

fn main() {
    let (m, s) = ([0.0_f64; 8], vec![1.0_f64; 8]);
    let _ = kl!(Normal(m, s).to_event(1) || Normal(0, 1).expand([8]).to_event(1) where m, s: [B, 8]);
}
