// The item form: a checked function returning a Tensor, `_into` writing into a buffer, and
// `_into_unchecked`; doc comments and attributes pass through.
use kl::kl_fn;

kl_fn! {
    /// Per-row KL between diagonal Gaussians.
    #[inline]
    pub fn diag_kl(m1: [B, 3], s1: [B, 3], m2: [B, 3], s2: [B, 3]) -> f64 {
        Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)
    }
}

kl_fn! {
    fn std_prior(mu: [B, 2], sigma: [B, 2]) -> f32 {
        Normal(mu, sigma).to_event(1) || Normal(0, 1).expand([2]).to_event(1)
    }
}

fn normal_kl(m1: f64, s1: f64, m2: f64, s2: f64) -> f64 {
    (s2 / s1).ln() + (s1 * s1 + (m1 - m2).powi(2)) / (2.0 * s2 * s2) - 0.5
}

fn main() {
    let m1: Vec<[f64; 3]> = vec![[0.0, 0.5, -1.0], [1.0, 2.0, 3.0]];
    let s1: Vec<[f64; 3]> = vec![[1.0, 0.5, 2.0], [0.1, 0.2, 0.3]];
    let m2: Vec<[f64; 3]> = vec![[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]];
    let s2: Vec<[f64; 3]> = vec![[1.0, 1.0, 1.0], [0.5, 0.5, 0.5]];
    let d = diag_kl(&m1, &s1, &m2, &s2).unwrap();
    assert_eq!(d.shape, vec![2]);
    for b in 0..2 {
        let by_hand: f64 = (0..3).map(|j| normal_kl(m1[b][j], s1[b][j], m2[b][j], s2[b][j])).sum();
        assert!((d[b] - by_hand).abs() < 1e-12);
    }

    // Flat slices; the `_into` forms take the parameters in declared order, then the sizes.
    let flat = |v: &[[f64; 3]]| v.as_flattened().to_vec();
    let (fm1, fs1, fm2, fs2) = (flat(&m1), flat(&s1), flat(&m2), flat(&s2));
    let mut out = vec![0.0; 2];
    diag_kl_into(&fm1, &fs1, &fm2, &fs2, 2, &mut out).unwrap();
    assert_eq!(out[..], d[..]);
    let mut fast = vec![0.0; 2];
    diag_kl_into_unchecked(&fm1, &fs1, &fm2, &fs2, 2, &mut fast).unwrap();
    assert_eq!(fast, out);

    // A wrong buffer length is an error, not a panic.
    assert!(diag_kl_into(&fm1[..5], &fs1, &fm2, &fs2, 2, &mut out).is_err());

    let mu: Vec<[f32; 2]> = vec![[0.5, -0.5]];
    let sigma: Vec<[f32; 2]> = vec![[0.8, 1.2]];
    let p = std_prior(&mu, &sigma).unwrap();
    let by_hand: f32 = (0..2).map(|j| 0.5 * (mu[0][j].powi(2) + sigma[0][j].powi(2) - 1.0) - sigma[0][j].ln()).sum();
    assert!((p[0] - by_hand).abs() < 1e-6);
    let mut flat_out = [0.0_f32; 1];
    std_prior_into(mu.as_flattened(), sigma.as_flattened(), 1, &mut flat_out).unwrap();
    assert_eq!(flat_out[0], p[0]);
    let mut fast = [0.0_f32; 1];
    std_prior_into_unchecked(mu.as_flattened(), sigma.as_flattened(), 1, &mut fast).unwrap();
    assert_eq!(fast, flat_out);
}
