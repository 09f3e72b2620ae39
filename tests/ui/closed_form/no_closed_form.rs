// A pair without a registered closed form is a compile error with shapes from types too.
use kl::kl;

fn main() {
    let (m, s) = ([0.0_f64; 3], [1.0_f64; 3]);
    let _ = kl!(Laplace(m, s) || Gumbel(m, s));
}
