// Integer elements are not accepted: kl computes in f32 or f64.
use kl::kl;

fn main() {
    let mu: Vec<i32> = vec![0, 1, 2];
    let s = vec![1.0_f64; 3];
    let _ = kl!(entropy(Normal(mu, s)));
}
