//! Reverse mode against two independent references: the textbook derivatives written out here,
//! and central finite differences of the interpreter's value (another method).

use kl_compiler::grad::evaluate_with_grad;
use kl_compiler::interp::{evaluate, Tensor};
use std::collections::BTreeMap;

type Data = BTreeMap<String, Tensor<f64>>;

fn data(pairs: &[(&str, Vec<usize>, Vec<f64>)]) -> Data {
    pairs.iter().map(|(n, s, d)| (n.to_string(), Tensor { shape: s.clone(), data: d.clone() })).collect()
}

fn sum(src: &str, d: &Data) -> f64 {
    evaluate(src, d).unwrap_or_else(|e| panic!("{src}: {e}")).data.iter().sum()
}

/// Every gradient entry against a central difference of the summed value.
fn check_fd(src: &str, d: &Data) {
    let (_, grads) = evaluate_with_grad(src, d).unwrap_or_else(|e| panic!("{src}: {e}"));
    assert_eq!(grads.keys().collect::<Vec<_>>(), d.keys().collect::<Vec<_>>(), "{src}: one gradient per parameter");
    for (name, g) in &grads {
        assert_eq!(g.shape, d[name].shape, "{src}: gradient of `{name}` has the parameter's shape");
        for i in 0..g.data.len() {
            let x = d[name].data[i];
            let h = 1e-6 * x.abs().max(1.0);
            let (mut up, mut down) = (d.clone(), d.clone());
            up.get_mut(name).unwrap().data[i] = x + h;
            down.get_mut(name).unwrap().data[i] = x - h;
            let fd = (sum(src, &up) - sum(src, &down)) / (2.0 * h);
            let tol = 1e-6 * fd.abs().max(1.0);
            assert!((g.data[i] - fd).abs() <= tol, "{src}: d/d{name}[{i}] = {} vs finite difference {fd}", g.data[i]);
        }
    }
}

fn v(x: &[f64]) -> Vec<f64> {
    x.to_vec()
}

#[test]
fn normal_kl_matches_the_textbook_derivatives() {
    let (m1, s1, m2, s2) = ([0.5, -1.0, 2.0], [1.5, 0.25, 0.8], [0.0, -0.5, 2.5], [2.0, 0.3, 0.7]);
    let d = data(&[("m1", vec![3], v(&m1)), ("s1", vec![3], v(&s1)), ("m2", vec![3], v(&m2)), ("s2", vec![3], v(&s2))]);
    let (_, g) = evaluate_with_grad("Normal(m1, s1) || Normal(m2, s2)", &d).unwrap();
    for i in 0..3 {
        let dm = m1[i] - m2[i];
        let want = [
            ("m1", dm / (s2[i] * s2[i])),
            ("s1", s1[i] / (s2[i] * s2[i]) - 1.0 / s1[i]),
            ("m2", -dm / (s2[i] * s2[i])),
            ("s2", 1.0 / s2[i] - (s1[i] * s1[i] + dm * dm) / s2[i].powi(3)),
        ];
        for (name, w) in want {
            assert!((g[name].data[i] - w).abs() <= 1e-14 * w.abs().max(1.0), "{name}[{i}]: {} vs {w}", g[name].data[i]);
        }
    }
}

#[test]
fn every_normal_parameterization_agrees_with_finite_differences() {
    let kinds =
        [("scale", [1.5, 0.25]), ("var", [2.25, 0.0625]), ("log_scale", [0.4, -1.2]), ("precision", [0.44, 16.0])];
    for (k1, a1) in kinds {
        for (k2, a2) in kinds {
            let src = format!("Normal(m1, {k1}=a) || Normal(m2, {k2}=b)");
            let d = data(&[
                ("m1", vec![2], v(&[0.5, -1.0])),
                ("a", vec![2], v(&a1)),
                ("m2", vec![2], v(&[0.0, 0.3])),
                ("b", vec![2], v(&a2)),
            ]);
            check_fd(&src, &d);
        }
    }
}

#[test]
fn structural_ops_pass_gradients_through() {
    // to_event + sum, expand and literals (the VAE prior), broadcasting batches.
    let d = data(&[
        ("mu", vec![2, 3], v(&[0.1, -0.2, 0.3, 1.0, -1.5, 0.0])),
        ("s", vec![2, 3], v(&[0.9, 1.1, 0.5, 2.0, 0.7, 1.0])),
    ]);
    check_fd("Normal(mu, s).to_event(1) || Normal(0, 1).expand([3]).to_event(1)", &d);
    check_fd("Normal(mu, log_scale=s).to_event(1) || Normal(0, 1).expand([3]).to_event(1)", &d);
    let b = data(&[("m", vec![2, 1], v(&[0.5, -0.5])), ("s", vec![3], v(&[0.5, 1.0, 2.0])), ("t", vec![], v(&[1.5]))]);
    check_fd("Normal(m, s) || Normal(0.25, t)", &b);
    // One parameter in two places accumulates.
    let shared =
        data(&[("m", vec![2], v(&[0.5, -0.5])), ("s", vec![2], v(&[0.5, 1.0])), ("t", vec![2], v(&[1.5, 0.7]))]);
    check_fd("Normal(m, s) || Normal(m, t)", &shared);
    // A diagonal MVN is rewritten to elementwise normals; its `diag(v)` gets the gradient.
    let dm = data(&[
        ("a", vec![3], v(&[0.5, -0.5, 1.0])),
        ("v", vec![3], v(&[0.5, 1.0, 2.0])),
        ("b", vec![3], v(&[0.0, 0.0, 0.5])),
        ("w", vec![3], v(&[1.0, 1.5, 0.3])),
    ]);
    check_fd(
        "MultivariateNormal(a, covariance_matrix=diag(v)) || MultivariateNormal(b, covariance_matrix=diag(w))",
        &dm,
    );
}

#[test]
fn log_prob_and_entropy_including_the_value() {
    let d = data(&[
        ("m", vec![3], v(&[0.5, -0.5, 1.0])),
        ("s", vec![3], v(&[0.5, 1.0, 2.0])),
        ("x", vec![2, 3], v(&[1.0, 0.0, -1.0, 0.3, 0.2, 4.0])),
    ]);
    check_fd("log_prob(Normal(m, s).to_event(1), x)", &d);
    check_fd("log_prob(Laplace(m, s), x)", &d);
    let e = data(&[("m", vec![3], v(&[0.5, -0.5, 1.0])), ("s", vec![3], v(&[0.5, 1.0, 2.0]))]);
    check_fd("entropy(Normal(m, s))", &e);
    check_fd("entropy(Laplace(m, s).to_event(1))", &e);
    // `loc` is not read by an entropy: its gradient is exactly 0, in its shape.
    let (_, g) = evaluate_with_grad("entropy(Normal(m, s))", &e).unwrap();
    assert_eq!(g["m"].data, vec![0.0; 3]);
}

#[test]
fn laplace_kl_agrees_with_finite_differences() {
    let d = data(&[
        ("m1", vec![4], v(&[0.5, -1.0, 2.0, 0.1])),
        ("b1", vec![4], v(&[1.5, 0.25, 0.8, 1.0])),
        ("m2", vec![4], v(&[0.0, -0.5, 2.5, 0.1])),
        ("b2", vec![4], v(&[2.0, 0.3, 0.7, 1.2])),
    ]);
    check_fd("Laplace(m1, b1) || Laplace(m2, b2)", &d);
    check_fd("Cauchy(m1, b1) || Cauchy(m2, b2)", &d);
    check_fd("LogNormal(m1, b1).to_event(1) || LogNormal(m2, b2).to_event(1)", &d);
    let x = data(&[
        ("m", vec![2], v(&[0.5, -1.0])),
        ("s", vec![2], v(&[1.5, 0.3])),
        ("x", vec![3, 2], v(&[0.5, 1.0, 2.0, 0.1, 3.0, 0.7])),
    ]);
    check_fd("log_prob(Cauchy(m, s), x)", &x);
    check_fd("log_prob(LogNormal(m, s).to_event(1), x)", &x);
    check_fd("entropy(Cauchy(m, s))", &data(&[("m", vec![2], v(&[0.5, -1.0])), ("s", vec![2], v(&[1.5, 0.3]))]));
    check_fd("entropy(LogNormal(m, s))", &data(&[("m", vec![2], v(&[0.5, -1.0])), ("s", vec![2], v(&[1.5, 0.3]))]));
    let r = data(&[("a", vec![3], v(&[0.5, 2.0, 1.2])), ("b", vec![3], v(&[1.5, 0.3, 1.2]))]);
    check_fd("Exponential(a) || Exponential(b)", &r);
    check_fd("HalfNormal(a).to_event(1) || HalfNormal(b).to_event(1)", &r);
    let rx = data(&[("a", vec![3], v(&[0.5, 2.0, 1.2])), ("x", vec![2, 3], v(&[0.5, 1.0, 2.0, 0.1, 3.0, 0.7]))]);
    check_fd("log_prob(Exponential(a), x)", &rx);
    check_fd("log_prob(HalfNormal(a).to_event(1), x)", &rx);
    check_fd("entropy(Exponential(a))", &data(&[("a", vec![3], v(&[0.5, 2.0, 1.2]))]));
    check_fd("entropy(HalfNormal(a))", &data(&[("a", vec![3], v(&[0.5, 2.0, 1.2]))]));
}

#[test]
fn the_gradient_of_p_against_itself_is_exactly_zero() {
    // Equal values under different names: the adjoints themselves give 0 (not the rewrite).
    let m = v(&[0.5, -1.0, 2.0]);
    for (src, s) in [
        ("Normal(m1, a).to_event(1) || Normal(m2, b).to_event(1)", v(&[1.5, 0.25, 0.8])),
        ("Normal(m1, var=a) || Normal(m2, var=b)", v(&[1.5, 0.25, 0.8])),
        ("Normal(m1, log_scale=a) || Normal(m2, log_scale=b)", v(&[0.5, -2.0, 0.1])),
        ("Normal(m1, precision=a) || Normal(m2, precision=b)", v(&[1.5, 0.25, 0.8])),
        ("Laplace(m1, a) || Laplace(m2, b)", v(&[1.5, 0.25, 0.8])),
        ("Cauchy(m1, a) || Cauchy(m2, b)", v(&[1.5, 0.25, 0.8])),
        ("LogNormal(m1, a) || LogNormal(m2, b)", v(&[1.5, 0.25, 0.8])),
    ] {
        let d = data(&[
            ("m1", vec![3], m.clone()),
            ("a", vec![3], s.clone()),
            ("m2", vec![3], m.clone()),
            ("b", vec![3], s.clone()),
        ]);
        let (value, g) = evaluate_with_grad(src, &d).unwrap();
        assert!(value.data.iter().all(|x| *x == 0.0), "{src}");
        for (name, t) in g {
            assert!(t.data.iter().all(|x| *x == 0.0), "{src}: d/d{name} = {:?}", t.data);
        }
    }
    // The same names: `self_kl` makes it a constant 0, with zero gradients.
    let d = data(&[("m", vec![3], m), ("s", vec![3], v(&[1.5, 0.25, 0.8]))]);
    let (_, g) = evaluate_with_grad("Normal(m, s) || Normal(m, s)", &d).unwrap();
    assert!(g.values().all(|t| t.data.iter().all(|x| *x == 0.0)));
}

/// A 3x3 lower factor (junk above the diagonal, which nothing may read).
fn tril(diag: [f64; 3], below: [f64; 3], junk: f64) -> Vec<f64> {
    v(&[diag[0], junk, junk, below[0], diag[1], junk, below[1], below[2], diag[2]])
}

#[test]
fn scale_tril_kernels_agree_with_finite_differences() {
    let l1 = tril([1.2, 0.8, 1.5], [0.3, -0.4, 0.2], 7.0);
    let l2 = tril([0.9, 1.1, 0.7], [-0.2, 0.5, 0.1], -3.0);
    let d = data(&[
        ("m1", vec![2, 3], v(&[0.5, -1.0, 0.2, 0.0, 0.3, -0.3])),
        ("L1", vec![3, 3], l1.clone()),
        ("m2", vec![3], v(&[0.1, 0.4, -0.6])),
        ("L2", vec![2, 3, 3], [l2.clone(), l1.clone()].concat()),
    ]);
    check_fd("MultivariateNormal(m1, scale_tril=L1) || MultivariateNormal(m2, scale_tril=L2)", &d);
    // The strictly upper entries are ignored: their gradient is exactly 0.
    let (_, g) =
        evaluate_with_grad("MultivariateNormal(m1, scale_tril=L1) || MultivariateNormal(m2, scale_tril=L2)", &d)
            .unwrap();
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        assert_eq!(g["L1"].data[i * 3 + j], 0.0);
    }
    // Diagonal against full, both directions.
    let s = data(&[
        ("m1", vec![3], v(&[0.5, -1.0, 0.2])),
        ("s1", vec![3], v(&[0.7, 1.3, 0.9])),
        ("m2", vec![3], v(&[0.1, 0.4, -0.6])),
        ("L2", vec![3, 3], l2.clone()),
    ]);
    check_fd("Normal(m1, s1).to_event(1) || MultivariateNormal(m2, scale_tril=L2)", &s);
    check_fd("MultivariateNormal(m2, scale_tril=L2) || Normal(m1, s1).to_event(1)", &s);
    // log_prob (also with respect to the value) and entropy.
    let x = data(&[
        ("m", vec![3], v(&[0.5, -1.0, 0.2])),
        ("L", vec![3, 3], l1.clone()),
        ("x", vec![4, 3], v(&[1.0, 0.0, -1.0, 0.3, 0.2, 2.0, -0.5, 0.5, 0.5, 0.0, 0.0, 0.0])),
    ]);
    check_fd("log_prob(MultivariateNormal(m, scale_tril=L), x)", &x);
    check_fd(
        "entropy(MultivariateNormal(m, scale_tril=L))",
        &data(&[("m", vec![3], v(&[0.5, -1.0, 0.2])), ("L", vec![3, 3], l1)]),
    );
}

#[test]
fn the_scale_tril_gradient_of_p_against_itself_is_exactly_zero() {
    let l = tril([1.2, 0.8, 1.5], [0.3, -0.4, 0.2], 0.0);
    let m = v(&[0.5, -1.0, 0.2]);
    let d =
        data(&[("m1", vec![3], m.clone()), ("L1", vec![3, 3], l.clone()), ("m2", vec![3], m), ("L2", vec![3, 3], l)]);
    let (value, g) =
        evaluate_with_grad("MultivariateNormal(m1, scale_tril=L1) || MultivariateNormal(m2, scale_tril=L2)", &d)
            .unwrap();
    assert_eq!(value.data, vec![0.0]);
    for (name, t) in g {
        assert!(t.data.iter().all(|x| *x == 0.0), "d/d{name} = {:?}", t.data);
    }
}

/// Every entry independent: a finite difference of entry (i, j) alone, the symmetric pair
/// perturbed together giving the sum of both entries' gradients.
#[test]
fn two_covariances_agree_with_finite_differences_and_are_symmetric() {
    let c1 = v(&[2.0, 0.3, -0.2, 0.3, 1.5, 0.4, -0.2, 0.4, 1.2]);
    let c2 = v(&[1.0, -0.1, 0.2, -0.1, 2.5, 0.3, 0.2, 0.3, 0.8]);
    let d = data(&[
        ("m1", vec![3], v(&[0.5, -1.0, 0.2])),
        ("C1", vec![3, 3], c1.clone()),
        ("m2", vec![3], v(&[0.1, 0.4, -0.6])),
        ("C2", vec![3, 3], c2.clone()),
    ]);
    let src = "MultivariateNormal(m1, covariance_matrix=C1) || MultivariateNormal(m2, covariance_matrix=C2)";
    let (_, g) = evaluate_with_grad(src, &d).unwrap();
    let sum = |d: &Data| evaluate(src, d).unwrap().data[0];
    for name in ["C1", "C2"] {
        let m = &g[name].data;
        for i in 0..3 {
            for j in 0..3 {
                assert!(
                    (m[i * 3 + j] - m[j * 3 + i]).abs() <= 1e-15 * m[i * 3 + j].abs().max(1.0),
                    "{name} is symmetric"
                );
                // Perturbing the symmetric pair together keeps a valid covariance.
                let h = 1e-6;
                let (mut up, mut down) = (d.clone(), d.clone());
                for (dd, s) in [(&mut up, h), (&mut down, -h)] {
                    let t = dd.get_mut(name).unwrap();
                    t.data[i * 3 + j] += s;
                    if i != j {
                        t.data[j * 3 + i] += s;
                    }
                }
                let fd = (sum(&up) - sum(&down)) / (2.0 * h);
                let want = if i == j { m[i * 3 + i] } else { m[i * 3 + j] + m[j * 3 + i] };
                assert!((want - fd).abs() <= 1e-6 * fd.abs().max(1.0), "{name}[{i},{j}]: {want} vs {fd}");
            }
        }
    }
    // Locations by finite differences too, and exact zeros at p = q.
    for name in ["m1", "m2"] {
        for i in 0..3 {
            let h = 1e-6;
            let (mut up, mut down) = (d.clone(), d.clone());
            up.get_mut(name).unwrap().data[i] += h;
            down.get_mut(name).unwrap().data[i] -= h;
            let fd = (sum(&up) - sum(&down)) / (2.0 * h);
            assert!((g[name].data[i] - fd).abs() <= 1e-6 * fd.abs().max(1.0), "{name}[{i}]");
        }
    }
    let same = data(&[
        ("m1", vec![3], v(&[0.5, -1.0, 0.2])),
        ("C1", vec![3, 3], c1.clone()),
        ("m2", vec![3], v(&[0.5, -1.0, 0.2])),
        ("C2", vec![3, 3], c1),
    ]);
    let (_, g) = evaluate_with_grad(src, &same).unwrap();
    assert!(g.values().all(|t| t.data.iter().all(|x| *x == 0.0)), "{g:?}");
}

/// The matrix KLs beyond two covariances (precisions, precision against covariance both ways,
/// low rank) against finite differences, and exactly 0 at `p = q`.
#[test]
fn precision_and_low_rank_pairs_agree_with_finite_differences_and_vanish_at_p_eq_q() {
    let pm = |a: f64| v(&[2.0 + a, 0.3, -0.2, 0.3, 1.5, 0.4 * a, -0.2, 0.4 * a, 1.2]);
    let d = data(&[
        ("m1", vec![3], v(&[0.5, -1.0, 0.2])),
        ("P1", vec![3, 3], pm(0.0)),
        ("m2", vec![3], v(&[0.1, 0.4, -0.6])),
        ("P2", vec![3, 3], pm(0.7)),
    ]);
    for src in [
        "MultivariateNormal(m1, precision_matrix=P1) || MultivariateNormal(m2, precision_matrix=P2)",
        "MultivariateNormal(m1, precision_matrix=P1) || MultivariateNormal(m2, covariance_matrix=P2)",
        "MultivariateNormal(m1, covariance_matrix=P1) || MultivariateNormal(m2, precision_matrix=P2)",
        "MultivariateNormal(m1, precision_matrix=P1) || MultivariateNormal(m2, scale_tril=P2)",
    ] {
        let (_, g) = evaluate_with_grad(src, &d).unwrap_or_else(|e| panic!("{src}: {e}"));
        let f = |dd: &Data| evaluate(src, dd).unwrap().data[0];
        for name in ["m1", "P1", "m2", "P2"] {
            let n = d[name].data.len();
            for i in 0..n {
                // A symmetric matrix moves in symmetric pairs; a scale_tril only below the diagonal.
                let (r, c) = if n == 9 { (i / 3, i % 3) } else { (0, 0) };
                if n == 9 && c > r {
                    continue;
                }
                let sym = n == 9 && r != c && !(src.contains("scale_tril") && name == "P2");
                let h = 1e-6;
                let moved = |s: f64| {
                    let mut dd = d.clone();
                    let t = dd.get_mut(name).unwrap();
                    t.data[i] += s;
                    if sym {
                        t.data[c * 3 + r] += s;
                    }
                    f(&dd)
                };
                let fd = (moved(h) - moved(-h)) / (2.0 * h);
                let want = if sym { g[name].data[i] + g[name].data[c * 3 + r] } else { g[name].data[i] };
                assert!((want - fd).abs() <= 1e-6 * fd.abs().max(1.0), "{src}: d/d{name}[{i}]: {want} vs {fd}");
            }
        }
    }
    let w = v(&[0.5, -0.2, 0.1, 0.3, -0.4, 0.2]);
    for src in [
        "MultivariateNormal(m1, precision_matrix=P1) || MultivariateNormal(m2, precision_matrix=P2)",
        "LowRankMultivariateNormal(m1, W1, D1) || LowRankMultivariateNormal(m2, W2, D2)",
    ] {
        let same = data(&[
            ("m1", vec![3], v(&[0.5, -1.0, 0.2])),
            ("m2", vec![3], v(&[0.5, -1.0, 0.2])),
            ("P1", vec![3, 3], pm(0.0)),
            ("P2", vec![3, 3], pm(0.0)),
            ("W1", vec![3, 2], w.clone()),
            ("W2", vec![3, 2], w.clone()),
            ("D1", vec![3], v(&[1.0, 0.7, 1.3])),
            ("D2", vec![3], v(&[1.0, 0.7, 1.3])),
        ]);
        let used: Data = same.into_iter().filter(|(k, _)| src.contains(k.as_str())).collect();
        let (value, g) = evaluate_with_grad(src, &used).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(value.data, vec![0.0], "{src}");
        assert!(g.values().all(|t| t.data.iter().all(|x| *x == 0.0)), "{src}: {g:?}");
    }
}

/// Four positive parameters of shape [4], for the two-parameter positive families.
fn positive_pairs() -> Data {
    data(&[
        ("a1", vec![4], v(&[0.5, 2.0, 3.0, 1.2])),
        ("b1", vec![4], v(&[1.0, 0.5, 2.0, 0.7])),
        ("a2", vec![4], v(&[1.5, 2.5, 2.5, 1.1])),
        ("b2", vec![4], v(&[2.0, 0.4, 2.2, 0.9])),
    ])
}

#[test]
fn continuous_families_agree_with_finite_differences() {
    let d = positive_pairs();
    for src in [
        "Gamma(a1, b1) || Gamma(a2, b2)",
        "Beta(a1, b1).to_event(1) || Beta(a2, b2).to_event(1)",
        "Gumbel(a1, b1) || Gumbel(a2, b2)",
        "Weibull(a1, b1) || Weibull(a2, b2)",
        "Weibull(a1, b1) || Gamma(a2, b2)",
        "VonMises(a1, b1) || VonMises(a2, b2)",
    ] {
        check_fd(src, &d);
    }
    // Pareto: finite where P's scale is at least Q's.
    let p = data(&[
        ("s1", vec![3], v(&[1.5, 2.5, 3.0])),
        ("a1", vec![3], v(&[1.0, 0.5, 2.0])),
        ("s2", vec![3], v(&[0.5, 2.0, 2.5])),
        ("a2", vec![3], v(&[2.0, 0.4, 2.2])),
    ]);
    check_fd("Pareto(s1, a1) || Pareto(s2, a2)", &p);
    let k = data(&[("a1", vec![4], v(&[0.5, 2.0, 3.0, 1.2])), ("a2", vec![4], v(&[1.5, 2.5, 2.5, 1.1]))]);
    check_fd("Chi2(a1) || Chi2(a2)", &k);
    check_fd(
        "Chi2(a1) || Gamma(a2, b2)",
        &data(&[
            ("a1", vec![4], v(&[0.5, 2.0, 3.0, 1.2])),
            ("a2", vec![4], v(&[1.5, 2.5, 2.5, 1.1])),
            ("b2", vec![4], v(&[2.0, 0.4, 2.2, 0.9])),
        ]),
    );
    check_fd(
        "Gamma(a2, b2) || Chi2(a1)",
        &data(&[
            ("a1", vec![4], v(&[0.5, 2.0, 3.0, 1.2])),
            ("a2", vec![4], v(&[1.5, 2.5, 2.5, 1.1])),
            ("b2", vec![4], v(&[2.0, 0.4, 2.2, 0.9])),
        ]),
    );
    // Uniform: finite where [l1, h1] ⊆ [l2, h2] (the differences stay inside it).
    let u = data(&[
        ("l1", vec![3], v(&[0.0, -1.0, 0.5])),
        ("h1", vec![3], v(&[1.0, 1.0, 2.0])),
        ("l2", vec![3], v(&[-0.5, -2.0, 0.25])),
        ("h2", vec![3], v(&[1.5, 1.5, 3.0])),
    ]);
    check_fd("Uniform(l1, h1) || Uniform(l2, h2)", &u);
    check_fd(
        "entropy(Uniform(l1, h1))",
        &data(&[("l1", vec![3], v(&[0.0, -1.0, 0.5])), ("h1", vec![3], v(&[1.0, 1.0, 2.0]))]),
    );
    let c = data(&[
        ("c1", vec![2, 3], v(&[0.5, 2.0, 1.0, 3.0, 0.7, 1.5])),
        ("c2", vec![2, 3], v(&[1.5, 1.0, 2.0, 2.5, 0.9, 1.4])),
    ]);
    check_fd("Dirichlet(c1) || Dirichlet(c2)", &c);
    check_fd("entropy(Dirichlet(c1))", &data(&[("c1", vec![2, 3], v(&[0.5, 2.0, 1.0, 3.0, 0.7, 1.5]))]));
}

#[test]
fn continuous_log_probs_and_entropies_agree_with_finite_differences() {
    let p = data(&[("a", vec![3], v(&[0.5, 2.0, 3.0])), ("b", vec![3], v(&[1.0, 0.5, 2.0]))]);
    let px = {
        let mut d = p.clone();
        d.insert("x".into(), Tensor { shape: vec![2, 3], data: v(&[0.3, 0.6, 0.9, 0.15, 0.45, 0.75]) });
        d
    };
    for family in ["Gamma", "Beta", "Gumbel", "Weibull", "VonMises"] {
        check_fd(&format!("log_prob({family}(a, b), x)"), &px);
        check_fd(&format!("entropy({family}(a, b))"), &p);
    }
    let ax = data(&[("a", vec![3], v(&[0.5, 2.0, 3.0])), ("x", vec![2, 3], v(&[0.3, 0.6, 0.9, 0.15, 0.45, 0.75]))]);
    check_fd("log_prob(Chi2(a), x)", &ax);
    check_fd("entropy(Chi2(a))", &data(&[("a", vec![3], v(&[0.5, 2.0, 3.0]))]));
    // Pareto: values at or above the scale.
    let pp = data(&[
        ("s", vec![3], v(&[0.5, 1.0, 0.2])),
        ("a", vec![3], v(&[1.5, 2.0, 3.0])),
        ("x", vec![3], v(&[0.7, 2.5, 0.25])),
    ]);
    check_fd("log_prob(Pareto(s, a), x)", &pp);
    check_fd(
        "entropy(Pareto(s, a))",
        &data(&[("s", vec![3], v(&[0.5, 1.0, 0.2])), ("a", vec![3], v(&[1.5, 2.0, 3.0]))]),
    );
    // StudentT with its defaults and with every parameter.
    let t = data(&[
        ("df", vec![3], v(&[1.0, 3.5, 30.0])),
        ("m", vec![3], v(&[0.5, -1.0, 0.0])),
        ("s", vec![3], v(&[1.5, 0.3, 2.0])),
        ("x", vec![3], v(&[0.2, -1.3, 4.0])),
    ]);
    check_fd("log_prob(StudentT(df, m, s), x)", &t);
    check_fd("entropy(StudentT(df, m, s))", &{
        let mut d = t.clone();
        d.remove("x");
        d
    });
    let t1 = data(&[("df", vec![3], v(&[1.0, 3.5, 30.0])), ("x", vec![3], v(&[0.2, -1.3, 4.0]))]);
    check_fd("log_prob(StudentT(df), x)", &t1);
    // Dirichlet: a value off the simplex is an error, so finite differences in `x` are not
    // available; `x`'s gradient is the textbook `(c − 1)/x` (each entry independent, the
    // convention for matrix parameters too), the concentration's is checked by differences
    // of the value as a function of `c` alone.
    let (c, x) = (v(&[0.5, 2.0, 1.0, 3.0, 0.7, 1.5]), v(&[0.2, 0.3, 0.5, 0.6, 0.1, 0.3]));
    let dx = data(&[("c", vec![2, 3], c.clone()), ("x", vec![2, 3], x.clone())]);
    let (_, g) = evaluate_with_grad("log_prob(Dirichlet(c), x)", &dx).unwrap();
    for i in 0..6 {
        let want = (c[i] - 1.0) / x[i];
        assert!((g["x"].data[i] - want).abs() <= 1e-14 * want.abs().max(1.0), "d/dx[{i}] {} vs {want}", g["x"].data[i]);
        let h = 1e-6 * c[i];
        let at = |ci: f64| {
            let mut d = dx.clone();
            d.get_mut("c").unwrap().data[i] = ci;
            sum("log_prob(Dirichlet(c), x)", &d)
        };
        let fd = (at(c[i] + h) - at(c[i] - h)) / (2.0 * h);
        assert!((g["c"].data[i] - fd).abs() <= 1e-6 * fd.abs().max(1.0), "d/dc[{i}] {} vs {fd}", g["c"].data[i]);
    }
}

#[test]
fn continuous_gradients_of_p_against_itself_are_exactly_zero() {
    let (a, b) = (v(&[0.5, 2.0, 3.0]), v(&[1.0, 0.5, 2.0]));
    for src in [
        "Gamma(a1, b1) || Gamma(a2, b2)",
        "Beta(a1, b1) || Beta(a2, b2)",
        "Gumbel(a1, b1) || Gumbel(a2, b2)",
        "Weibull(a1, b1) || Weibull(a2, b2)",
        "VonMises(a1, b1) || VonMises(a2, b2)",
    ] {
        let d = data(&[
            ("a1", vec![3], a.clone()),
            ("b1", vec![3], b.clone()),
            ("a2", vec![3], a.clone()),
            ("b2", vec![3], b.clone()),
        ]);
        let (value, g) = evaluate_with_grad(src, &d).unwrap();
        assert!(value.data.iter().all(|x| *x == 0.0), "{src}: {:?}", value.data);
        for (name, t) in g {
            assert!(t.data.iter().all(|x| *x == 0.0), "{src}: d/d{name} = {:?}", t.data);
        }
    }
    let d = data(&[("c1", vec![2, 2], v(&[0.5, 2.0, 1.0, 3.0])), ("c2", vec![2, 2], v(&[0.5, 2.0, 1.0, 3.0]))]);
    let (value, g) = evaluate_with_grad("Dirichlet(c1) || Dirichlet(c2)", &d).unwrap();
    assert!(value.data.iter().all(|x| *x == 0.0), "{:?}", value.data);
    assert!(g.values().all(|t| t.data.iter().all(|x| *x == 0.0)), "{g:?}");
}

/// The cross-family pairs (torch.distributions' table), with broadcasting (P's parameters of
/// shape [3], Q's scalars, so the adjoint sums over the broadcast) and a `Normal` in each of its
/// scale parameterizations; finite everywhere for these values.
#[test]
fn cross_family_pairs_agree_with_finite_differences() {
    type Entry = (String, Vec<usize>, Vec<f64>);
    let p = |a: &str, av: [f64; 3], b: &str, bv: [f64; 3]| -> Vec<Entry> {
        vec![(a.to_string(), vec![3], av.to_vec()), (b.to_string(), vec![3], bv.to_vec())]
    };
    let one = |a: &str, av: [f64; 3]| -> Vec<Entry> { vec![(a.to_string(), vec![3], av.to_vec())] };
    let q = |a: &str, x: f64, b: &str, y: f64| -> Vec<Entry> {
        vec![(a.to_string(), vec![], vec![x]), (b.to_string(), vec![], vec![y])]
    };
    let q1 = |a: &str, x: f64| -> Vec<Entry> { vec![(a.to_string(), vec![], vec![x])] };
    let loc_scale = p("m1", [0.3, -1.0, 2.0], "s1", [1.4, 0.5, 0.9]);
    let positive = p("a1", [1.7, 0.6, 14.0], "b1", [2.3, 0.9, 12.0]);
    let pareto = p("s1", [1.2, 0.7, 2.0], "a1", [3.5, 2.5, 6.0]);
    let uniform = p("lo", [0.2, 0.0, 1.5], "hi", [0.9, 0.4, 1.6]);
    let positive_uniform = p("lo", [0.2, 0.1, 1.5], "hi", [0.9, 0.4, 1.6]);
    let normal_q = q("m2", 0.1, "s2", 0.8);
    let cases = [
        ("Laplace(m1, s1) || Normal(m2, s2)", [loc_scale.clone(), normal_q.clone()]),
        ("Gumbel(m1, s1) || Normal(m2, s2)", [loc_scale.clone(), normal_q.clone()]),
        ("Exponential(s1) || Normal(m2, s2)", [one("s1", [1.4, 0.5, 0.9]), normal_q.clone()]),
        ("Gamma(a1, b1) || Normal(m2, s2)", [positive.clone(), normal_q.clone()]),
        ("Beta(a1, b1) || Normal(m2, s2)", [positive.clone(), normal_q.clone()]),
        ("Pareto(s1, a1) || Normal(m2, s2)", [pareto.clone(), normal_q.clone()]),
        ("Uniform(lo, hi) || Normal(m2, s2)", [uniform.clone(), normal_q.clone()]),
        ("Normal(m1, s1) || Gumbel(m2, s2)", [loc_scale.clone(), normal_q.clone()]),
        ("Normal(m1, var=s1) || Gumbel(m2, s2)", [loc_scale.clone(), normal_q.clone()]),
        ("Normal(m1, log_scale=s1) || Laplace(m2, s2)", [loc_scale.clone(), normal_q.clone()]),
        ("Normal(m1, precision=s1) || Laplace(m2, s2)", [loc_scale.clone(), normal_q.clone()]),
        ("Exponential(s1) || Gumbel(m2, s2)", [one("s1", [1.4, 0.5, 0.9]), normal_q.clone()]),
        ("Gamma(a1, b1) || Gumbel(m2, s2)", [positive.clone(), normal_q.clone()]),
        ("Uniform(lo, hi) || Gumbel(m2, s2)", [uniform.clone(), normal_q.clone()]),
        ("Beta(a1, b1) || Exponential(r)", [positive.clone(), q1("r", 0.7)]),
        ("Pareto(s1, a1) || Exponential(r)", [pareto.clone(), q1("r", 0.7)]),
        ("Uniform(lo, hi) || Exponential(r)", [positive_uniform.clone(), q1("r", 0.7)]),
        ("Beta(a1, b1) || Gamma(a2, b2)", [positive.clone(), q("a2", 1.3, "b2", 0.8)]),
        ("Pareto(s1, a1) || Gamma(a2, b2)", [pareto.clone(), q("a2", 1.3, "b2", 0.8)]),
        ("Uniform(lo, hi) || Gamma(a2, b2)", [positive_uniform.clone(), q("a2", 1.3, "b2", 0.8)]),
        ("Beta(a1, b1) || Uniform(lo, hi)", [positive.clone(), q("lo", -0.5, "hi", 1.5)]),
        ("Uniform(lo, hi) || Beta(a2, b2)", [p("lo", [0.2, 0.1, 0.5], "hi", [0.9, 0.4, 0.6]), q("a2", 1.3, "b2", 0.8)]),
        ("Uniform(lo, hi) || Pareto(s2, a2)", [positive_uniform.clone(), q("s2", 0.05, "a2", 1.3)]),
    ];
    for (src, parts) in cases {
        let entries: Vec<(&str, Vec<usize>, Vec<f64>)> =
            parts.iter().flatten().map(|(n, s, v)| (n.as_str(), s.clone(), v.clone())).collect();
        check_fd(src, &data(&entries));
    }
}

/// Bernoulli in both parameterizations (and across them), Poisson, Bernoulli ‖ Poisson; the
/// values keep every probability strictly inside (0, 1), where the gradient is finite.
#[test]
fn discrete_families_agree_with_finite_differences() {
    let p = |n: &str, v: &[f64]| (n.to_string(), vec![v.len()], v.to_vec());
    let probs = [0.2, 0.55, 0.9];
    let logits = [-1.5, 0.3, 2.5];
    let cases = [
        ("Bernoulli(probs=a) || Bernoulli(probs=b)", vec![p("a", &probs), p("b", &[0.4, 0.5, 0.7])]),
        ("Bernoulli(logits=a) || Bernoulli(logits=b)", vec![p("a", &logits), p("b", &[0.5, -0.2, 3.0])]),
        ("Bernoulli(probs=a) || Bernoulli(logits=b)", vec![p("a", &probs), p("b", &logits)]),
        ("Bernoulli(logits=a) || Bernoulli(probs=b)", vec![p("a", &logits), p("b", &probs)]),
        ("entropy(Bernoulli(probs=a))", vec![p("a", &probs)]),
        ("entropy(Bernoulli(logits=a))", vec![p("a", &logits)]),
        ("Poisson(a) || Poisson(b)", vec![p("a", &[0.5, 2.0, 7.0]), p("b", &[1.5, 2.2, 3.0])]),
        ("Bernoulli(probs=a) || Poisson(b)", vec![p("a", &probs), p("b", &[1.5, 2.2, 3.0])]),
        ("Bernoulli(logits=a) || Poisson(b)", vec![p("a", &logits), p("b", &[1.5, 2.2, 3.0])]),
        ("Geometric(probs=a) || Geometric(probs=b)", vec![p("a", &probs), p("b", &[0.4, 0.5, 0.7])]),
        ("Geometric(logits=a) || Geometric(logits=b)", vec![p("a", &logits), p("b", &[0.5, -0.2, 3.0])]),
        ("Geometric(probs=a) || Geometric(logits=b)", vec![p("a", &probs), p("b", &logits)]),
        ("Geometric(logits=a) || Geometric(probs=b)", vec![p("a", &logits), p("b", &probs)]),
        ("entropy(Geometric(probs=a))", vec![p("a", &probs)]),
        ("entropy(Geometric(logits=a))", vec![p("a", &logits)]),
        // Counts as literals: a finite difference cannot move an integer.
        ("Binomial(7, probs=a) || Binomial(7, probs=b)", vec![p("a", &probs), p("b", &[0.4, 0.5, 0.7])]),
        ("Binomial(7, logits=a) || Binomial(7, logits=b)", vec![p("a", &logits), p("b", &[0.5, -0.2, 3.0])]),
        ("Binomial(7, probs=a) || Binomial(7, logits=b)", vec![p("a", &probs), p("b", &logits)]),
        ("Binomial(7, logits=a) || Binomial(7, probs=b)", vec![p("a", &logits), p("b", &probs)]),
    ];
    for (src, entries) in cases {
        let entries: Vec<(&str, Vec<usize>, Vec<f64>)> =
            entries.iter().map(|(n, s, v)| (n.as_str(), s.clone(), v.clone())).collect();
        check_fd(src, &data(&entries));
    }
    // log_prob's parameters against the textbook derivatives (a finite difference cannot move
    // a value of {0, 1} or a count): x/p − (1 − x)/(1 − p), x − σ(l), k/r − 1.
    let x = [1.0, 0.0, 1.0];
    let d = data(&[("a", vec![3], v(&probs)), ("x", vec![3], v(&x))]);
    let (_, g) = evaluate_with_grad("log_prob(Bernoulli(probs=a).to_event(1), x)", &d).unwrap();
    for i in 0..3 {
        let want = x[i] / probs[i] - (1.0 - x[i]) / (1.0 - probs[i]);
        assert!((g["a"].data[i] - want).abs() < 1e-14, "{:?}", g["a"]);
    }
    let d = data(&[("a", vec![3], v(&logits)), ("x", vec![3], v(&x))]);
    let (_, g) = evaluate_with_grad("log_prob(Bernoulli(logits=a), x)", &d).unwrap();
    for i in 0..3 {
        let want = x[i] - 1.0 / (1.0 + (-logits[i]).exp());
        assert!((g["a"].data[i] - want).abs() < 1e-15, "{:?}", g["a"]);
    }
    let d = data(&[("r", vec![3], v(&[0.5, 2.0, 7.0])), ("k", vec![3], v(&[0.0, 3.0, 9.0]))]);
    let (_, g) = evaluate_with_grad("log_prob(Poisson(r), k)", &d).unwrap();
    for (i, (&r, &k)) in [0.5, 2.0, 7.0].iter().zip(&[0.0, 3.0, 9.0]).enumerate() {
        assert!((g["r"].data[i] - (k / r - 1.0)).abs() < 1e-15, "{:?}", g["r"]);
    }
}

/// ContinuousBernoulli in both parameterizations and across them, its log_prob (in the value
/// too) and entropy, and its cross pairs (the normal in two of its scale parameterizations);
/// the values include torch's Taylor region around probs 1/2 (logits 0) and saturated logits.
#[test]
fn continuous_bernoulli_agrees_with_finite_differences() {
    let p = |n: &str, v: &[f64]| (n.to_string(), vec![v.len()], v.to_vec());
    let s = |n: &str, x: f64| (n.to_string(), vec![], vec![x]);
    let probs = [0.2, 0.5004, 0.9];
    let logits = [-1.5, 1e-3, 25.0];
    let cases = [
        (
            "ContinuousBernoulli(probs=a) || ContinuousBernoulli(probs=b)",
            vec![p("a", &probs), p("b", &[0.4, 0.4999, 0.7])],
        ),
        (
            "ContinuousBernoulli(logits=a) || ContinuousBernoulli(logits=b)",
            vec![p("a", &logits), p("b", &[0.5, -0.2, 3.0])],
        ),
        ("ContinuousBernoulli(probs=a) || ContinuousBernoulli(logits=b)", vec![p("a", &probs), p("b", &logits)]),
        ("ContinuousBernoulli(logits=a) || ContinuousBernoulli(probs=b)", vec![p("a", &logits), p("b", &probs)]),
        ("entropy(ContinuousBernoulli(probs=a))", vec![p("a", &probs)]),
        ("entropy(ContinuousBernoulli(logits=a))", vec![p("a", &logits)]),
        ("log_prob(ContinuousBernoulli(probs=a), x)", vec![p("a", &probs), p("x", &[0.3, 0.6, 0.95])]),
        ("log_prob(ContinuousBernoulli(logits=a), x)", vec![p("a", &logits), p("x", &[0.3, 0.6, 0.95])]),
        ("Beta(a1, b1) || ContinuousBernoulli(logits=a)", vec![p("a", &logits), s("a1", 1.7), s("b1", 0.6)]),
        ("Beta(a1, b1) || ContinuousBernoulli(probs=a)", vec![p("a", &probs), s("a1", 1.7), s("b1", 0.6)]),
        ("Uniform(lo, hi) || ContinuousBernoulli(logits=a)", vec![p("a", &logits), s("lo", 0.1), s("hi", 0.8)]),
        ("Uniform(lo, hi) || ContinuousBernoulli(probs=a)", vec![p("a", &probs), s("lo", 0.1), s("hi", 0.8)]),
        ("ContinuousBernoulli(logits=a) || Exponential(r)", vec![p("a", &logits), s("r", 0.7)]),
        ("ContinuousBernoulli(probs=a) || Exponential(r)", vec![p("a", &probs), s("r", 0.7)]),
        ("ContinuousBernoulli(logits=a) || Normal(m2, s2)", vec![p("a", &logits), s("m2", 0.1), s("s2", 0.8)]),
        ("ContinuousBernoulli(probs=a) || Normal(m2, var=s2)", vec![p("a", &probs), s("m2", 0.1), s("s2", 0.8)]),
        ("ContinuousBernoulli(logits=a) || Uniform(lo, hi)", vec![p("a", &logits), s("lo", -0.5), s("hi", 1.5)]),
        ("ContinuousBernoulli(probs=a) || Uniform(lo, hi)", vec![p("a", &probs), s("lo", -0.5), s("hi", 1.5)]),
    ];
    for (src, entries) in cases {
        let entries: Vec<(&str, Vec<usize>, Vec<f64>)> =
            entries.iter().map(|(n, s, v)| (n.as_str(), s.clone(), v.clone())).collect();
        check_fd(src, &data(&entries));
    }
}

#[test]
fn continuous_bernoulli_gradients_of_p_against_itself_are_exactly_zero() {
    for (src, v) in [
        ("ContinuousBernoulli(probs=a) || ContinuousBernoulli(probs=b)", [0.2, 0.5, 0.5004, 1e-300]),
        ("ContinuousBernoulli(logits=a) || ContinuousBernoulli(logits=b)", [-700.0, 0.0, 1e-3, 3.0]),
    ] {
        let d = data(&[("a", vec![4], v.to_vec()), ("b", vec![4], v.to_vec())]);
        let (value, g) = evaluate_with_grad(src, &d).unwrap();
        assert!(value.data.iter().all(|x| *x == 0.0), "{src}: {:?}", value.data);
        for (name, t) in g {
            assert!(t.data.iter().all(|x| *x == 0.0), "{src}: d/d{name} = {:?}", t.data);
        }
    }
}

/// The gradient in `probs` (rows of `k` on the simplex) against central differences along
/// directions that keep every row's sum (`e_i − e_j`: `g_i − g_j`), plus the direction out of
/// the simplex: `Σ_j p_j ∂/∂p_j = 0`, as the KL of `p / Σp` does not change with the scale.
fn check_fd_on_simplex(src: &str, d: &Data, name: &str, k: usize) {
    let (_, grads) = evaluate_with_grad(src, d).unwrap_or_else(|e| panic!("{src}: {e}"));
    let (g, p) = (&grads[name], &d[name]);
    assert_eq!(g.shape, p.shape, "{src}");
    for row in 0..p.data.len() / k {
        let at = |j: usize| row * k + j;
        let radial: f64 = (0..k).map(|j| p.data[at(j)] * g.data[at(j)]).sum();
        let scale: f64 = (0..k).map(|j| (p.data[at(j)] * g.data[at(j)]).abs()).sum();
        assert!(radial.abs() <= 1e-14 * scale.max(1.0), "{src}: Σ p ∂/∂p = {radial} in row {row}");
        for i in 0..k {
            let j = (i + 1) % k;
            let h = 1e-7;
            let (mut up, mut down) = (d.clone(), d.clone());
            for (t, s) in [(&mut up, 1.0), (&mut down, -1.0)] {
                let x = &mut t.get_mut(name).unwrap().data;
                x[at(i)] += s * h;
                x[at(j)] -= s * h;
            }
            let fd = (sum(src, &up) - sum(src, &down)) / (2.0 * h);
            let want = g.data[at(i)] - g.data[at(j)];
            assert!((want - fd).abs() <= 1e-6 * fd.abs().max(1.0), "{src}: row {row}, e{i} − e{j}: {want} vs {fd}");
        }
    }
}

/// Categorical and OneHotCategorical: logits through the softmax (plain differences), probs
/// along the simplex, across the parameterizations, with broadcasting and `to_event`; log_prob
/// against the textbook derivatives (an index cannot be moved).
#[test]
fn categorical_agrees_with_finite_differences() {
    let l1 = vec![0.3, -1.2, 2.0, 0.7, -0.4, 1.5, 0.0, 0.2];
    let l2 = vec![1.1, 0.4, -0.5, 0.0];
    let norm = |x: &[f64]| -> Vec<f64> {
        x.chunks(4)
            .flat_map(|r| {
                let e: Vec<f64> = r.iter().map(|v| v.exp()).collect();
                let s: f64 = e.iter().sum();
                e.into_iter().map(move |v| v / s)
            })
            .collect()
    };
    let (p1, p2) = (norm(&l1), norm(&l2));
    let both = |a: &[f64], b: &[f64]| data(&[("a", vec![2, 4], a.to_vec()), ("b", vec![4], b.to_vec())]);
    for fam in ["Categorical", "OneHotCategorical"] {
        check_fd(&format!("{fam}(logits=a) || {fam}(logits=b)"), &both(&l1, &l2));
        let one = |a: &[f64]| data(&[("a", vec![2, 4], a.to_vec())]);
        check_fd(&format!("entropy({fam}(logits=a))"), &one(&l1));
        for (src, d) in [
            (format!("{fam}(probs=a) || {fam}(probs=b)"), both(&p1, &p2)),
            (format!("{fam}(probs=a).to_event(1) || {fam}(logits=b).expand([2]).to_event(1)"), both(&p1, &l2)),
        ] {
            check_fd_on_simplex(&src, &d, "a", 4);
        }
        // The logits side of the mixed pairs by plain differences, the probs side on the simplex.
        let src = format!("{fam}(logits=a) || {fam}(probs=b)");
        check_fd_on_simplex(&src, &both(&l1, &p2), "b", 4);
        let (_, g) = evaluate_with_grad(&src, &both(&l1, &p2)).unwrap();
        let fd_l = |i: usize| {
            let (mut up, mut down) = (both(&l1, &p2), both(&l1, &p2));
            up.get_mut("a").unwrap().data[i] += 1e-6;
            down.get_mut("a").unwrap().data[i] -= 1e-6;
            (sum(&src, &up) - sum(&src, &down)) / 2e-6
        };
        for i in 0..8 {
            assert!((g["a"].data[i] - fd_l(i)).abs() < 1e-7, "{src}: d/da[{i}]");
        }
        check_fd_on_simplex(&format!("entropy({fam}(probs=a))"), &one(&p1), "a", 4);
    }
    // log_prob: ∂/∂l_k = [k = x] − P(k); ∂/∂p_k = [k = x]/p_x − 1 (Σp = 1).
    let x = [2.0, 0.0];
    let d = data(&[("l", vec![2, 4], l1.clone()), ("x", vec![2], x.to_vec())]);
    let (_, g) = evaluate_with_grad("log_prob(Categorical(logits=l), x)", &d).unwrap();
    let d = data(&[("p", vec![2, 4], p1.clone()), ("x", vec![2], x.to_vec())]);
    let (_, gp) = evaluate_with_grad("log_prob(Categorical(probs=p), x)", &d).unwrap();
    for (r, &xr) in x.iter().enumerate() {
        for k in 0..4 {
            let hit = if k as f64 == xr { 1.0 } else { 0.0 };
            let i = r * 4 + k;
            assert!((g["l"].data[i] - (hit - p1[i])).abs() < 1e-15, "{:?}", g["l"]);
            assert!((gp["p"].data[i] - (hit / p1[i] - 1.0)).abs() < 1e-14, "{:?}", gp["p"]);
        }
    }
    assert_eq!(g["x"].data, vec![0.0; 2]);
}

#[test]
fn categorical_gradients_of_p_against_itself_are_exactly_zero() {
    let d = data(&[("a", vec![2, 3], vec![0.3, -1.2, 2.0, 40.0, 0.0, -700.0])]);
    let (v, g) = evaluate_with_grad("Categorical(logits=a) || Categorical(logits=a)", &d).unwrap();
    assert_eq!(v.data, vec![0.0; 2]);
    assert!(g["a"].data.iter().all(|x| *x == 0.0), "{:?}", g["a"]);
    let d = data(&[("a", vec![2, 3], vec![0.2, 0.3, 0.5, 1e-300, 0.5, 0.5])]);
    let (v, g) = evaluate_with_grad("Categorical(probs=a) || Categorical(probs=a)", &d).unwrap();
    assert_eq!(v.data, vec![0.0; 2]);
    assert!(g["a"].data.iter().all(|x| *x == 0.0), "{:?}", g["a"]);
}

/// A JSON number or nested array as a tensor (the layout of `tests/reference/cases.json`).
fn tensor_of(v: &serde_json::Value) -> Tensor<f64> {
    fn walk(v: &serde_json::Value, depth: usize, shape: &mut Vec<usize>, data: &mut Vec<f64>) {
        match v {
            serde_json::Value::Array(xs) => {
                if shape.len() == depth {
                    shape.push(xs.len());
                }
                xs.iter().for_each(|x| walk(x, depth + 1, shape, data));
            }
            x => data.push(x.as_f64().expect("a number")),
        }
    }
    let (mut shape, mut data) = (vec![], vec![]);
    walk(v, 0, &mut shape, &mut data);
    Tensor { shape, data }
}

/// Whether `t`'s trailing square blocks are all symmetric (a covariance or precision matrix:
/// its entries are then perturbed in symmetric pairs, which keeps it valid).
fn symmetric_blocks(t: &Tensor<f64>) -> Option<usize> {
    let r = t.shape.len();
    let d = *t.shape.last()?;
    if r < 2 || t.shape[r - 2] != d || d < 2 {
        return None;
    }
    let sym = t.data.chunks(d * d).all(|b| (0..d).all(|i| (0..i).all(|j| b[i * d + j] == b[j * d + i])));
    sym.then_some(d)
}

/// Every well-conditioned reference case: reverse mode against central differences of the summed value, for
/// every entry of every parameter the perturbation keeps valid (an integer count, a probability
/// at 0 or 1, a bound of a support that the value touches are skipped). Matrices that are
/// symmetric are moved in symmetric pairs, against the sum of the pair's gradient entries.
/// Normwise per parameter, to 1e-7 (the differences' own truncation and rounding).
#[test]
fn every_reference_case_agrees_with_finite_differences() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/reference/cases.json")).unwrap();
    let cases: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (mut checked, mut entries, mut failures) = (0, 0, vec![]);
    for case in cases["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        // Differences of 1e-6 resolve the well-conditioned cases only: near-equal, extreme and
        // ill-conditioned ones are for the mpmath gradient references.
        if case["class"] != "well_conditioned" || case["expected"].to_string().contains("inf") {
            continue; // (a gradient of +inf is not defined)
        }
        let src = case["expr"].as_str().unwrap();
        let d: Data = case["data"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), tensor_of(v))).collect();
        let (_, grads) = match evaluate_with_grad(src, &d) {
            Ok(x) => x,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        checked += 1;
        for (pname, g) in &grads {
            let x0 = &d[pname];
            let pair = symmetric_blocks(x0);
            let (mut worst, mut scale) = (0.0f64, 0.0f64);
            for i in 0..g.data.len() {
                let (row, col, base) = match pair {
                    Some(n) => ((i % (n * n)) / n, i % n, i - i % (n * n)),
                    None => (0, 0, i),
                };
                if pair.is_some() && col > row {
                    continue;
                }
                let x = x0.data[i];
                let h = 1e-5 * x.abs().max(0.1);
                let moved = |s: f64| {
                    let mut dd = d.clone();
                    let t = dd.get_mut(pname).unwrap();
                    t.data[i] += s;
                    if let Some(n) = pair.filter(|_| row != col) {
                        t.data[base + col * n + row] += s;
                    }
                    evaluate(src, &dd).ok().map(|t| t.data.iter().sum::<f64>())
                };
                let (Some(up), Some(down)) = (moved(h), moved(-h)) else { continue };
                let fd = (up - down) / (2.0 * h);
                let want = match pair {
                    Some(n) if row != col => g.data[i] + g.data[base + col * n + row],
                    _ => g.data[i],
                };
                if !fd.is_finite() {
                    continue;
                }
                entries += 1;
                worst = worst.max((want - fd).abs());
                scale = scale.max(fd.abs());
            }
            if worst > 1e-7 * scale.max(1e-300) {
                failures.push(format!("{name}: d/d{pname}: normwise error {:.2e}", worst / scale));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} cases:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= 300 && entries >= 3000, "{checked} cases, {entries} entries checked");
}
