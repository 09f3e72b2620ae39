// `s` is declared [2, 8] (a flat buffer) and `m` is not: the declared shape meets the type of `m`
// in the const checker.
use kl::kl;

fn main() {
    let m = [0.0_f64; 4];
    let s = vec![1.0_f64; 16];
    let _ = kl!(entropy(Normal(m, s)) where s: [2, 8]);
}
