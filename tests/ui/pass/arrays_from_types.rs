// Shapes from fixed-size arrays: [3] summed by to_event(1), and a batch [2, 3] giving [2].
use kl::kl;

/// KL(N(m1, s1²) || N(m2, s2²)).
fn normal_kl(m1: f64, s1: f64, m2: f64, s2: f64) -> f64 {
    (s2 / s1).ln() + (s1 * s1 + (m1 - m2).powi(2)) / (2.0 * s2 * s2) - 0.5
}

fn main() {
    let (mu1, s1) = ([0.0_f64, 0.5, -1.0], [1.0, 0.5, 2.0]);
    let (mu2, s2) = ([0.2_f64, 0.0, 0.3], [1.5, 1.0, 0.7]);
    let d = kl!(Normal(mu1, s1).to_event(1) || Normal(mu2, s2).to_event(1)).unwrap();
    let by_hand: f64 = (0..3).map(|i| normal_kl(mu1[i], s1[i], mu2[i], s2[i])).sum();
    assert_eq!(d.shape, Vec::<usize>::new());
    assert!((d.scalar().unwrap() - by_hand).abs() < 1e-12, "{d:?} vs {by_hand}");

    // Without to_event the result is elementwise, shape [3].
    let e = kl!(Normal(mu1, s1) || Normal(mu2, s2)).unwrap();
    assert_eq!(e.shape, vec![3]);
    for i in 0..3 {
        assert!((e[i] - normal_kl(mu1[i], s1[i], mu2[i], s2[i])).abs() < 1e-12);
    }

    // A batch of two rows against one row: [2, 3] and [3] broadcast to batch [2].
    let m = [[0.0_f64, 0.5, -1.0], [1.0, 1.0, 1.0]];
    let s = [[1.0_f64, 0.5, 2.0], [0.3, 0.4, 0.5]];
    let rows = kl!(Normal(m, s).to_event(1) || Normal(mu2, s2).to_event(1)).unwrap();
    assert_eq!(rows.shape, vec![2]);
    for b in 0..2 {
        let by_hand: f64 = (0..3).map(|i| normal_kl(m[b][i], s[b][i], mu2[i], s2[i])).sum();
        assert!((rows[b] - by_hand).abs() < 1e-12);
    }
}
