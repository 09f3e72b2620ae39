//! The KL term of a VAE: a batch of encoder outputs (mu, sigma) against the N(0, I) prior,
//! and between the posteriors of two VAEs on the same inputs, with no loops in user code.
//!
//! The last part is what a training step needs: the KL of a batch of encoder outputs
//! `(mu, log_sigma)` and its gradient with respect to both, in closed form and in one pass.
//!
//! Run: `cargo run --example vae_kl`

use kl::{kl, kl_fn};

kl_fn! {
    /// The VAE's KL term per row, the encoder giving `log sigma` (the usual network output).
    pub fn vae_prior_kl(mu: [B, 8], log_sigma: [B, 8]) -> f32 {
        Normal(mu, log_scale=log_sigma).to_event(1) || Normal(0, 1).expand([8]).to_event(1)
    }
}

const LATENT: usize = 8;

/// A stand-in encoder: deterministic (mu, sigma) rows for a batch.
fn encode(batch: usize, seed: f32) -> (Vec<[f32; LATENT]>, Vec<[f32; LATENT]>) {
    let mu = (0..batch).map(|b| std::array::from_fn(|j| ((b * LATENT + j) as f32 * 0.37 + seed).sin() * 0.8)).collect();
    let sigma =
        (0..batch).map(|b| std::array::from_fn(|j| 0.3 + ((b + 3 * j) as f32 * 0.11 + seed).cos().abs())).collect();
    (mu, sigma)
}

fn main() -> Result<(), kl::Error> {
    let (mu, sigma) = encode(1024, 0.0);

    // Shapes from the types: mu, sigma are [B, 8]; the prior is expanded to [8]; result [B].
    let kl_prior = kl!(Normal(mu, sigma).to_event(1) || Normal(0, 1).expand([8]).to_event(1))?;
    println!("KL(q(z|x) || N(0, I)) for {} rows, shape {:?}", kl_prior.len(), kl_prior.shape);
    println!("  first rows: {:?}", &kl_prior[..4]);
    println!("  mean over the batch: {:.6}", kl_prior.iter().sum::<f32>() / kl_prior.len() as f32);

    // The VAE closed form by hand for row 0, as a check: 0.5 * sum(mu² + sigma² - 1) - sum(ln sigma).
    let by_hand: f32 =
        (0..LATENT).map(|j| 0.5 * (mu[0][j].powi(2) + sigma[0][j].powi(2) - 1.0) - sigma[0][j].ln()).sum();
    println!("  row 0 by hand: {by_hand:.6}");
    assert!((kl_prior[0] - by_hand).abs() <= 1e-5 * by_hand.abs().max(1.0));

    // Two encoders' posteriors on the same batch.
    let (mu_b, sigma_b) = encode(1024, 0.25);
    let between = kl!(Normal(mu, sigma).to_event(1) || Normal(mu_b, sigma_b).to_event(1))?;
    println!(
        "KL(q_A(z|x) || q_B(z|x)): mean {:.6}, max {:.6}",
        between.iter().sum::<f32>() / between.len() as f32,
        between.iter().cloned().fold(f32::MIN, f32::max)
    );

    // A training step: the KL term and its gradient for the encoder's backward pass. The loss
    // is the batch mean, so the upstream gradient is 1/B per row.
    let batch = mu.len();
    let flat_mu: Vec<f32> = mu.iter().flatten().copied().collect();
    let log_sigma: Vec<f32> = sigma.iter().flatten().map(|s| s.ln()).collect();
    let grad_out = vec![1.0 / batch as f32; batch];
    let (value, grad) = vae_prior_kl_vjp(&flat_mu, &log_sigma, &grad_out)?;
    let loss = value.iter().sum::<f32>() / batch as f32;
    let norm = |g: &[f32]| g.iter().map(|x| x * x).sum::<f32>().sqrt();
    println!(
        "training step: loss {loss:.6}, |d loss/d mu| {:.6}, |d loss/d log_sigma| {:.6}",
        norm(&grad.mu),
        norm(&grad.log_sigma)
    );
    // The closed form: d/d mu = mu / B and d/d log_sigma = (sigma² − 1) / B, per element.
    for i in 0..flat_mu.len() {
        let (want_mu, want_ls) = (flat_mu[i] / batch as f32, ((2.0 * log_sigma[i]).exp() - 1.0) / batch as f32);
        assert!((grad.mu[i] - want_mu).abs() <= 1e-6 * want_mu.abs().max(1e-3));
        assert!((grad.log_sigma[i] - want_ls).abs() <= 1e-5 * want_ls.abs().max(1e-3));
    }
    Ok(())
}
