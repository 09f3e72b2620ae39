// `s` is declared [8] and `m` is not: the declared shape meets the type of `m` in the const checker.
use kl::kl;

fn main() {
    let m = [0.0_f64; 4];
    let s = vec![1.0_f64; 8];
    let _ = kl!(entropy(Normal(m, s)) where s: [8]);
}
