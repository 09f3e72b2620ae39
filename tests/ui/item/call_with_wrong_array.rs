// The function is declared over [B, 3]; an argument of type Vec<[f64; 4]> is a compile error.
use kl::kl_fn;

kl_fn! {
    pub fn ent(m: [B, 3], s: [B, 3]) -> f64 {
        entropy(Normal(m, s).to_event(1))
    }
}

fn main() {
    let m: Vec<[f64; 4]> = vec![[0.0; 4]; 2];
    let s: Vec<[f64; 3]> = vec![[1.0; 3]; 2];
    let _ = ent(&m, &s);
}
