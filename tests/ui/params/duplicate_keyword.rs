// The same keyword twice.
use kl::kl;

fn main() {
    let (m, s) = ([0.0_f64; 3], [1.0_f64; 3]);
    let _ = kl!(entropy(Normal(loc = m, scale = s, scale = s)));
}
