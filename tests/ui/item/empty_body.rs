use kl::kl_fn;

kl_fn! {
    pub fn diag_kl(m: [B, 3], s: [B, 3]) -> f32 {}
}

fn main() {}
