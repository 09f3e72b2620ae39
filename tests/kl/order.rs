//! Argument order: every generated function takes its inputs in the order the user declared
//! them (a `kl_fn!` signature, a `where` clause), never sorted by name.
//!
//! The names are chosen so that alphabetical order differs from the declared one, and every
//! value is valid in every slot (positive, finite), so a permutation cannot be caught by
//! validation: only the value shows it. Expected values come from the univariate Gaussian KL
//! written out here, `ln(s2/s1) + (s1² + (m1 − m2)²)/(2 s2²) − 1/2`.

use kl::kl_fn;

fn normal_kl(m1: f64, s1: f64, m2: f64, s2: f64) -> f64 {
    (s2 / s1).ln() + (s1 * s1 + (m1 - m2) * (m1 - m2)) / (2.0 * s2 * s2) - 0.5
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-13 * want.abs().max(1.0)
}

kl_fn! {
    /// The issue's example: declared `m1, s1, m2, s2`; sorted it would be `m1, m2, s1, s2`.
    fn issue_example(m1: [N, 2], s1: [N, 2], m2: [N, 2], s2: [N, 2]) -> f64 {
        Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)
    }
}

kl_fn! {
    /// Declared in reverse alphabetical order of the slots: `zeta, alpha, mu, beta`.
    fn reversed(zeta: [N], alpha: [N], mu: [N], beta: [N]) -> f64 {
        Normal(zeta, alpha) || Normal(mu, beta)
    }
}

kl_fn! {
    /// Declared in an order that is neither alphabetical nor the order of first use.
    fn declared_not_used_order(s2: [N], m1: [N], s1: [N], m2: [N]) -> f64 {
        Normal(m1, s1) || Normal(m2, s2)
    }
}

kl_fn! {
    /// Two shape symbols, declared `T` before `B`: the sizes follow in that order too.
    fn two_symbols(q_loc: [T, B], q_scale: [T, B], p_loc: [T, B], p_scale: [T, B]) -> f32 {
        Normal(q_loc, q_scale) || Normal(p_loc, p_scale)
    }
}

#[test]
fn issue_example_in_declared_order_on_every_form() {
    let (m1, s1, m2, s2) = ([0.5, 0.2], [1.0, 2.0], [0.7, 0.1], [3.0, 0.5]);
    let want: f64 = (0..2).map(|j| normal_kl(m1[j], s1[j], m2[j], s2[j])).sum();
    // The value the issue quotes for the correct order, re-derived by the formula above.
    assert!(close(want, 6.790095705325996), "{want}");
    let t = issue_example(&[m1][..], &[s1][..], &[m2][..], &[s2][..]).unwrap();
    assert!(close(t[0], want), "Tensor form: {}", t[0]);
    let mut out = [f64::NAN];
    issue_example_into(&m1, &s1, &m2, &s2, 1, &mut out).unwrap();
    assert!(close(out[0], want), "_into: {}", out[0]);
    let mut out = [f64::NAN];
    issue_example_into_unchecked(&m1, &s1, &m2, &s2, 1, &mut out).unwrap();
    assert!(close(out[0], want), "_into_unchecked: {}", out[0]);
    // The sorted order gives a different (wrong) number, so the test would see a regression.
    let sorted: f64 = (0..2).map(|j| normal_kl(m1[j], m2[j], s1[j], s2[j])).sum();
    assert!(!close(sorted, want));
}

#[test]
fn reverse_alphabetical_names_on_every_form() {
    let zeta = [0.3, -1.2, 2.0];
    let alpha = [0.7, 1.5, 0.9];
    let mu = [1.1, 0.4, -0.6];
    let beta = [2.2, 0.35, 1.3];
    let want: Vec<f64> = (0..3).map(|i| normal_kl(zeta[i], alpha[i], mu[i], beta[i])).collect();
    let t = reversed(&zeta[..], &alpha[..], &mu[..], &beta[..]).unwrap();
    let mut into = [f64::NAN; 3];
    reversed_into(&zeta, &alpha, &mu, &beta, 3, &mut into).unwrap();
    let mut unchecked = [f64::NAN; 3];
    reversed_into_unchecked(&zeta, &alpha, &mu, &beta, 3, &mut unchecked).unwrap();
    for i in 0..3 {
        assert!(close(t[i], want[i]), "Tensor form [{i}]: {} vs {}", t[i], want[i]);
        assert!(close(into[i], want[i]), "_into [{i}]: {} vs {}", into[i], want[i]);
        assert!(close(unchecked[i], want[i]), "_into_unchecked [{i}]: {} vs {}", unchecked[i], want[i]);
    }
}

#[test]
fn declaration_order_wins_over_order_of_use() {
    let (s2, m1, s1, m2) = ([0.8, 1.9], [0.25, -0.5], [1.4, 0.6], [-0.75, 0.5]);
    let want: Vec<f64> = (0..2).map(|i| normal_kl(m1[i], s1[i], m2[i], s2[i])).collect();
    let t = declared_not_used_order(&s2[..], &m1[..], &s1[..], &m2[..]).unwrap();
    let mut into = [f64::NAN; 2];
    declared_not_used_order_into(&s2, &m1, &s1, &m2, 2, &mut into).unwrap();
    let mut unchecked = [f64::NAN; 2];
    declared_not_used_order_into_unchecked(&s2, &m1, &s1, &m2, 2, &mut unchecked).unwrap();
    for i in 0..2 {
        assert!(close(t[i], want[i]) && close(into[i], want[i]) && close(unchecked[i], want[i]));
    }
}

#[test]
fn shape_symbols_follow_declared_order() {
    // T = 2 time steps, B = 3 sequences: `_into(.., t, b, out)`.
    let (t, b) = (2usize, 3usize);
    let q_loc: Vec<f32> = vec![0.5, -0.25, 1.0, 0.0, 0.75, -1.5];
    let q_scale: Vec<f32> = vec![1.0, 0.5, 2.0, 0.75, 1.25, 0.25];
    let p_loc: Vec<f32> = vec![0.0, 0.5, -1.0, 0.25, 0.0, 1.0];
    let p_scale: Vec<f32> = vec![1.5, 1.0, 0.5, 2.0, 0.5, 1.0];
    let want: Vec<f64> =
        (0..t * b).map(|i| normal_kl(q_loc[i] as f64, q_scale[i] as f64, p_loc[i] as f64, p_scale[i] as f64)).collect();
    let mut into = vec![f32::NAN; t * b];
    two_symbols_into(&q_loc, &q_scale, &p_loc, &p_scale, t, b, &mut into).unwrap();
    let mut unchecked = vec![f32::NAN; t * b];
    two_symbols_into_unchecked(&q_loc, &q_scale, &p_loc, &p_scale, t, b, &mut unchecked).unwrap();
    let rows = |v: &[f32]| v.chunks(b).map(|r| [r[0], r[1], r[2]]).collect::<Vec<[f32; 3]>>();
    let tensor = two_symbols(&rows(&q_loc), &rows(&q_scale), &rows(&p_loc), &rows(&p_scale)).unwrap();
    assert_eq!(tensor.shape, vec![t, b]);
    for i in 0..t * b {
        let tol = 1e-5 * want[i].abs().max(1.0);
        assert!((tensor[i] as f64 - want[i]).abs() <= tol, "Tensor form [{i}]: {} vs {}", tensor[i], want[i]);
        assert!((into[i] as f64 - want[i]).abs() <= tol, "_into [{i}]: {} vs {}", into[i], want[i]);
        assert!((unchecked[i] as f64 - want[i]).abs() <= tol, "_into_unchecked [{i}]");
    }
}
