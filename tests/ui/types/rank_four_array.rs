// Arrays nest at most three deep.
use kl::kl;

fn main() {
    let mu = [[[[0.0_f64; 2]; 2]; 2]; 2];
    let s = 1.0_f64;
    let _ = kl!(entropy(Normal(mu, s)));
}
