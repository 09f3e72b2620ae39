// `l` is 4x4 but `m` has event size 3.
use kl::kl;

fn main() {
    let (m, l) = (vec![0.0_f64; 6], vec![1.0_f64; 32]);
    let _ = kl!(entropy(MultivariateNormal(m, scale_tril = l)) where m: [B, 3], l: [B, 4, 4]);
}
