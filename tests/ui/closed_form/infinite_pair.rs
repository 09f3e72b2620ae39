// KL(Normal ‖ Exponential) is infinite for every value: a compile error with shapes from types.
use kl::kl;

fn main() {
    let (m, s, r) = ([0.0_f64; 3], [1.0_f64; 3], [2.0_f64; 3]);
    let _ = kl!(Normal(m, s) || Exponential(r));
}
