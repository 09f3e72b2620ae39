//! The KL term of a Deep Markov Model's ELBO, analytically per time step:
//! KL(q(z_t | z_{t-1}, x) || p(z_t | z_{t-1})) over [T, B, d] tensors, masked for sequences of
//! different lengths and summed, instead of a noisy Monte Carlo estimate; then trained.
//!
//! The training part fits the guide's per-step `(loc, log_scale)` to the model's per-step
//! Gaussians by gradient descent on the masked KL term, with the gradient from the emitted
//! vector–Jacobian product (closed form, one pass with the value). The mask is the upstream
//! gradient `grad_out`: steps past a sequence's end get exactly zero gradient and never move.
//! The optimum is known (q = p on every valid step, KL = 0), and the run asserts it reaches it.
//!
//! Run: `cargo run --example dmm_elbo`

use kl::{kl, kl_fn};

const T: usize = 6;
const B: usize = 4;
const D: usize = 3;

kl_fn! {
    /// The guide's per-step Gaussian (by log-scale, as a network outputs it) against the
    /// model's, per time step and sequence.
    fn step_kl(q_loc: [T, B, 3], q_log_scale: [T, B, 3], p_loc: [T, B, 3], p_scale: [T, B, 3]) -> f64 {
        Normal(q_loc, log_scale=q_log_scale).to_event(1) || Normal(p_loc, p_scale).to_event(1)
    }
}

fn main() -> Result<(), kl::Error> {
    // Flat [T, B, D] buffers, as they come out of a tensor library: shapes declared in the
    // macro. The number of steps T is read from the buffer length.
    let n = T * B * D;
    let q_loc: Vec<f64> = (0..n).map(|i| (i as f64 * 0.13).sin()).collect();
    let q_scale: Vec<f64> = (0..n).map(|i| 0.4 + 0.3 * (i as f64 * 0.07).cos().abs()).collect();
    let p_loc: Vec<f64> = (0..n).map(|i| (i as f64 * 0.05).cos() * 0.5).collect();
    let p_scale: Vec<f64> = (0..n).map(|i| 0.6 + 0.2 * (i as f64 * 0.03).sin().abs()).collect();
    // Sequence lengths of the batch; steps past a sequence's end are masked out.
    let lengths = [6, 4, 5, 2];

    let per_step = kl!(
        Normal(q_loc, q_scale).to_event(1) || Normal(p_loc, p_scale).to_event(1)
        where q_loc, q_scale, p_loc, p_scale: [T, 4, 3]
    )?;
    assert_eq!(per_step.shape, vec![T, B]);

    let mut kl_term = 0.0;
    for t in 0..T {
        let row: Vec<String> = (0..B).map(|b| format!("{:8.5}", per_step[t * B + b])).collect();
        println!("t = {t}: KL per sequence [{}]", row.join(", "));
        for (b, &len) in lengths.iter().enumerate() {
            if t < len {
                kl_term += per_step[t * B + b];
            }
        }
    }
    println!("masked KL term of the ELBO (sum over valid steps): {kl_term:.10}");

    // Check one step against the univariate closed form, summed over the latent dim.
    let i = 0;
    let by_hand: f64 = (0..D)
        .map(|k| {
            let (m1, s1, m2, s2) = (q_loc[i + k], q_scale[i + k], p_loc[i + k], p_scale[i + k]);
            (s2 / s1).ln() + (s1 * s1 + (m1 - m2).powi(2)) / (2.0 * s2 * s2) - 0.5
        })
        .sum();
    println!("step 0, sequence 0 by hand: {by_hand:.10} (kl: {:.10})", per_step[0]);
    assert!((per_step[0] - by_hand).abs() <= 1e-12 * by_hand);

    train(&q_loc, &q_scale, &p_loc, &p_scale, &lengths)
}

/// Gradient descent on the guide's `(loc, log_scale)`: the masked KL term falls to 0.
fn train(
    q_loc: &[f64],
    q_scale: &[f64],
    p_loc: &[f64],
    p_scale: &[f64],
    lengths: &[usize; B],
) -> Result<(), kl::Error> {
    let mask: Vec<f64> = (0..T * B).map(|i| if i / B < lengths[i % B] { 1.0 } else { 0.0 }).collect();
    let (mut loc, mut log_scale) = (q_loc.to_vec(), q_scale.iter().map(|s| s.ln()).collect::<Vec<_>>());
    let (start_loc, start_log_scale) = (loc.clone(), log_scale.clone());
    let n = T * B * D;
    let (mut out, mut g_loc, mut g_log_scale) = (vec![0.0; T * B], vec![0.0; n], vec![0.0; n]);
    let (mut g_p_loc, mut g_p_scale) = (vec![0.0; n], vec![0.0; n]);
    let lr = 0.1;
    let mut last = f64::INFINITY;
    println!("\ntraining the guide on the masked analytic KL (lr {lr}):");
    for step in 0..=300 {
        // Value and every gradient in one pass; `mask` is the upstream gradient.
        step_kl_vjp_into(
            &loc,
            &log_scale,
            p_loc,
            p_scale,
            T,
            B,
            &mask,
            &mut out,
            &mut g_loc,
            &mut g_log_scale,
            &mut g_p_loc,
            &mut g_p_scale,
        )?;
        let term: f64 = out.iter().zip(&mask).map(|(k, m)| k * m).sum();
        if step % 25 == 0 {
            println!("  step {step:3}: masked KL term {term:.3e}");
        }
        assert!(term <= last, "the KL term rises at step {step}: {term} > {last}");
        last = term;
        for i in 0..n {
            loc[i] -= lr * g_loc[i];
            log_scale[i] -= lr * g_log_scale[i];
        }
    }
    // The known optimum: q = p on every valid step, so the term is 0 up to rounding ...
    assert!(last < 1e-20, "not converged: {last}");
    for i in 0..n {
        if mask[i / D] == 1.0 {
            assert!((loc[i] - p_loc[i]).abs() < 1e-9 && (log_scale[i].exp() - p_scale[i]).abs() < 1e-9);
        } else {
            // ... and masked steps got exactly zero gradient: untouched.
            assert_eq!((loc[i], log_scale[i]), (start_loc[i], start_log_scale[i]));
        }
    }
    println!("converged to q = p on every valid step; masked steps untouched");
    Ok(())
}
