// The result type of a kl_fn! is f32 or f64.
use kl::kl_fn;

kl_fn! {
    pub fn diag_kl(m: [B, 3], s: [B, 3]) -> i32 {
        Normal(m, s).to_event(1) || Normal(0, 1).expand([3]).to_event(1)
    }
}

fn main() {}
