// A misspelled method gets a suggestion.
use kl::kl;

fn main() {
    let (a, b) = ([0.0_f64; 3], [1.0_f64; 3]);
    let _ = kl!(Normal(a, b).to_evnet(1) || Normal(a, b).to_event(1));
}
