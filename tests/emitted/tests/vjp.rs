//! The emitted vector–Jacobian products against the interpreter's reverse mode
//! (`kl_compiler::grad::value_and_grad`, itself checked against finite differences and textbook
//! derivatives in `kl-compiler/tests/grad.rs`), on every mpmath reference case the VJP emitter
//! covers, with an upstream gradient that is not all ones (so that each output element's
//! weight reaches the right gradient entries).

mod common;

use kl_compiler::interp::Tensor;
use std::collections::BTreeMap;

/// The ops the VJP emitter does not cover yet (none: every kernel has its emitted adjoint).
/// Every reference case it declines must name one of them; anything else is a regression.
const NOT_COVERED: &[&str] = &[];

/// A deterministic upstream gradient with distinct entries of both signs.
fn upstream(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.75 - 0.5 * ((i * 7 % 5) as f64)).collect()
}

#[test]
fn emitted_vjps_match_the_interpreters_reverse_mode() {
    let cases = common::cases();
    let vjps = kl_emitted_tests::reference::VJPS;
    let mut failures = Vec::new();
    for (name, call) in vjps {
        let case = &cases[*name];
        let (ir, params) = common::compile(case);
        let inputs: BTreeMap<String, Tensor<f64>> = params
            .iter()
            .map(|(n, shape, data)| (n.clone(), Tensor { shape: shape.clone(), data: data.clone() }))
            .collect();
        // The interpreter's value fixes the result's shape.
        let value = match kl_compiler::grad::value_and_grad(&ir, &inputs, None) {
            Ok((v, _)) => v,
            Err(e) => {
                failures.push(format!("{name}: interpreter: {e}"));
                continue;
            }
        };
        let up = upstream(value.data.len());
        let seed = Tensor { shape: value.shape.clone(), data: up.clone() };
        let (want, want_grads) = kl_compiler::grad::value_and_grad(&ir, &inputs, Some(&seed)).unwrap();
        // Two paths, each within `cond · 1e-15` of the truth on an ill-conditioned case (the
        // mpmath references in kl-compiler/tests/grad_reference.rs hold both to that).
        let tol = match case["class"].as_str() {
            Some("ill_conditioned") => (2e-15 * case["cond"].as_f64().unwrap_or(1.0)).max(1e-13),
            _ => 1e-13,
        };
        let slices: Vec<&[f64]> = params.iter().map(|(_, _, d)| &d[..]).collect();
        let mut out = vec![f64::NAN; want.data.len()];
        let mut grads: Vec<Vec<f64>> = params.iter().map(|(_, _, d)| vec![f64::NAN; d.len()]).collect();
        if let Err(e) = call(&slices, &[], &up, &mut out, &mut grads) {
            failures.push(format!("{name}: emitted: {e}"));
            continue;
        }
        for (g, w) in out.iter().zip(&want.data) {
            if !(g == w || ((g - w) / w).abs() <= 1e-13) {
                failures.push(format!("{name}: value {g:e}, interpreter {w:e}"));
            }
        }
        // Normwise per parameter: max |error| / max |reference|; exact where the reference is 0.
        for ((p, _, _), got) in params.iter().zip(&grads) {
            let want = &want_grads[p].data;
            let scale = want.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
            let err = got.iter().zip(want).fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
            let ok = if scale == 0.0 { err == 0.0 } else { err <= tol * scale };
            if !ok || err.is_nan() {
                failures.push(format!("{name}: grad {p}: emitted {got:?}, interpreter {want:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_declined_case_names_an_op_not_yet_covered() {
    let declined = kl_emitted_tests::reference::NO_VJP;
    let unexpected: Vec<_> = declined
        .iter()
        .filter(|(_, err)| !NOT_COVERED.iter().any(|op| err.contains(&format!("does not cover `{op}`"))))
        .collect();
    assert!(unexpected.is_empty(), "declined for another reason: {unexpected:#?}");
    // Every reference case has its emitted VJP: all 578, every family and parameterization.
    let covered = kl_emitted_tests::reference::VJPS.len();
    assert_eq!(covered, common::cases().len(), "{} declined", declined.len());
}
