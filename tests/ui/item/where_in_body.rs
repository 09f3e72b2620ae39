// Shapes belong in the signature.
use kl::kl_fn;

kl_fn! {
    pub fn diag_kl(m: [B, 3], s: [B, 3]) -> f32 {
        Normal(m, s).to_event(1) || Normal(0, 1).expand([3]).to_event(1) where m: [B, 3]
    }
}

fn main() {}
