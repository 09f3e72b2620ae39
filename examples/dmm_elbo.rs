//! The KL term of a Deep Markov Model's ELBO, analytically per time step:
//! KL(q(z_t | z_{t-1}, x) || p(z_t | z_{t-1})) over [T, B, d] tensors, masked for sequences of
//! different lengths and summed, instead of a noisy Monte Carlo estimate.
//!
//! Run: `cargo run --example dmm_elbo`

use kl::kl;

const T: usize = 6;
const B: usize = 4;
const D: usize = 3;

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
    Ok(())
}
