// A misspelled distribution gets a suggestion.
use kl::kl;

fn main() {
    let (a, b) = ([0.0_f64; 3], [1.0_f64; 3]);
    let _ = kl!(Normla(a, b) || Normal(a, b));
}
