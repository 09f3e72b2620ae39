// scale=, var=, log_scale= and precision= describe the same Normal.
use kl::kl;

fn main() {
    let (m1, s1) = ([0.1_f64, -0.3, 0.7], [0.9_f64, 1.3, 0.5]);
    let (m2, s2) = ([0.0_f64, 0.0, 0.5], [1.0_f64, 2.0, 0.8]);
    let (v1, ls1, p1) = (s1.map(|s| s * s), s1.map(f64::ln), s1.map(|s| 1.0 / (s * s)));

    let by_hand: f64 = (0..3)
        .map(|i| (s2[i] / s1[i]).ln() + (s1[i] * s1[i] + (m1[i] - m2[i]).powi(2)) / (2.0 * s2[i] * s2[i]) - 0.5)
        .sum();
    let results = [
        kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap(),
        kl!(Normal(m1, scale = s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap(),
        kl!(Normal(m1, var = v1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap(),
        kl!(Normal(m1, log_scale = ls1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap(),
        kl!(Normal(m1, precision = p1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap(),
        kl!(Independent(Normal(m1, s1), 1) || Independent(Normal(m2, s2), 1)).unwrap(),
    ];
    for r in &results {
        assert!((r.scalar().unwrap() - by_hand).abs() < 1e-12, "{r:?} vs {by_hand}");
    }
}
