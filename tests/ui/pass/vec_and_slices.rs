// Shapes from Vec<[f64; N]>, slices of arrays, references and a bare Vec<f64>.
use kl::kl;

fn main() {
    let mu: Vec<[f64; 4]> = (0..5).map(|b| std::array::from_fn(|j| (b * 4 + j) as f64 * 0.1)).collect();
    let sigma: Vec<[f64; 4]> = (0..5).map(|b| std::array::from_fn(|j| 0.5 + (b + j) as f64 * 0.05)).collect();

    // The VAE prior term: a [5, 4] batch against N(0, I) in 4 dims.
    let vae = kl!(Normal(mu, sigma).to_event(1) || Normal(0, 1).expand([4]).to_event(1)).unwrap();
    assert_eq!(vae.shape, vec![5]);
    for b in 0..5 {
        let by_hand: f64 =
            (0..4).map(|j| 0.5 * (mu[b][j].powi(2) + sigma[b][j].powi(2) - 1.0) - sigma[b][j].ln()).sum();
        assert!((vae[b] - by_hand).abs() < 1e-12);
    }

    // Slices of the same rows: only the first two.
    let (m2, s2): (&[[f64; 4]], &[[f64; 4]]) = (&mu[..2], &sigma[..2]);
    let head = kl!(Normal(m2, s2).to_event(1) || Normal(0, 1).expand([4]).to_event(1)).unwrap();
    assert_eq!(head.shape, vec![2]);
    assert_eq!(head[..], vae[..2]);

    // log_prob of a Vec<[f64; 4]> value under one row's distribution.
    let (m0, s0) = (mu[0], sigma[0]);
    let x: Vec<[f64; 4]> = vec![[0.1, -0.2, 0.3, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0; 4]];
    let lp = kl!(log_prob(Normal(m0, s0).to_event(1), x)).unwrap();
    assert_eq!(lp.shape, vec![3]);
    for (n, row) in x.iter().enumerate() {
        let by_hand: f64 = (0..4)
            .map(|j| {
                let z = (row[j] - m0[j]) / s0[j];
                -0.5 * z * z - s0[j].ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
            })
            .sum();
        assert!((lp[n] - by_hand).abs() < 1e-12);
    }

    // A Vec<f64> is a rank-1 tensor whose length is known at run time.
    let v: Vec<f64> = vec![0.5, 1.0, 2.0];
    let h = kl!(entropy(Normal(0, v))).unwrap();
    assert_eq!(h.shape, vec![3]);
    for i in 0..3 {
        let by_hand = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * v[i] * v[i]).ln();
        assert!((h[i] - by_hand).abs() < 1e-12);
    }
}
