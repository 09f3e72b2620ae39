// A dim in the signature is a number or a symbol.
use kl::kl_fn;

kl_fn! {
    pub fn ent(m: [B, -3], s: [B, 3]) -> f64 {
        entropy(Normal(m, s).to_event(1))
    }
}

fn main() {}
