// Shapes from the Rust types: a Vec<[f64; 3]> has batch rank 2, so to_event(3) is too deep.
use kl::kl;

fn main() {
    let (mu, s): (Vec<[f64; 3]>, Vec<[f64; 3]>) = (vec![[0.0; 3]; 4], vec![[1.0; 3]; 4]);
    let _ = kl!(entropy(Normal(mu, s).to_event(3)));
}
