// `x` is used but not a parameter of the function.
use kl::kl_fn;

kl_fn! {
    pub fn lp(m: [B, 3], s: [B, 3]) -> f64 {
        log_prob(Normal(m, s).to_event(1), x)
    }
}

fn main() {}
