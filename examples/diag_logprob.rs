//! Batched diagonal-Gaussian `log_prob` for a large batch: the fast diagonal path users ask
//! for instead of a `MultivariateNormal` with a dense diagonal covariance.
//!
//! Run: `cargo run --release --example diag_logprob`

use kl::kl_fn;

kl_fn! {
    /// Log-density of each row of `x` under a diagonal Gaussian per row.
    pub fn diag_log_prob(m: [N, 8], s: [N, 8], x: [N, 8]) -> f32 {
        log_prob(Normal(m, s).to_event(1), x)
    }
}

fn main() -> Result<(), kl::Error> {
    let n = 1_000_000;
    let m: Vec<[f32; 8]> = (0..n).map(|i| std::array::from_fn(|j| ((i * 8 + j) as f32 * 1e-3).sin())).collect();
    let s: Vec<[f32; 8]> = (0..n).map(|i| std::array::from_fn(|j| 0.5 + ((i + j) % 7) as f32 * 0.1)).collect();
    let x: Vec<[f32; 8]> = (0..n).map(|i| std::array::from_fn(|j| ((i * 3 + j) as f32 * 2e-3).cos())).collect();

    let start = std::time::Instant::now();
    let lp = diag_log_prob(&m, &s, &x)?;
    let elapsed = start.elapsed();
    println!("log_prob of {} rows of 8 dims in {:.1} ms", lp.len(), elapsed.as_secs_f64() * 1e3);

    // Row 0 by the textbook formula.
    let by_hand: f32 = (0..8)
        .map(|j| {
            let z = (x[0][j] - m[0][j]) / s[0][j];
            -0.5 * z * z - s[0][j].ln() - 0.5 * (2.0 * std::f32::consts::PI).ln()
        })
        .sum();
    println!("row 0: {:.6} (by hand {by_hand:.6})", lp[0]);
    assert!((lp[0] - by_hand).abs() <= 1e-5 * by_hand.abs());

    // Writing into a reused buffer: no allocation per call.
    let mut out = vec![0.0_f32; n];
    let flat = |v: &[[f32; 8]]| v.as_flattened().to_vec();
    let (mf, sf, xf) = (flat(&m), flat(&s), flat(&x));
    diag_log_prob_into(&mf, &sf, &xf, n, &mut out)?;
    assert_eq!(out[..], lp[..]);
    println!("mean log_prob: {:.6}", out.iter().map(|&v| v as f64).sum::<f64>() / n as f64);
    Ok(())
}
