// The positional scale and `var=` are two parameterizations of one Normal.
use kl::kl;

fn main() {
    let (m, s, v) = ([0.0_f64; 3], [1.0_f64; 3], [1.0_f64; 3]);
    let _ = kl!(entropy(Normal(m, s, var = v)));
}
