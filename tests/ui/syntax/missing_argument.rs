// A comma with nothing after it.
use kl::kl;

fn main() {
    let a = [0.0_f64; 3];
    let _ = kl!(entropy(Normal(a,)));
}
