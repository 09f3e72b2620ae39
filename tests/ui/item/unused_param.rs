// `t` is declared but the expression never uses it.
use kl::kl_fn;

kl_fn! {
    pub fn ent(m: [B, 3], s: [B, 3], t: [B]) -> f64 {
        entropy(Normal(m, s).to_event(1))
    }
}

fn main() {}
