// A [8] batch has one dim to move into the event, not three.
use kl::kl;

fn main() {
    let (a, b) = (vec![0.0_f64; 8], vec![1.0_f64; 8]);
    let _ = kl!(Normal(a, b).to_event(3) || Normal(0, 1).expand([8]).to_event(1) where a, b: [8]);
}
