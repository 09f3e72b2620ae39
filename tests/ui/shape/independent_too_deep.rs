// The same rule through `Independent(P, n)`.
use kl::kl;

fn main() {
    let (a, b) = (vec![0.0_f64; 8], vec![1.0_f64; 8]);
    let _ = kl!(entropy(Independent(Normal(a, b), 2)) where a, b: [8]);
}
