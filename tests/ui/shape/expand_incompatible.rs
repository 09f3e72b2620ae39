// A batch of 2 cannot be expanded to [4, 3].
use kl::kl;

fn main() {
    let (m, s) = (vec![0.0_f64; 2], vec![1.0_f64; 2]);
    let _ = kl!(Normal(m, s).expand([4, 3]) || Normal(0, 1) where m, s: [2]);
}
