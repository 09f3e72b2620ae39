// f32 parameters give an f32 result.
use kl::kl;

fn main() {
    let (mu1, s1) = ([0.0_f32, 0.5, -1.0], [1.0_f32, 0.5, 2.0]);
    let (mu2, s2) = ([0.1_f32, 0.2, 0.3], [0.9_f32, 1.1, 1.3]);
    let d: kl::Tensor<f32> = kl!(Normal(mu1, s1).to_event(1) || Normal(mu2, s2).to_event(1)).unwrap();
    let by_hand: f32 = (0..3)
        .map(|i| (s2[i] / s1[i]).ln() + (s1[i] * s1[i] + (mu1[i] - mu2[i]).powi(2)) / (2.0 * s2[i] * s2[i]) - 0.5)
        .sum();
    let got = d.scalar().unwrap();
    assert!((got - by_hand).abs() <= 1e-5 * by_hand.abs().max(1.0), "{got} vs {by_hand}");

    let h: kl::Tensor<f32> = kl!(entropy(Normal(mu1, s1).to_event(1))).unwrap();
    let by_hand: f32 = s1.iter().map(|s| 0.5 * (2.0 * std::f32::consts::PI * std::f32::consts::E * s * s).ln()).sum();
    assert!((h.scalar().unwrap() - by_hand).abs() <= 1e-5 * by_hand.abs().max(1.0));
}
