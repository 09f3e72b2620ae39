// A `where` clause with a name but no shape.
use kl::kl;

fn main() {
    let (a, b) = (vec![0.0_f64; 3], vec![1.0_f64; 3]);
    let _ = kl!(Normal(a, b) || Normal(0, 1) where a, b:);
}
