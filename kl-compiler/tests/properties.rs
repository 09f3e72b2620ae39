//! Property tests (proptest) of the identities every KL implementation must satisfy, through
//! the whole pipeline (parse, check, simplify, interpret with the runtime kernels).

use kl_compiler::interp::{evaluate, Tensor};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn inputs(pairs: &[(&str, Vec<usize>, Vec<f64>)]) -> BTreeMap<String, Tensor<f64>> {
    pairs.iter().map(|(n, s, d)| (n.to_string(), Tensor::new(s.clone(), d.clone()).unwrap())).collect()
}

fn eval(src: &str, pairs: &[(&str, Vec<usize>, Vec<f64>)]) -> Vec<f64> {
    evaluate(src, &inputs(pairs)).unwrap_or_else(|e| panic!("{src}: {e}")).data
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// A diagonal matrix, row-major.
fn dense_diag(v: &[f64]) -> Vec<f64> {
    let d = v.len();
    let mut m = vec![0.0; d * d];
    for i in 0..d {
        m[i * d + i] = v[i];
    }
    m
}

/// An SPD matrix A Aᵀ + d·I from arbitrary entries.
fn spd(a: &[f64], d: usize) -> Vec<f64> {
    let mut c = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            c[i * d + j] =
                (0..d).map(|k| a[i * d + k] * a[j * d + k]).sum::<f64>() + if i == j { d as f64 } else { 0.0 };
        }
    }
    c
}

/// The inverse by Gauss-Jordan with partial pivoting: an independent route from the
/// Cholesky-based kernels.
fn inverse(m: &[f64], d: usize) -> Vec<f64> {
    let mut a = m.to_vec();
    let mut inv = dense_diag(&vec![1.0; d]);
    for col in 0..d {
        let piv = (col..d).max_by(|&x, &y| a[x * d + col].abs().total_cmp(&a[y * d + col].abs())).unwrap();
        for k in 0..d {
            a.swap(col * d + k, piv * d + k);
            inv.swap(col * d + k, piv * d + k);
        }
        let p = a[col * d + col];
        for k in 0..d {
            a[col * d + k] /= p;
            inv[col * d + k] /= p;
        }
        for r in 0..d {
            if r != col {
                let f = a[r * d + col];
                for k in 0..d {
                    a[r * d + k] -= f * a[col * d + k];
                    inv[r * d + k] -= f * inv[col * d + k];
                }
            }
        }
    }
    // Symmetrize: the input was symmetric, and the checker requires it.
    for i in 0..d {
        for j in 0..i {
            let v = 0.5 * (inv[i * d + j] + inv[j * d + i]);
            inv[i * d + j] = v;
            inv[j * d + i] = v;
        }
    }
    inv
}

fn locs(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-10.0..10.0f64, n)
}

fn scales(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(1e-3..1e3f64, n)
}

/// Gradients by name.
fn grads(src: &str, pairs: &[(&str, Vec<usize>, Vec<f64>)]) -> BTreeMap<String, Vec<f64>> {
    let (_, g) = kl_compiler::grad::evaluate_with_grad(src, &inputs(pairs)).unwrap_or_else(|e| panic!("{src}: {e}"));
    g.into_iter().map(|(k, t)| (k, t.data)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn gradients_agree_with_finite_differences(m1 in locs(3), s1 in prop::collection::vec(0.2..5.0f64, 3), m2 in locs(3), s2 in prop::collection::vec(0.2..5.0f64, 3)) {
        let data = [("m1", vec![3], m1), ("s1", vec![3], s1), ("m2", vec![3], m2), ("s2", vec![3], s2)];
        for src in ["Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)", "Laplace(m1, s1) || Laplace(m2, s2)", "Cauchy(m1, s1) || Cauchy(m2, s2)"] {
            let g = grads(src, &data);
            for (k, (name, _, x)) in data.iter().enumerate() {
                for i in 0..x.len() {
                    let h = 1e-6 * x[i].abs().max(1.0);
                    let mut up = data.clone();
                    let mut down = data.clone();
                    up[k].2[i] += h;
                    down[k].2[i] -= h;
                    let f = |d: &[(&str, Vec<usize>, Vec<f64>)]| eval(src, d).iter().sum::<f64>();
                    let fd = (f(&up) - f(&down)) / (2.0 * h);
                    // A Laplace location at the kink has a one-sided derivative only.
                    if src.starts_with("Laplace") && (data[0].2[i] - data[2].2[i]).abs() < 1e-3 {
                        continue;
                    }
                    prop_assert!((g[*name][i] - fd).abs() <= 1e-5 * fd.abs().max(1.0), "{src}: d/d{name}[{i}] = {} vs {fd}", g[*name][i]);
                }
            }
        }
    }

    #[test]
    fn to_event_gradients_are_the_elementwise_ones(m1 in locs(6), s1 in scales(6), m2 in locs(6), s2 in scales(6)) {
        let data = [("m1", vec![2, 3], m1), ("s1", vec![2, 3], s1), ("m2", vec![2, 3], m2), ("s2", vec![2, 3], s2)];
        let a = grads("Normal(m1, s1) || Normal(m2, s2)", &data);
        let b = grads("Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)", &data);
        let c = grads("Normal(m1, s1).to_event(2) || Normal(m2, s2).to_event(1).to_event(1)", &data);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, &c);
    }

    #[test]
    fn the_gradient_of_equal_values_is_exactly_zero(m in locs(3), s in scales(3)) {
        let data = [("m1", vec![3], m.clone()), ("s1", vec![3], s.clone()), ("m2", vec![3], m), ("s2", vec![3], s)];
        for src in ["Normal(m1, s1) || Normal(m2, s2)", "Normal(m1, var=s1) || Normal(m2, var=s2)", "Laplace(m1, s1) || Laplace(m2, s2)", "Cauchy(m1, s1) || Cauchy(m2, s2)", "Exponential(s1) || Exponential(s2)"] {
            let data: Vec<_> = data.iter().filter(|(n, _, _)| !src.starts_with("Exponential") || n.starts_with('s')).cloned().collect();
            for (name, g) in grads(src, &data) {
                prop_assert!(g.iter().all(|x| *x == 0.0), "{src}: d/d{name} = {g:?}");
            }
        }
    }

    #[test]
    fn kl_is_never_negative(m1 in locs(4), s1 in scales(4), m2 in locs(4), s2 in scales(4), a in locs(9), b in locs(9)) {
        let v = eval("Normal(m1, s1) || Normal(m2, s2)", &[("m1", vec![4], m1.clone()), ("s1", vec![4], s1.clone()), ("m2", vec![4], m2.clone()), ("s2", vec![4], s2)]);
        prop_assert!(v.iter().all(|x| *x >= 0.0), "{v:?}");
        let (c1, c2) = (spd(&a, 3), spd(&b, 3));
        let v = eval(
            "MultivariateNormal(m1, covariance_matrix=C1) || MultivariateNormal(m2, covariance_matrix=C2)",
            &[("m1", vec![3], m1[..3].to_vec()), ("C1", vec![3, 3], c1), ("m2", vec![3], m2[..3].to_vec()), ("C2", vec![3, 3], c2)],
        );
        prop_assert!(v[0] >= 0.0, "{v:?}");
        let v = eval(
            "Normal(m1, s1).to_event(1) || MultivariateNormal(m2, scale_tril=L)",
            &[("m1", vec![3], m1[..3].to_vec()), ("s1", vec![3], s1[..3].to_vec()), ("m2", vec![3], m2[..3].to_vec()), ("L", vec![3, 3], lower(&b, 3))],
        );
        prop_assert!(v[0] >= 0.0, "{v:?}");
    }

    #[test]
    fn kl_of_equal_values_is_exactly_zero(m in locs(3), s in scales(3), a in locs(9)) {
        // Different names with equal values: the kernels themselves must give 0, not the
        // `self_kl` rewrite (which only sees equal names).
        let v = eval("Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)", &[("m1", vec![3], m.clone()), ("s1", vec![3], s.clone()), ("m2", vec![3], m.clone()), ("s2", vec![3], s.clone())]);
        prop_assert_eq!(v[0], 0.0);
        for kw in ["covariance_matrix", "precision_matrix"] {
            let src = format!("MultivariateNormal(m1, {kw}=A) || MultivariateNormal(m2, {kw}=B)");
            let c = spd(&a, 3);
            let v = eval(&src, &[("m1", vec![3], m.clone()), ("A", vec![3, 3], c.clone()), ("m2", vec![3], m.clone()), ("B", vec![3, 3], c)]);
            prop_assert_eq!(v[0], 0.0, "{}", kw);
        }
        let l = lower(&a, 3);
        let v = eval("MultivariateNormal(m1, scale_tril=A) || MultivariateNormal(m2, scale_tril=B)", &[("m1", vec![3], m.clone()), ("A", vec![3, 3], l.clone()), ("m2", vec![3], m.clone()), ("B", vec![3, 3], l)]);
        prop_assert_eq!(v[0], 0.0);
    }

    #[test]
    fn to_event_equals_a_diagonal_mvn_in_every_parameterization(m1 in locs(4), s1 in scales(4), m2 in locs(4), s2 in scales(4)) {
        let base = &[("m1", vec![4], m1.clone()), ("s1", vec![4], s1.clone()), ("m2", vec![4], m2.clone()), ("s2", vec![4], s2.clone())];
        let want = eval("Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)", base)[0];
        let sq = |v: &[f64]| v.iter().map(|x| x * x).collect::<Vec<_>>();
        let inv_sq = |v: &[f64]| v.iter().map(|x| 1.0 / (x * x)).collect::<Vec<_>>();
        let cases = [
            ("covariance_matrix", dense_diag(&sq(&s1)), dense_diag(&sq(&s2))),
            ("scale_tril", dense_diag(&s1), dense_diag(&s2)),
            ("precision_matrix", dense_diag(&inv_sq(&s1)), dense_diag(&inv_sq(&s2))),
        ];
        for (kw, a, b) in cases {
            let src = format!("MultivariateNormal(m1, {kw}=A) || MultivariateNormal(m2, {kw}=B)");
            let got = eval(&src, &[("m1", vec![4], m1.clone()), ("A", vec![4, 4], a), ("m2", vec![4], m2.clone()), ("B", vec![4, 4], b)])[0];
            prop_assert!(close(got, want, 1e-10), "{kw}: {got} vs {want}");
        }
        // And the mixed pair: a diagonal Normal against a dense diagonal MVN.
        let got = eval("Normal(m1, s1).to_event(1) || MultivariateNormal(m2, covariance_matrix=B)", &[("m1", vec![4], m1.clone()), ("s1", vec![4], s1.clone()), ("m2", vec![4], m2.clone()), ("B", vec![4, 4], dense_diag(&sq(&s2)))])[0];
        prop_assert!(close(got, want, 1e-10), "mixed: {got} vs {want}");
    }

    #[test]
    fn precision_matrix_agrees_with_the_inverse_covariance(m1 in locs(3), m2 in locs(3), a in locs(9), b in locs(9)) {
        let (c1, c2) = (spd(&a, 3), spd(&b, 3));
        let want = eval(
            "MultivariateNormal(m1, covariance_matrix=C1) || MultivariateNormal(m2, covariance_matrix=C2)",
            &[("m1", vec![3], m1.clone()), ("C1", vec![3, 3], c1.clone()), ("m2", vec![3], m2.clone()), ("C2", vec![3, 3], c2.clone())],
        )[0];
        let got = eval(
            "MultivariateNormal(m1, precision_matrix=P1) || MultivariateNormal(m2, precision_matrix=P2)",
            &[("m1", vec![3], m1), ("P1", vec![3, 3], inverse(&c1, 3)), ("m2", vec![3], m2), ("P2", vec![3, 3], inverse(&c2, 3))],
        )[0];
        // A x A^T + 3 I with |x| < 10 has condition number below ~1e3: allow for the inverse's rounding.
        prop_assert!(close(got, want, 1e-9) || (got - want).abs() < 1e-12, "{got} vs {want}");
    }

    #[test]
    fn to_event_is_the_sum_of_elementwise_kls(m1 in locs(6), s1 in scales(6), m2 in locs(6), s2 in scales(6)) {
        let data = &[("m1", vec![2, 3], m1), ("s1", vec![2, 3], s1), ("m2", vec![2, 3], m2), ("s2", vec![2, 3], s2)];
        let elementwise = eval("Normal(m1, s1) || Normal(m2, s2)", data);
        let summed = eval("Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)", data);
        let both = eval("Normal(m1, s1).to_event(2) || Normal(m2, s2).to_event(1).to_event(1)", data);
        for b in 0..2 {
            let want: f64 = elementwise[b * 3..b * 3 + 3].iter().sum();
            prop_assert!(close(summed[b], want, 1e-14), "{} vs {want}", summed[b]);
        }
        prop_assert!(close(both[0], elementwise.iter().sum(), 1e-14));
    }

    #[test]
    fn laplace_kl_is_non_negative_zero_at_equality_and_sums_under_to_event(m1 in locs(6), b1 in scales(6), m2 in locs(6), b2 in scales(6)) {
        let data = &[("m1", vec![2, 3], m1.clone()), ("b1", vec![2, 3], b1.clone()), ("m2", vec![2, 3], m2), ("b2", vec![2, 3], b2)];
        let elementwise = eval("Laplace(m1, b1) || Laplace(m2, b2)", data);
        prop_assert!(elementwise.iter().all(|x| *x >= 0.0), "{elementwise:?}");
        let summed = eval("Laplace(m1, b1).to_event(1) || Laplace(m2, b2).to_event(1)", data);
        for b in 0..2 {
            let want: f64 = elementwise[b * 3..b * 3 + 3].iter().sum();
            prop_assert!(close(summed[b], want, 1e-14), "{} vs {want}", summed[b]);
        }
        // Equal values under different names: the kernel itself gives exactly 0.
        let same = &[("m1", vec![6], m1.clone()), ("b1", vec![6], b1.clone()), ("m2", vec![6], m1), ("b2", vec![6], b1)];
        prop_assert!(eval("Laplace(m1, b1) || Laplace(m2, b2)", same).iter().all(|x| *x == 0.0));
    }
}

/// A lower-triangular factor with a positive diagonal from arbitrary entries.
fn lower(a: &[f64], d: usize) -> Vec<f64> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            l[i * d + j] = if i == j { 0.5 + a[i * d + j].abs() } else { a[i * d + j] * 0.3 };
        }
    }
    l
}

/// A sum over a dim of size 0 (found by the `emit` fuzzer: the interpreter's `sum_last` returned
/// no elements, and the next kernel read past the end): one empty sum, 0, per result element.
#[test]
fn sums_over_empty_dims_are_zero_per_result_element() {
    let v = eval(
        "Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [3, 0]",
        &[
            ("m1", vec![3, 0], vec![]),
            ("s1", vec![3, 0], vec![]),
            ("m2", vec![3, 0], vec![]),
            ("s2", vec![3, 0], vec![]),
        ],
    );
    assert_eq!(v, vec![0.0; 3]);
    // Dirichlet over no categories (the fuzzer's input): an error, or one value per batch
    // element, never a panic.
    let a = inputs(&[("a", vec![2, 0], vec![]), ("b", vec![2, 0], vec![])]);
    if let Ok(t) = evaluate("Dirichlet(a) || Dirichlet(b) where a, b: [2, 0]", &a) {
        assert_eq!((t.shape, t.data.len()), (vec![2], 2));
    }
    if let Ok(t) = evaluate("entropy(Dirichlet(a)) where a: [2, 0]", &inputs(&[("a", vec![2, 0], vec![])])) {
        assert_eq!((t.shape, t.data.len()), (vec![2], 2));
    }
}

/// A size that only an unused declaration binds (found by the `emit` fuzzer: `where l: [B, 2]`
/// with `l` unused and `.expand([B, 2])` left a shape unresolved, and the interpreter's broadcast
/// strides underflowed): an error naming the size and the declaration, not a panic.
#[test]
fn a_size_bound_only_by_an_unused_declaration_is_an_error() {
    let src = "Bernoulli(probs=p).expand([B, 2]) || Bernoulli(logits=lx) where p: [2], l: [B, 2], lx: [1, 2]";
    let data = inputs(&[("p", vec![2], vec![0.3, 0.6]), ("lx", vec![1, 2], vec![0.1, 0.2])]);
    let err = evaluate(src, &data).expect_err("B is not bound by any data");
    assert_eq!(
        err.to_string(),
        "the size `B` is not known: no parameter of the expression has it in its shape (it appears in the \
         shape declared for `l`, which the expression does not use)"
    );
    // Bound by a parameter that is used, the same expansion evaluates: B = 3 rows of the
    // Bernoulli KLs of (0.3, 0.6) against logits (0.1, 0.2), from the textbook formula.
    let src = "Bernoulli(probs=p).expand([B, 2]) || Bernoulli(logits=lx) where p: [2], lx: [B, 2]";
    let data = inputs(&[("p", vec![2], vec![0.3, 0.6]), ("lx", vec![3, 2], vec![0.1, 0.2, 0.1, 0.2, 0.1, 0.2])]);
    let t = evaluate(src, &data).expect("B = 3");
    let kl = |p: f64, l: f64| {
        let q = 1.0 / (1.0 + (-l).exp());
        p * (p / q).ln() + (1.0 - p) * ((1.0 - p) / (1.0 - q)).ln()
    };
    assert_eq!(t.shape, vec![3, 2]);
    for (i, v) in t.data.iter().enumerate() {
        let want = if i % 2 == 0 { kl(0.3, 0.1) } else { kl(0.6, 0.2) };
        assert!((v - want).abs() <= 1e-15, "{i}: {v} vs {want}");
    }
}
