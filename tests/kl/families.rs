//! Families beyond the Gaussian through every Rust route (`kl!` from types, `kl!` with `where`,
//! `kl_fn!` and its `_into` forms), against the textbook formulas written out here. (`klc eval`
//! and the interpreter meet the mpmath references in `tests/reference/cases.json`.)

use kl::{kl, kl_fn, Rule};

/// KL(Laplace(m1, b1) ‖ Laplace(m2, b2)), textbook form.
fn laplace_kl(m1: f64, b1: f64, m2: f64, b2: f64) -> f64 {
    let d = (m1 - m2).abs();
    (b2 / b1).ln() + d / b2 + (b1 / b2) * (-d / b1).exp() - 1.0
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-300)
}

kl_fn! {
    fn laplace_rows(m1: [B, 3], b1: [B, 3], m2: [B, 3], b2: [B, 3]) -> f64 {
        Laplace(m1, b1).to_event(1) || Laplace(m2, b2).to_event(1)
    }
}

kl_fn! {
    fn laplace_rows32(m1: [B, 3], b1: [B, 3], m2: [B, 3], b2: [B, 3]) -> f32 {
        Laplace(m1, b1).to_event(1) || Laplace(m2, b2).to_event(1)
    }
}

const M1: [[f64; 3]; 2] = [[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]];
const B1: [[f64; 3]; 2] = [[1.0, 0.5, 2.0], [1.5, 0.25, 0.75]];
const M2: [[f64; 3]; 2] = [[0.0, -1.0, 1.0], [0.5, 0.25, 1.25]];
const B2: [[f64; 3]; 2] = [[2.0, 0.5, 1.0], [1.5, 1.0, 0.5]];

fn want() -> Vec<f64> {
    (0..2).map(|b| (0..3).map(|j| laplace_kl(M1[b][j], B1[b][j], M2[b][j], B2[b][j])).sum()).collect()
}

#[test]
fn laplace_kl_on_every_route() {
    let want = want();
    let typed = kl!(Laplace(M1, B1).to_event(1) || Laplace(M2, B2).to_event(1)).unwrap();
    let flat = |a: &[[f64; 3]; 2]| a.as_flattened().to_vec();
    let (m1, b1, m2, b2) = (flat(&M1), flat(&B1), flat(&M2), flat(&B2));
    let declared =
        kl!(Laplace(m1, b1).to_event(1) || Laplace(m2, b2).to_event(1) where m1, b1, m2, b2: [2, 3]).unwrap();
    let item = laplace_rows(&M1, &B1, &M2, &B2).unwrap();
    let (mut into, mut unchecked) = ([f64::NAN; 2], [f64::NAN; 2]);
    laplace_rows_into(&m1, &b1, &m2, &b2, 2, &mut into).unwrap();
    laplace_rows_into_unchecked(&m1, &b1, &m2, &b2, 2, &mut unchecked).unwrap();
    for b in 0..2 {
        for (route, got) in [
            ("kl!", typed[b]),
            ("kl! where", declared[b]),
            ("kl_fn!", item[b]),
            ("_into", into[b]),
            ("_unchecked", unchecked[b]),
        ] {
            assert!(close(got, want[b], 1e-14), "{route}[{b}]: {got} vs {}", want[b]);
        }
    }
    // f32: within 1e-5 of the exact value for the same (exactly representable) inputs.
    let narrow = |a: &[[f64; 3]; 2]| a.map(|r| r.map(|x| x as f32));
    let single = laplace_rows32(&narrow(&M1), &narrow(&B1), &narrow(&M2), &narrow(&B2)).unwrap();
    for b in 0..2 {
        assert!(close(single[b] as f64, want[b], 1e-5), "f32[{b}]: {} vs {}", single[b], want[b]);
    }
}

#[test]
fn laplace_log_prob_and_entropy_from_types() {
    let (m, b, x) = ([0.5_f64, -1.0], [1.5_f64, 0.25], [1.0_f64, 0.0]);
    let lp = kl!(log_prob(Laplace(m, b), x)).unwrap();
    let h = kl!(entropy(Laplace(m, b).to_event(1))).unwrap();
    for i in 0..2 {
        let want = -(2.0 * b[i]).ln() - (x[i] - m[i]).abs() / b[i];
        assert!(close(lp[i], want, 1e-15), "{} vs {want}", lp[i]);
    }
    let want: f64 = b.iter().map(|s| 1.0 + (2.0 * s).ln()).sum();
    assert!(close(h.scalar().unwrap(), want, 1e-15));
}

#[test]
fn a_non_positive_laplace_scale_is_a_data_error_naming_it() {
    let bad = [[1.0, 0.5, 2.0], [1.5, -0.25, 0.75]];
    let e = laplace_rows(&M1, &bad, &M2, &B2).unwrap_err();
    assert_eq!(e.param, "b1");
    assert_eq!(e.index, vec![1, 1]);
    assert!(matches!(e.rule, Rule::NonPositive { value } if value == -0.25), "{e}");
}

/// `klc explain`'s formula of `src` after simplification.
fn formula(src: &str) -> String {
    let c = kl::compiler::compile(src, &Default::default()).unwrap_or_else(|e| panic!("{}", e.render_plain(src)));
    kl::compiler::explain::formula(&c.simplified)
}

#[test]
fn laplace_formulas_come_from_the_kernel_descriptors() {
    assert_eq!(
        formula("Laplace(m1, b1).to_event(1) || Laplace(m2, b2).to_event(1) where m1, b1, m2, b2: [B, 4]"),
        "KL[b] = Σ_{i<4} ( ln(b2/b1) + |m1−m2|/b2 + (b1/b2)·exp(−|m1−m2|/b1) − 1 )"
    );
    assert_eq!(formula("log_prob(Laplace(m, b), x) where m, b, x: [N]"), "log_prob[n] = −ln(2b) − |x−m|/b");
    assert_eq!(formula("entropy(Laplace(m, b)) where m, b: [3]"), "H[n] = 1 + ln(2b)");
}

#[test]
fn cauchy_and_lognormal_from_types() {
    let (m1, s1, m2, s2) = ([0.5_f64, -1.0], [1.5_f64, 0.25], [0.0_f64, 0.3], [2.0_f64, 0.5]);
    let c = kl!(Cauchy(m1, s1) || Cauchy(m2, s2)).unwrap();
    let l = kl!(LogNormal(m1, s1).to_event(1) || LogNormal(m2, s2).to_event(1)).unwrap();
    let mut lognormal = 0.0;
    for i in 0..2 {
        let dm = m1[i] - m2[i];
        let want = (((s1[i] + s2[i]).powi(2) + dm * dm) / (4.0 * s1[i] * s2[i])).ln();
        assert!(close(c[i], want, 1e-14), "{} vs {want}", c[i]);
        lognormal += (s2[i] / s1[i]).ln() + (s1[i] * s1[i] + dm * dm) / (2.0 * s2[i] * s2[i]) - 0.5;
    }
    assert!(close(l.scalar().unwrap(), lognormal, 1e-14));
    // A value outside LogNormal's support is a data error naming it.
    let x = [1.0_f64, -0.5];
    let err = kl!(log_prob(LogNormal(m1, s1), x)).unwrap_err();
    assert_eq!((err.param.as_str(), err.index.clone()), ("x", vec![1]), "{err}");
}

#[test]
fn exponential_and_half_normal_from_types() {
    let (r1, r2) = ([2.0_f64, 0.5, 1.5], [1.0_f64, 0.75, 1.5]);
    let e = kl!(Exponential(r1) || Exponential(r2)).unwrap();
    let h = kl!(HalfNormal(r1).to_event(1) || HalfNormal(r2).to_event(1)).unwrap();
    let mut half = 0.0;
    for i in 0..3 {
        let want = (r1[i] / r2[i]).ln() + r2[i] / r1[i] - 1.0;
        assert!(close(e[i], want, 1e-14) || (want == 0.0 && e[i] == 0.0), "{} vs {want}", e[i]);
        half += (r2[i] / r1[i]).ln() + r1[i] * r1[i] / (2.0 * r2[i] * r2[i]) - 0.5;
    }
    assert!(close(h.scalar().unwrap(), half, 1e-14));
    // `[0, ∞)`: zero is in the support, a negative value is a data error naming it.
    let x = [0.0_f64, 1.0, 2.0];
    assert!(kl!(log_prob(Exponential(r1), x)).is_ok());
    let x = [0.0_f64, -1e-300, 2.0];
    let err = kl!(log_prob(Exponential(r1), x)).unwrap_err();
    assert_eq!((err.param.as_str(), err.index.clone()), ("x", vec![1]), "{err}");
    assert!(matches!(err.rule, Rule::Negative { .. }), "{err}");
}

kl_fn! {
    fn uniform_rows(l1: [B, 2], h1: [B, 2], l2: [B, 2], h2: [B, 2]) -> f64 {
        Uniform(l1, h1).to_event(1) || Uniform(l2, h2).to_event(1)
    }
}

kl_fn! {
    fn uniform_log_prob(x: [N], low: [N], high: [N]) -> f64 {
        log_prob(Uniform(low, high), x)
    }
}

#[test]
fn uniform_kl_is_finite_where_the_intervals_nest_and_inf_elsewhere() {
    // Row 0 nests in both dims; row 1's second dim does not ([0, 2] ⊄ [0.5, 3]).
    let l1 = [[0.0, -1.0], [0.0, 0.0]];
    let h1 = [[1.0, 1.0], [1.0, 2.0]];
    let l2 = [[-1.0, -2.0], [0.0, 0.5]];
    let h2 = [[3.0, 1.0], [1.0, 3.0]];
    // ln(w2 / w1) per dim, summed.
    let want0 = (4.0_f64 / 1.0).ln() + (3.0_f64 / 2.0).ln();
    let typed = kl!(Uniform(l1, h1).to_event(1) || Uniform(l2, h2).to_event(1)).unwrap();
    let item = uniform_rows(&l1, &h1, &l2, &h2).unwrap();
    let flat = |a: &[[f64; 2]; 2]| a.as_flattened().to_vec();
    let (mut into, mut unchecked) = ([f64::NAN; 2], [f64::NAN; 2]);
    uniform_rows_into(&flat(&l1), &flat(&h1), &flat(&l2), &flat(&h2), 2, &mut into).unwrap();
    uniform_rows_into_unchecked(&flat(&l1), &flat(&h1), &flat(&l2), &flat(&h2), 2, &mut unchecked).unwrap();
    for (route, got) in [
        ("kl!", typed.to_vec()),
        ("kl_fn!", item.to_vec()),
        ("_into", into.to_vec()),
        ("_unchecked", unchecked.to_vec()),
    ] {
        assert!(close(got[0], want0, 1e-15), "{route}: {} vs {want0}", got[0]);
        assert_eq!(got[1], f64::INFINITY, "{route}");
    }
    // P || P is 0 and still checks `high > low` (the kernel stays).
    assert_eq!(kl!(Uniform(l1, h1) || Uniform(l1, h1)).unwrap().to_vec(), vec![0.0; 4]);
    let err = kl!(Uniform(l1, l1) || Uniform(l1, l1)).unwrap_err();
    assert_eq!((err.param.as_str(), err.index.clone()), ("l1", vec![0, 0]), "{err}");
}

#[test]
fn uniform_high_not_above_low_is_a_data_error_on_every_route() {
    let l1 = [[0.0, -1.0], [0.0, 0.0]];
    let h1 = [[1.0, 1.0], [1.0, 2.0]];
    let bad = [[3.0, 1.0], [1.0, -0.5]]; // h2[1][1] < l2[1][1] = 0.5
    let l2 = [[-1.0, -2.0], [0.0, 0.5]];
    let want = "parameter `h2` at batch index [1, 1] must be > `l2` (= 0.5), found -0.5";
    let e = uniform_rows(&l1, &h1, &l2, &bad).unwrap_err();
    assert_eq!(e.to_string(), want);
    assert!(
        matches!(&e.rule, Rule::NotAbove { other, bound, value } if other == "l2" && *bound == 0.5 && *value == -0.5)
    );
    let flat = |a: &[[f64; 2]; 2]| a.as_flattened().to_vec();
    let mut out = [0.0; 2];
    let e = uniform_rows_into(&flat(&l1), &flat(&h1), &flat(&l2), &flat(&bad), 2, &mut out).unwrap_err();
    assert_eq!(e.to_string(), want);
    let e = kl!(Uniform(l1, h1).to_event(1) || Uniform(l2, bad).to_event(1)).unwrap_err();
    assert_eq!(e.to_string(), "parameter `bad` at batch index [1, 1] must be > `l2` (= 0.5), found -0.5");
}

#[test]
fn uniform_log_prob_outside_the_support_is_a_data_error_naming_the_index() {
    let (low, high) = ([0.0_f64, -1.0, 2.0], [1.0_f64, 1.0, 4.0]);
    // torch's convention: −ln(high − low) on [low, high), −∞ at `high`.
    let x = [0.0_f64, 0.5, 4.0];
    let got = uniform_log_prob(&x, &low, &high).unwrap();
    assert_eq!(got.to_vec(), vec![0.0, -(2.0_f64.ln()), f64::NEG_INFINITY]);
    let x = [0.5_f64, 1.5, 3.0];
    let e = uniform_log_prob(&x, &low, &high).unwrap_err();
    assert_eq!(e.to_string(), "parameter `x` at batch index [1] must lie in the support [-1, 1], found 1.5");
    let e = kl!(log_prob(Uniform(low, high), x)).unwrap_err();
    assert_eq!(e.to_string(), "parameter `x` at batch index [1] must lie in the support [-1, 1], found 1.5");
}

#[test]
fn pareto_from_types() {
    let (s1, a1) = ([2.0_f64, 1.0, 1.5], [2.0_f64, 0.5, 3.0]);
    let (s2, a2) = ([1.0_f64, 1.0, 2.0], [3.0_f64, 0.5, 3.0]);
    let kl = kl!(Pareto(s1, a1) || Pareto(s2, a2)).unwrap();
    // Textbook: a2 ln(s1/s2) + a2/a1 − 1 − ln(a2/a1) when s1 >= s2, else +∞.
    let want0 = 3.0 * 2.0_f64.ln() + 1.5 - 1.0 - 1.5_f64.ln();
    assert!(close(kl[0], want0, 1e-15), "{} vs {want0}", kl[0]);
    assert_eq!(kl[1], 0.0);
    assert_eq!(kl[2], f64::INFINITY);
    let h = kl!(entropy(Pareto(s1, a1))).unwrap();
    for i in 0..3 {
        let want = (s1[i] / a1[i]).ln() + 1.0 / a1[i] + 1.0;
        assert!(close(h[i], want, 1e-15), "{} vs {want}", h[i]);
    }
    let x = [2.0_f64, 5.0, 1.0];
    let e = kl!(log_prob(Pareto(s1, a1), x)).unwrap_err();
    assert_eq!(e.to_string(), "parameter `x` at batch index [2] must lie in the support [1.5, ∞), found 1");
    let x = [2.0_f64, 5.0, 1.5];
    let lp = kl!(log_prob(Pareto(s1, a1), x)).unwrap();
    for i in 0..3 {
        let want = a1[i].ln() + a1[i] * s1[i].ln() - (a1[i] + 1.0) * x[i].ln();
        assert!(close(lp[i], want, 1e-15), "{} vs {want}", lp[i]);
    }
}

/// The Euler–Mascheroni constant: ψ(1) = −γ, ψ(n) = 1 + 1/2 + .. + 1/(n − 1) − γ.
const EULER: f64 = 0.577_215_664_901_532_9;

kl_fn! {
    fn gamma_rows(a1: [B], b1: [B], a2: [B], b2: [B]) -> f64 {
        Gamma(a1, b1) || Gamma(a2, b2)
    }
}

kl_fn! {
    fn gamma_rows32(a1: [B], b1: [B], a2: [B], b2: [B]) -> f32 {
        Gamma(a1, b1) || Gamma(a2, b2)
    }
}

#[test]
fn gamma_kl_at_integer_shapes_on_every_route() {
    // Integer shapes: lnΓ(2) = 0, lnΓ(3) = ln 2, ψ(2) = 1 − γ, ψ(3) = 3/2 − γ, and Gamma(1, b) is
    // Exponential(b).
    let (a1, b1, a2, b2) = ([2.0_f64, 3.0, 1.0], [1.0_f64, 0.5, 2.0], [3.0_f64, 2.0, 1.0], [2.0_f64, 1.5, 0.5]);
    let textbook = |a1: f64, psi1: f64, lg1: f64, b1: f64, a2: f64, lg2: f64, b2: f64| {
        (a1 - a2) * psi1 - lg1 + lg2 + a2 * (b1 / b2).ln() + a1 * (b2 - b1) / b1
    };
    let want = [
        textbook(2.0, 1.0 - EULER, 0.0, 1.0, 3.0, 2.0_f64.ln(), 2.0),
        textbook(3.0, 1.5 - EULER, 2.0_f64.ln(), 0.5, 2.0, 0.0, 1.5),
        (2.0_f64 / 0.5).ln() + 0.5 / 2.0 - 1.0,
    ];
    let typed = kl!(Gamma(a1, b1) || Gamma(a2, b2)).unwrap();
    let item = gamma_rows(&a1, &b1, &a2, &b2).unwrap();
    let (mut into, mut unchecked) = ([f64::NAN; 3], [f64::NAN; 3]);
    gamma_rows_into(&a1, &b1, &a2, &b2, 3, &mut into).unwrap();
    gamma_rows_into_unchecked(&a1, &b1, &a2, &b2, 3, &mut unchecked).unwrap();
    let n = |a: [f64; 3]| a.map(|x| x as f32);
    let single = gamma_rows32(&n(a1), &n(b1), &n(a2), &n(b2)).unwrap();
    for i in 0..3 {
        for (route, got) in [("kl!", typed[i]), ("kl_fn!", item[i]), ("_into", into[i]), ("_unchecked", unchecked[i])] {
            assert!(close(got, want[i], 1e-14), "{route}[{i}]: {got} vs {}", want[i]);
        }
        assert!(close(single[i] as f64, want[i], 1e-5), "f32[{i}]: {} vs {}", single[i], want[i]);
    }
    // Validation names the parameter and the rule.
    let e = gamma_rows(&a1, &[1.0, -0.5, 2.0], &a2, &b2).unwrap_err();
    assert_eq!(e.to_string(), "parameter `b1` at batch index [1] must be > 0, found -0.5");
}

#[test]
fn special_cases_of_the_new_families_from_types() {
    // Chi2(2) = Exponential(1/2); Weibull(λ, 1) = Exponential(1/λ); Beta(1, 1) = Uniform(0, 1).
    let (k1, k2) = ([2.0_f64], [2.0_f64]);
    assert_eq!(kl!(Chi2(k1) || Chi2(k2)).unwrap()[0], 0.0);
    let (l1, l2, one) = ([2.0_f64, 0.5], [0.5_f64, 3.0], [1.0_f64, 1.0]);
    let w = kl!(Weibull(l1, one) || Weibull(l2, one)).unwrap();
    for i in 0..2 {
        let (r1, r2) = (1.0 / l1[i], 1.0 / l2[i]);
        let want = (r1 / r2).ln() + r2 / r1 - 1.0;
        assert!(close(w[i], want, 1e-14), "{} vs {want}", w[i]);
    }
    let x = [0.25_f64, 0.75];
    let lp = kl!(log_prob(Beta(one, one), x)).unwrap();
    assert!(lp.iter().all(|v| v.abs() < 1e-15), "{lp:?}");
    // KL(Beta(1, 1) ‖ Beta(2, 1)) = ln B(2, 1) − E[ln x] = −ln 2 + 1.
    let two = [2.0_f64, 2.0];
    let b = kl!(Beta(one, one) || Beta(two, one)).unwrap();
    assert!(close(b[0], 1.0 - 2.0_f64.ln(), 1e-14), "{}", b[0]);
    // Gumbel with equal scales: δ + e^(−δ) − 1, δ = (m1 − m2)/β.
    let (m1, m2, s) = ([1.0_f64, -0.5], [0.0_f64, 0.5], [2.0_f64, 0.5]);
    let g = kl!(Gumbel(m1, s) || Gumbel(m2, s)).unwrap();
    for i in 0..2 {
        let d = (m1[i] - m2[i]) / s[i];
        assert!(close(g[i], d + (-d).exp() - 1.0, 1e-14), "{} vs {}", g[i], d + (-d).exp() - 1.0);
    }
    // StudentT(1) is a Cauchy: −ln(π σ (1 + z²)); its defaults are loc 0, scale 1.
    let (df, x) = ([1.0_f64, 1.0], [0.5_f64, -2.0]);
    let t = kl!(log_prob(StudentT(df), x)).unwrap();
    let t2 = kl!(log_prob(StudentT(df, loc = 0.0, scale = 1.0), x)).unwrap();
    for i in 0..2 {
        let want = -(core::f64::consts::PI * (1.0 + x[i] * x[i])).ln();
        assert!(close(t[i], want, 1e-14) && t[i] == t2[i], "{} vs {want}", t[i]);
    }
    // Dirichlet over K = 2 is a Beta over the first coordinate.
    let (c1, c2) = ([[0.5_f64, 2.0], [3.0, 1.5]], [[1.5_f64, 1.0], [2.5, 2.5]]);
    let d = kl!(Dirichlet(c1) || Dirichlet(c2)).unwrap();
    let (a1, b1, a2, b2) = ([0.5_f64, 3.0], [2.0_f64, 1.5], [1.5_f64, 2.5], [1.0_f64, 2.5]);
    let beta = kl!(Beta(a1, b1) || Beta(a2, b2)).unwrap();
    for i in 0..2 {
        assert!(close(d[i], beta[i], 1e-14), "{} vs {}", d[i], beta[i]);
    }
}

#[test]
fn new_families_report_values_outside_their_support() {
    let (a, b) = ([2.0_f64, 0.5], [1.5_f64, 3.0]);
    let x = [0.5_f64, 1.5];
    let e = kl!(log_prob(Beta(a, b), x)).unwrap_err();
    assert_eq!(e.to_string(), "parameter `x` at batch index [1] must lie in the support [0, 1], found 1.5");
    let x = [1.0_f64, 0.0];
    let e = kl!(log_prob(Gamma(a, b), x)).unwrap_err();
    assert_eq!(e.to_string(), "parameter `x` at batch index [1] must be > 0, found 0");
    let x = [[0.2_f64, 0.8], [0.5, 0.6]];
    let c = [[1.0_f64, 2.0], [0.5, 0.5]];
    let e = kl!(log_prob(Dirichlet(c), x)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter `x` at batch index [1] must sum to 1 over its last dim (a point of the simplex), found 1.1"
    );
}

#[test]
fn von_mises_from_types() {
    // Equal concentrations: KL = A(k)·k·(1 − cos δ), A = I1/I0 (I0(2) = 2.2795853023360673,
    // I1(2) = 1.5906368546373291, from their series); equal locations and k1 → 0: the uniform
    // circle against VonMises(k2): ln I0(k2).
    let (m1, m2, k) = ([0.5_f64, 0.0], [0.0_f64, 0.0], [2.0_f64, 2.0]);
    let got = kl!(VonMises(m1, k) || VonMises(m2, k)).unwrap();
    let a = 1.590_636_854_637_329 / 2.279_585_302_336_067;
    let want = a * 2.0 * (1.0 - 0.5_f64.cos());
    assert!(close(got[0], want, 1e-14), "{} vs {want}", got[0]);
    assert_eq!(got[1], 0.0);
    let (tiny, two) = ([1e-12_f64], [2.0_f64]);
    let (z1, z2) = ([0.0_f64], [0.0_f64]);
    let u = kl!(VonMises(z1, tiny) || VonMises(z2, two)).unwrap();
    assert!(close(u[0], 2.279_585_302_336_067_f64.ln(), 1e-11), "{}", u[0]);
    // The entropy of VonMises(2): ln(2π I0(2)) − 2A(2).
    let h = kl!(entropy(VonMises(z1, two))).unwrap();
    let want = (2.0 * core::f64::consts::PI * 2.279_585_302_336_067).ln() - 2.0 * a;
    assert!(close(h[0], want, 1e-14), "{} vs {want}", h[0]);
}

kl_fn! {
    fn bernoulli_rows(l1: [B], l2: [B]) -> f64 {
        Bernoulli(logits=l1) || Bernoulli(logits=l2)
    }
}

/// KL(Bernoulli(p) ‖ Bernoulli(q)), textbook form.
fn bernoulli_kl(p: f64, q: f64) -> f64 {
    p * (p / q).ln() + (1.0 - p) * ((1.0 - p) / (1.0 - q)).ln()
}

fn sigmoid(l: f64) -> f64 {
    1.0 / (1.0 + (-l).exp())
}

#[test]
fn bernoulli_kl_on_every_route_in_both_parameterizations() {
    let (l1, l2) = ([0.3_f64, -1.2, 2.0], [-0.5_f64, 0.4, 2.5]);
    let (p1, p2) = (l1.map(sigmoid), l2.map(sigmoid));
    let want: Vec<f64> = (0..3).map(|i| bernoulli_kl(p1[i], p2[i])).collect();
    let logits = kl!(Bernoulli(logits = l1) || Bernoulli(logits = l2)).unwrap();
    let probs = kl!(Bernoulli(probs = p1) || Bernoulli(probs = p2)).unwrap();
    let mixed = kl!(Bernoulli(probs = p1) || Bernoulli(logits = l2)).unwrap();
    let (a, b) = (l1.to_vec(), l2.to_vec());
    let declared = kl!(Bernoulli(logits = a) || Bernoulli(logits = b) where a, b: [3]).unwrap();
    let item = bernoulli_rows(&l1, &l2).unwrap();
    let (mut into, mut unchecked) = ([f64::NAN; 3], [f64::NAN; 3]);
    bernoulli_rows_into(&l1, &l2, 3, &mut into).unwrap();
    bernoulli_rows_into_unchecked(&l1, &l2, 3, &mut unchecked).unwrap();
    for i in 0..3 {
        for (route, got) in [
            ("logits", logits[i]),
            ("probs", probs[i]),
            ("mixed", mixed[i]),
            ("where", declared[i]),
            ("kl_fn!", item[i]),
            ("_into", into[i]),
            ("_unchecked", unchecked[i]),
        ] {
            assert!(close(got, want[i], 1e-13), "{route}[{i}]: {got} vs {}", want[i]);
        }
    }
}

#[test]
fn discrete_log_prob_values_outside_the_support_are_data_errors() {
    let (l, x) = ([0.3_f64, -1.2], [1.0_f64, 0.5]);
    let e = kl!(log_prob(Bernoulli(logits = l), x)).unwrap_err();
    assert_eq!(e.to_string(), "parameter `x` at batch index [1] must be 0 or 1, found 0.5");
    let (r, k) = ([2.0_f64, 3.0], [2.0_f64, -1.0]);
    let e = kl!(log_prob(Poisson(r), k)).unwrap_err();
    assert!(matches!(e.rule, Rule::NotCount { .. }), "{e}");
    assert!(e.to_string().contains("must be a non-negative integer"), "{e}");
    // Poisson log_prob at integers: k ln r − r − ln k!.
    let k = [0.0_f64, 3.0];
    let got = kl!(log_prob(Poisson(r), k)).unwrap();
    let want = [-2.0, 3.0 * 3.0_f64.ln() - 3.0 - 6.0_f64.ln()];
    for i in 0..2 {
        assert!(close(got[i], want[i], 1e-15), "{got:?} vs {want:?}");
    }
}

#[test]
fn cross_family_pairs_from_types() {
    // torch's _kl_laplace_normal and _kl_uniform_exponetial, written out.
    let (m1, b, m2, s) = ([0.3_f64, -1.0], [0.7_f64, 1.5], [0.1_f64, 0.5], [1.2_f64, 0.8]);
    let got = kl!(Laplace(m1, b) || Normal(m2, s)).unwrap();
    for i in 0..2 {
        let r = b[i] * b[i] / (s[i] * s[i]);
        let want = -0.5 * (2.0 * r / std::f64::consts::PI).ln()
            + r
            + (0.5 * m1[i] * m1[i] - m1[i] * m2[i] + 0.5 * m2[i] * m2[i]) / (s[i] * s[i])
            - 1.0;
        assert!(close(got[i], want, 1e-14), "{} vs {want}", got[i]);
    }
    let (lo, hi, rate) = ([0.5_f64, -0.5], [2.0_f64, 1.0], [0.7_f64, 0.7]);
    let got = kl!(Uniform(lo, hi) || Exponential(rate)).unwrap();
    let want = 0.7 * 1.25 - (1.5_f64 * 0.7).ln();
    assert!(close(got[0], want, 1e-15), "{} vs {want}", got[0]);
    assert_eq!(got[1], f64::INFINITY);
}

kl_fn! {
    fn continuous_bernoulli_rows(l1: [B], l2: [B]) -> f64 {
        ContinuousBernoulli(logits=l1) || ContinuousBernoulli(logits=l2)
    }
}

kl_fn! {
    fn continuous_bernoulli_rows32(l1: [B], l2: [B]) -> f32 {
        ContinuousBernoulli(logits=l1) || ContinuousBernoulli(logits=l2)
    }
}

/// `ln C(λ) = ln(2 atanh(1 − 2λ)/(1 − 2λ)) = ln(l / tanh(l/2))` at logits `l` (ln 2 at 0).
fn cb_log_norm(l: f64) -> f64 {
    if l == 0.0 {
        2.0_f64.ln()
    } else {
        (l / (l / 2.0).tanh()).ln()
    }
}

/// torch's mean `λ/(2λ − 1) + 1/(ln(1 − λ) − ln λ)`, at logits `l`.
fn cb_mean(l: f64) -> f64 {
    if l == 0.0 {
        0.5
    } else {
        let p = sigmoid(l);
        p / (2.0 * p - 1.0) - 1.0 / l
    }
}

/// torch's variance `λ(λ − 1)/(1 − 2λ)² + 1/(ln(1 − λ) − ln λ)²`.
fn cb_var(l: f64) -> f64 {
    let p = sigmoid(l);
    p * (p - 1.0) / ((1.0 - 2.0 * p) * (1.0 - 2.0 * p)) + 1.0 / (l * l)
}

/// torch's entropy `mean (ln(1 − λ) − ln λ) − ln C − ln(1 − λ)`.
fn cb_entropy(l: f64) -> f64 {
    let p = sigmoid(l);
    cb_mean(l) * ((1.0 - p).ln() - p.ln()) - cb_log_norm(l) - (1.0 - p).ln()
}

/// torch's `_kl_continuous_bernoulli_continuous_bernoulli`:
/// `mean₁ (l₁ − l₂) + ln C₁ + ln(1 − λ₁) − ln C₂ − ln(1 − λ₂)`.
fn cb_kl(l1: f64, l2: f64) -> f64 {
    cb_mean(l1) * (l1 - l2) + cb_log_norm(l1) + (1.0 - sigmoid(l1)).ln() - cb_log_norm(l2) - (1.0 - sigmoid(l2)).ln()
}

#[test]
fn continuous_bernoulli_kl_on_every_route_in_both_parameterizations() {
    // Logits away from 0 (where torch's textbook forms cancel) and exactly 0 (the uniform).
    let (l1, l2) = ([0.3_f64, -1.2, 2.0, 0.0], [-0.5_f64, 0.4, 2.5, 3.0]);
    let (p1, p2) = (l1.map(sigmoid), l2.map(sigmoid));
    let want: Vec<f64> = (0..4).map(|i| cb_kl(l1[i], l2[i])).collect();
    let logits = kl!(ContinuousBernoulli(logits = l1) || ContinuousBernoulli(logits = l2)).unwrap();
    let probs = kl!(ContinuousBernoulli(probs = p1) || ContinuousBernoulli(probs = p2)).unwrap();
    let mixed = kl!(ContinuousBernoulli(probs = p1) || ContinuousBernoulli(logits = l2)).unwrap();
    let mixed2 = kl!(ContinuousBernoulli(logits = l1) || ContinuousBernoulli(probs = p2)).unwrap();
    let (a, b) = (l1.to_vec(), l2.to_vec());
    let declared = kl!(ContinuousBernoulli(logits = a) || ContinuousBernoulli(logits = b) where a, b: [4]).unwrap();
    let item = continuous_bernoulli_rows(&l1, &l2).unwrap();
    let (mut into, mut unchecked) = ([f64::NAN; 4], [f64::NAN; 4]);
    continuous_bernoulli_rows_into(&l1, &l2, 4, &mut into).unwrap();
    continuous_bernoulli_rows_into_unchecked(&l1, &l2, 4, &mut unchecked).unwrap();
    let n = |a: [f64; 4]| a.map(|x| x as f32);
    let single = continuous_bernoulli_rows32(&n(l1), &n(l2)).unwrap();
    for i in 0..4 {
        for (route, got) in [
            ("logits", logits[i]),
            ("probs", probs[i]),
            ("probs || logits", mixed[i]),
            ("logits || probs", mixed2[i]),
            ("where", declared[i]),
            ("kl_fn!", item[i]),
            ("_into", into[i]),
            ("_unchecked", unchecked[i]),
        ] {
            assert!(close(got, want[i], 1e-12), "{route}[{i}]: {got} vs {}", want[i]);
        }
        assert!(close(single[i] as f64, want[i], 1e-5), "f32[{i}]: {} vs {}", single[i], want[i]);
    }
    // P || P is 0 in both parameterizations.
    assert_eq!(kl!(ContinuousBernoulli(probs = p1) || ContinuousBernoulli(probs = p1)).unwrap().to_vec(), vec![0.0; 4]);
    assert_eq!(
        kl!(ContinuousBernoulli(logits = l1) || ContinuousBernoulli(logits = l1)).unwrap().to_vec(),
        vec![0.0; 4]
    );
}

#[test]
fn continuous_bernoulli_log_prob_and_entropy_from_types() {
    let l = [0.7_f64, -2.5, 0.0];
    let p = l.map(sigmoid);
    let x = [0.25_f64, 1.0, 0.6];
    let (lp, lp_probs) = (
        kl!(log_prob(ContinuousBernoulli(logits = l), x)).unwrap(),
        kl!(log_prob(ContinuousBernoulli(probs = p), x)).unwrap(),
    );
    let (h, h_probs) =
        (kl!(entropy(ContinuousBernoulli(logits = l))).unwrap(), kl!(entropy(ContinuousBernoulli(probs = p))).unwrap());
    for i in 0..3 {
        // torch: −BCE(l, x) + ln C = x ln λ + (1 − x) ln(1 − λ) + ln C.
        let want = x[i] * p[i].ln() + (1.0 - x[i]) * (1.0 - p[i]).ln() + cb_log_norm(l[i]);
        assert!(close(lp[i], want, 1e-14) && close(lp_probs[i], want, 1e-14), "{} {} vs {want}", lp[i], lp_probs[i]);
        let want = if l[i] == 0.0 { 0.0 } else { cb_entropy(l[i]) };
        assert!(close(h[i], want, 1e-13) && close(h_probs[i], want, 1e-13), "{} {} vs {want}", h[i], h_probs[i]);
    }
    // A value outside [0, 1] is a data error naming its index.
    let x = [0.5_f64, 1.5, 0.0];
    let e = kl!(log_prob(ContinuousBernoulli(logits = l), x)).unwrap_err();
    assert_eq!(e.to_string(), "parameter `x` at batch index [1] must lie in the support [0, 1], found 1.5");
}

#[test]
fn continuous_bernoulli_probs_of_zero_or_one_are_data_errors() {
    // At 0 or 1 it is a point mass, not a density: probs must lie in (0, 1), also for P || P.
    let (p, q) = ([0.3_f64, 1.0], [0.4_f64, 0.5]);
    let want = "parameter `p` at batch index [1] must lie in the open interval (0, 1), found 1";
    let e = kl!(ContinuousBernoulli(probs = p) || ContinuousBernoulli(probs = q)).unwrap_err();
    assert_eq!(e.to_string(), want);
    assert!(matches!(e.rule, Rule::OutsideOpen { value, .. } if value == 1.0), "{e}");
    let e = kl!(ContinuousBernoulli(probs = p) || ContinuousBernoulli(probs = p)).unwrap_err();
    assert_eq!(e.to_string(), want);
    let e = kl!(entropy(ContinuousBernoulli(probs = p))).unwrap_err();
    assert_eq!(e.to_string(), want);
    let x = [0.5_f64, 0.5];
    let e = kl!(log_prob(ContinuousBernoulli(probs = p), x)).unwrap_err();
    assert_eq!(e.to_string(), want);
    let z = [0.0_f64, 0.5];
    let e = kl!(ContinuousBernoulli(logits = q) || ContinuousBernoulli(probs = z)).unwrap_err();
    assert_eq!(e.to_string(), "parameter `z` at batch index [0] must lie in the open interval (0, 1), found 0");
}

#[test]
fn continuous_bernoulli_cross_family_pairs_from_types() {
    let l = [0.8_f64, -1.5];
    let p = l.map(sigmoid);
    // torch's _kl_beta_continuous_bernoulli: −H(Beta) − mean·l − ln(1 − λ) − ln C, with
    // H(Beta(2, 1)) = ln(1/2) + 1/2 and H(Beta(1, 3)) = ln(1/3) + 2/3 (from the digammas).
    let (a, b) = ([2.0_f64, 1.0], [1.0_f64, 3.0]);
    let hb = [0.5 - 2.0_f64.ln(), 2.0 / 3.0 - 3.0_f64.ln()];
    let got = kl!(Beta(a, b) || ContinuousBernoulli(logits = l)).unwrap();
    let got_p = kl!(Beta(a, b) || ContinuousBernoulli(probs = p)).unwrap();
    for i in 0..2 {
        let want = -hb[i] - a[i] / (a[i] + b[i]) * l[i] - (1.0 - p[i]).ln() - cb_log_norm(l[i]);
        assert!(close(got[i], want, 1e-13) && close(got_p[i], want, 1e-13), "{} {} vs {want}", got[i], got_p[i]);
    }
    // Uniform || ContinuousBernoulli: +∞ where the interval leaves [0, 1].
    let (lo, hi) = ([0.25_f64, -0.5], [0.75_f64, 0.5]);
    let got = kl!(Uniform(lo, hi) || ContinuousBernoulli(logits = l)).unwrap();
    let want = -(0.5_f64).ln() - 0.5 * l[0] - (1.0 - p[0]).ln() - cb_log_norm(l[0]);
    assert!(close(got[0], want, 1e-13), "{} vs {want}", got[0]);
    assert_eq!(got[1], f64::INFINITY);
    // ContinuousBernoulli || Exponential: −H − ln r + r·mean.
    let r = [0.7_f64, 2.0];
    let got = kl!(ContinuousBernoulli(probs = p) || Exponential(r)).unwrap();
    for i in 0..2 {
        let want = -cb_entropy(l[i]) - r[i].ln() + r[i] * cb_mean(l[i]);
        assert!(close(got[i], want, 1e-13), "{} vs {want}", got[i]);
    }
    // ContinuousBernoulli || Normal, the normal by its variance: −H + ½ ln 2πv + (var + (mean − m)²)/(2v).
    let (m, v) = ([0.1_f64, -0.4], [0.5_f64, 2.0]);
    let got = kl!(ContinuousBernoulli(logits = l) || Normal(m, var = v)).unwrap();
    for i in 0..2 {
        let d = cb_mean(l[i]) - m[i];
        let want =
            -cb_entropy(l[i]) + 0.5 * (2.0 * std::f64::consts::PI * v[i]).ln() + (cb_var(l[i]) + d * d) / (2.0 * v[i]);
        assert!(close(got[i], want, 1e-13), "{} vs {want}", got[i]);
    }
    // ContinuousBernoulli || Uniform: ln(high − low) − H where the interval covers [0, 1]
    // (exactly [0, 1] is finite), else +∞.
    let (lo, hi) = ([0.0_f64, 0.1], [1.0_f64, 2.0]);
    let got = kl!(ContinuousBernoulli(logits = l) || Uniform(lo, hi)).unwrap();
    assert!(close(got[0], -cb_entropy(l[0]), 1e-13), "{}", got[0]);
    assert_eq!(got[1], f64::INFINITY);
}

#[test]
fn continuous_bernoulli_pairs_without_a_density_in_common_are_compile_errors() {
    // Infinite for every value (kl::infinite), or without a closed form (as in torch).
    for (src, code) in [
        ("ContinuousBernoulli(logits=l) || Pareto(a, b) where l, a, b: [3]", "kl::infinite"),
        ("Normal(a, b) || ContinuousBernoulli(logits=l) where l, a, b: [3]", "kl::infinite"),
        ("Exponential(a) || ContinuousBernoulli(probs=l) where l, a: [3]", "kl::infinite"),
        ("Bernoulli(probs=a) || ContinuousBernoulli(probs=l) where l, a: [3]", "kl::infinite"),
        ("ContinuousBernoulli(logits=l) || Bernoulli(logits=a) where l, a: [3]", "kl::infinite"),
        ("ContinuousBernoulli(logits=l) || Gamma(a, b) where l, a, b: [3]", "kl::no_closed_form"),
        ("ContinuousBernoulli(logits=l) || Beta(a, b) where l, a, b: [3]", "kl::no_closed_form"),
    ] {
        let e = kl::compiler::compile(src, &Default::default()).map(|_| ()).unwrap_err();
        assert!(e.iter().any(|d| d.code == code), "{src}: {}", e.render_plain(src));
    }
}
