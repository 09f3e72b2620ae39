// Shape rules hold in the item form too, under the offending tokens.
use kl::kl_fn;

kl_fn! {
    pub fn diag_kl(m1: [B, 3], s1: [B, 3], m2: [B, 4], s2: [B, 4]) -> f64 {
        Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)
    }
}

fn main() {}
