// A String is not a tensor.
use kl::kl;

fn main() {
    let mu = String::from("0.0");
    let s = [1.0_f64; 3];
    let _ = kl!(entropy(Normal(mu, s)));
}
