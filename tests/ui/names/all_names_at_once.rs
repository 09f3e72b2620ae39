// Every unknown name is reported, not just the first.
use kl::kl;

fn main() {
    let (a, b) = ([0.0_f64; 8], [1.0_f64; 8]);
    let _ = kl!(Normla(a, b) || Normal(a, scael = b).to_evnet(1));
}
