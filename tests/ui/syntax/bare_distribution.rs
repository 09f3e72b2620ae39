// A distribution alone is not a query.
use kl::kl;

fn main() {
    let (a, b) = ([0.0_f64; 3], [1.0_f64; 3]);
    let _ = kl!(Normal(a, b));
}
