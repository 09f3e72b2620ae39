// `m` is declared [B, 8], but its Rust type is Vec<[f64; 4]>.
use kl::kl;

fn main() {
    let m: Vec<[f64; 4]> = vec![[0.0; 4]; 2];
    let s = vec![1.0_f64; 16];
    let _ = kl!(Normal(m, s).to_event(1) || Normal(0, 1).expand([8]).to_event(1) where m, s: [B, 8]);
}
