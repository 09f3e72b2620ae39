// Only `P || Q`, `log_prob(P, x)` and `entropy(P)` are queries.
use kl::kl;

fn main() {
    let (m, s) = ([0.0_f64; 3], [1.0_f64; 3]);
    let _ = kl!(entrpy(Normal(m, s)));
}
