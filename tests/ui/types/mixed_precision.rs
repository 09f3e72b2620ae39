// All parameters of one expression share one element type.
use kl::kl;

fn main() {
    let mu = [0.0_f32; 3];
    let s = [1.0_f64; 3];
    let _ = kl!(entropy(Normal(mu, s)));
}
