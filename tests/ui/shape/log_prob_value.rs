// The value must end in the event shape [8].
use kl::kl;

fn main() {
    let (m, s, x) = (vec![0.0_f64; 8], vec![1.0_f64; 8], vec![0.0_f64; 8]);
    let _ = kl!(log_prob(Normal(m, s).to_event(1), x) where m, s: [8], x: [N, 4]);
}
