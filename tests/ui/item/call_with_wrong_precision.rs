// The function is declared `-> f32`; f64 arguments do not fit.
use kl::kl_fn;

kl_fn! {
    pub fn ent(m: [3], s: [3]) -> f32 {
        entropy(Normal(m, s).to_event(1))
    }
}

fn main() {
    let (m, s) = ([0.0_f64; 3], [1.0_f64; 3]);
    let _ = ent(&m, &s);
}
