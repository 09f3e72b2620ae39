//! The gradient forms `kl_fn!` generates: `NAME_vjp_into` (and `_unchecked`), `NAME_vjp` and
//! `NAME_value_and_grad`. Expected values are the textbook derivatives of the univariate
//! Gaussian KL, written out here:
//! `KL = ln(s2/s1) + (s1² + (m1 − m2)²)/(2 s2²) − ½`, so
//! `∂/∂m1 = (m1 − m2)/s2²`, `∂/∂s1 = s1/s2² − 1/s1`, `∂/∂m2 = −∂/∂m1`,
//! `∂/∂s2 = 1/s2 − (s1² + (m1 − m2)²)/s2³`.

use kl::kl_fn;

fn grads(m1: f64, s1: f64, m2: f64, s2: f64) -> [f64; 4] {
    let d = m1 - m2;
    [d / (s2 * s2), s1 / (s2 * s2) - 1.0 / s1, -d / (s2 * s2), 1.0 / s2 - (s1 * s1 + d * d) / (s2 * s2 * s2)]
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-13 * want.abs().max(1.0)
}

kl_fn! {
    /// Per-row KL between diagonal Gaussians, parameters declared out of alphabetical order.
    fn diag(s2: [N, 3], m1: [N, 3], s1: [N, 3], m2: [N, 3]) -> f64 {
        Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)
    }
}

kl_fn! {
    /// A VAE's KL against a learned prior shared by the batch.
    fn shared_prior(m: [N, 2], s: [N, 2], m0: [2], s0: [2]) -> f64 {
        Normal(m, s).to_event(1) || Normal(m0, s0).to_event(1)
    }
}

kl_fn! {
    /// Against N(0, I): the literals are not parameters.
    fn std_prior(m: [N, 4], log_s: [N, 4]) -> f32 {
        Normal(m, log_scale=log_s).to_event(1) || Normal(0, 1).expand([4]).to_event(1)
    }
}

kl_fn! {
    /// The same distribution on both sides.
    fn itself(m: [N], s: [N]) -> f64 {
        Normal(m, s) || Normal(m, s)
    }
}

kl_fn! {
    /// A log-density, differentiated with respect to the value too.
    fn density(x: [N], m: [N], s: [N]) -> f64 {
        log_prob(Normal(m, s), x)
    }
}

const S2: [f64; 6] = [1.5, 0.7, 2.0, 1.0, 0.3, 4.0];
const M1: [f64; 6] = [0.1, -0.4, 2.0, 0.0, 1.0, -3.0];
const S1: [f64; 6] = [0.9, 1.1, 0.5, 1.0, 0.25, 2.5];
const M2: [f64; 6] = [-0.2, 0.3, 1.0, 0.0, 1.5, 0.5];

#[test]
fn value_and_grad_are_the_textbook_derivatives_in_declared_order() {
    let (value, g) = diag_value_and_grad(&S2[..], &M1[..], &S1[..], &M2[..]).unwrap();
    assert_eq!(value.shape, [2]);
    assert_eq!(g.m1.shape, [2, 3]);
    for i in 0..6 {
        let want = grads(M1[i], S1[i], M2[i], S2[i]);
        let got = [g.m1.data[i], g.s1.data[i], g.m2.data[i], g.s2.data[i]];
        for (a, b) in got.iter().zip(want) {
            assert!(close(*a, b), "element {i}: {got:?} against {want:?}");
        }
    }
    // The value is the forward function's, bit for bit.
    assert_eq!(value, diag(&S2[..], &M1[..], &S1[..], &M2[..]).unwrap());
}

#[test]
fn grad_out_weights_each_row() {
    // A mask: the second row does not count, the first counts 2.5 times.
    let (_, g) = diag_vjp(&S2[..], &M1[..], &S1[..], &M2[..], &[2.5, 0.0]).unwrap();
    for i in 0..6 {
        let w = if i < 3 { 2.5 } else { 0.0 };
        let want = grads(M1[i], S1[i], M2[i], S2[i]);
        assert!(close(g.s1.data[i], w * want[1]), "{i}");
        assert!(close(g.s2.data[i], w * want[3]), "{i}");
    }
    // The slice forms take the same order, then `n`, `grad_out`, `out` and one buffer per
    // parameter; they overwrite every buffer.
    let (mut out, mut gs) = ([f64::NAN; 2], [[f64::NAN; 6]; 4]);
    let [g0, g1, g2, g3] = &mut gs;
    diag_vjp_into(&S2[..], &M1[..], &S1[..], &M2[..], 2, &[2.5, 0.0], &mut out, g0, g1, g2, g3).unwrap();
    assert_eq!(out[..], diag(&S2[..], &M1[..], &S1[..], &M2[..]).unwrap().data[..]);
    assert_eq!(gs[0][..], g.s2.data[..]);
    assert_eq!(gs[2][..], g.s1.data[..]);
    let mut again = [[f64::NAN; 6]; 4];
    let [h0, h1, h2, h3] = &mut again;
    diag_vjp_into_unchecked(&S2[..], &M1[..], &S1[..], &M2[..], 2, &[2.5, 0.0], &mut out, h0, h1, h2, h3).unwrap();
    assert_eq!(again, gs);
}

#[test]
fn a_shared_parameter_sums_over_the_batch() {
    let (m, s) = ([0.5, -1.0, 0.0, 2.0, 1.0, 1.0], [1.0, 0.5, 2.0, 0.8, 1.0, 1.2]);
    let (m0, s0) = ([0.25, -0.5], [1.5, 0.9]);
    let (value, g) = shared_prior_value_and_grad(&m[..], &s[..], &m0, &s0).unwrap();
    assert_eq!(value.shape, [3]);
    assert_eq!(g.m0.shape, [2]);
    for j in 0..2 {
        let (mut gm0, mut gs0) = (0.0, 0.0);
        for n in 0..3 {
            let k = n * 2 + j;
            let want = grads(m[k], s[k], m0[j], s0[j]);
            assert!(close(g.m[k], want[0]) && close(g.s[k], want[1]));
            gm0 += want[2];
            gs0 += want[3];
        }
        assert!(close(g.m0[j], gm0) && close(g.s0[j], gs0), "{j}: {:?} {:?}", g.m0, g.s0);
    }
}

#[test]
fn the_standard_prior_in_f32() {
    // KL = ½(m² + e^{2l} − 1) − l per element: ∂/∂m = m, ∂/∂l = e^{2l} − 1.
    let m: Vec<f32> = (0..8).map(|i| 0.25 * i as f32 - 1.0).collect();
    let l: Vec<f32> = (0..8).map(|i| 0.1 * i as f32 - 0.35).collect();
    let (value, g) = std_prior_value_and_grad(&m, &l).unwrap();
    assert_eq!(value.shape, [2]);
    for k in 0..8 {
        let (mk, lk) = (f64::from(m[k]), f64::from(l[k]));
        assert!((f64::from(g.m[k]) - mk).abs() <= 1e-6 * mk.abs().max(1.0));
        let want = (2.0 * lk).exp_m1();
        assert!((f64::from(g.log_s[k]) - want).abs() <= 1e-6 * want.abs().max(1e-3), "{k}: {} {want}", g.log_s[k]);
    }
}

#[test]
fn the_gradient_of_p_against_itself_is_exactly_zero() {
    let (value, g) = itself_value_and_grad(&[0.3, -2.0][..], &[1.5, 0.1][..]).unwrap();
    assert_eq!(value.data, [0.0, 0.0]);
    assert_eq!(g.m.data, [0.0, 0.0]);
    assert_eq!(g.s.data, [0.0, 0.0]);
}

#[test]
fn log_prob_is_differentiated_with_respect_to_the_value() {
    // log p = −½z² − ln s − ½ln 2π, z = (x − m)/s: ∂/∂x = −z/s, ∂/∂m = z/s, ∂/∂s = (z² − 1)/s.
    let (x, m, s) = ([0.5, -1.0, 3.0], [0.0, 1.0, 2.0], [1.0, 0.5, 4.0]);
    let (_, g) = density_value_and_grad(&x[..], &m[..], &s[..]).unwrap();
    for i in 0..3 {
        let z = (x[i] - m[i]) / s[i];
        assert!(close(g.x[i], -z / s[i]));
        assert!(close(g.m[i], z / s[i]));
        assert!(close(g.s[i], (z * z - 1.0) / s[i]));
    }
}

#[test]
fn bad_inputs_are_errors_naming_the_argument() {
    // An upstream gradient of the wrong length.
    let e = diag_vjp(&S2[..], &M1[..], &S1[..], &M2[..], &[1.0]).unwrap_err();
    assert!(e.to_string().contains("grad_out"), "{e}");
    // A gradient buffer of the wrong length.
    let (mut out, mut g, mut short) = ([0.0; 2], [[0.0; 6]; 3], [0.0; 5]);
    let [g0, g1, g2] = &mut g;
    let e = diag_vjp_into(&S2[..], &M1[..], &S1[..], &M2[..], 2, &[1.0, 1.0], &mut out, g0, g1, g2, &mut short)
        .unwrap_err();
    assert!(e.to_string().contains("grad_m2"), "{e}");
    // An invalid value: the forward function's error, word for word.
    let mut bad = S1;
    bad[4] = -1.0;
    let e = diag_value_and_grad(&S2[..], &M1[..], &bad[..], &M2[..]).unwrap_err();
    assert_eq!(e.to_string(), diag(&S2[..], &M1[..], &bad[..], &M2[..]).unwrap_err().to_string());
}

/// The checked VJP validates and computes chunk by chunk of the batch (the chunk still in
/// cache); an invalid value in a late chunk is still reported with its full batch index, as the
/// forward function reports it, and a valid batch gives what the unchecked form gives.
#[test]
fn an_invalid_value_in_a_late_chunk_names_its_row() {
    let n = 2000;
    let row = |k: usize, a: f64| (0..3).map(|j| a + 0.1 * ((k * 3 + j) % 7) as f64).collect::<Vec<_>>();
    let (s2, m1, s1, m2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (
        (0..n).flat_map(|k| row(k, 0.5)).collect(),
        (0..n).flat_map(|k| row(k, -0.3)).collect(),
        (0..n).flat_map(|k| row(k, 0.8)).collect(),
        (0..n).flat_map(|k| row(k, 0.2)).collect(),
    );
    let up: Vec<f64> = (0..n).map(|k| 1.0 + (k % 3) as f64).collect();
    let run = |s1: &[f64], checked: bool| {
        let (mut out, mut g) = (vec![0.0; n], vec![vec![f64::NAN; 3 * n]; 4]);
        let [a, b, c, d] = &mut g[..] else { unreachable!() };
        let r = if checked {
            diag_vjp_into(&s2, &m1, s1, &m2, n, &up, &mut out, a, b, c, d)
        } else {
            diag_vjp_into_unchecked(&s2, &m1, s1, &m2, n, &up, &mut out, a, b, c, d)
        };
        r.map(|_| (out, g))
    };
    assert_eq!(run(&s1, true).unwrap(), run(&s1, false).unwrap());
    let mut bad = s1.clone();
    bad[3 * 1700 + 2] = 0.0;
    let e = run(&bad, true).unwrap_err();
    assert_eq!(e.to_string(), diag(&s2, &m1, &bad, &m2).unwrap_err().to_string());
    assert!(e.to_string().contains("[1700, 2]"), "{e}");
}
