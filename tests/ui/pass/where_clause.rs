// Flat buffers with shapes declared in a `where` clause (the emitted-code path), and a declared
// shape that agrees with the arrays' Rust types.
use kl::kl;

fn normal_kl(m1: f64, s1: f64, m2: f64, s2: f64) -> f64 {
    (s2 / s1).ln() + (s1 * s1 + (m1 - m2).powi(2)) / (2.0 * s2 * s2) - 0.5
}

fn main() {
    // B = 4 rows of 3, read from the buffer length.
    let m1: Vec<f64> = (0..12).map(|i| (i as f64 * 0.3).sin()).collect();
    let s1: Vec<f64> = (0..12).map(|i| 0.5 + (i as f64 * 0.2).cos().abs()).collect();
    let m2: Vec<f64> = (0..12).map(|i| (i as f64 * 0.1).cos()).collect();
    let s2: Vec<f64> = (0..12).map(|i| 0.7 + (i as f64 * 0.4).sin().abs()).collect();
    let d = kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [B, 3]).unwrap();
    assert_eq!(d.shape, vec![4]);
    for b in 0..4 {
        let by_hand: f64 = (0..3).map(|j| normal_kl(m1[b * 3 + j], s1[b * 3 + j], m2[b * 3 + j], s2[b * 3 + j])).sum();
        assert!((d[b] - by_hand).abs() < 1e-12);
    }

    // Declared [2, 3] for arrays of type [[f64; 3]; 2]: the declaration and the type agree.
    let m = [[0.0_f64, 0.5, 1.0], [1.0, 0.0, -1.0]];
    let s = [[1.0_f64, 2.0, 0.5], [0.3, 0.6, 0.9]];
    let e = kl!(entropy(Normal(m, s)) where m, s: [2, 3]).unwrap();
    assert_eq!(e.shape, vec![2, 3]);
    for b in 0..2 {
        for j in 0..3 {
            let by_hand = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * s[b][j] * s[b][j]).ln();
            assert!((e.get(&[b, j]).unwrap() - by_hand).abs() < 1e-12);
        }
    }
}
