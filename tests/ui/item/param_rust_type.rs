// Parameters are declared with kl shapes, not Rust types.
use kl::kl_fn;

kl_fn! {
    pub fn diag_kl(m: &[f32], s: [B, 3]) -> f32 {
        Normal(m, s).to_event(1) || Normal(0, 1).expand([3]).to_event(1)
    }
}

fn main() {}
