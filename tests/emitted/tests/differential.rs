//! Differential tests: every emitted function against `kl_compiler::interp` on the same random valid
//! inputs, plus the checked entry point's errors against `interp::validate`.

use kl_compiler::interp::{self, Tensor};
use kl_compiler::ir::{Ir, Role};
use kl_compiler::Dim;
use kl_emitted_tests::{generic, Case};
use kl_runtime::{Error, Real, Rule};
use std::collections::BTreeMap;

/// splitmix64: small, deterministic, good enough for test data.
use kl_runtime::testing::SplitMix64 as Rng;

/// The role that decides how a parameter's data is drawn (the most demanding one).
fn role(ir: &Ir, name: &str) -> Role {
    let roles = ir.roles.get(name).cloned().unwrap_or_default();
    [
        Role::SpdMatrix,
        Role::ScaleTril,
        Role::Positive,
        Role::PositiveDiag,
        Role::NonNegative,
        Role::UnitInterval,
        Role::Binary,
        Role::Count,
    ]
    .into_iter()
    .find(|r| roles.contains(r))
    .unwrap_or(Role::Real)
}

/// Random valid data: positive scales, SPD matrices `A Aᵀ + d I`, lower factors with a positive
/// diagonal (and junk above it, which nothing may read).
fn draw(rng: &mut Rng, role: Role, shape: &[usize]) -> Vec<f64> {
    let n: usize = shape.iter().product();
    match role {
        Role::Real => (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect(),
        Role::Positive | Role::PositiveDiag | Role::NonNegative => (0..n).map(|_| rng.uniform(0.5, 2.0)).collect(),
        Role::UnitInterval => (0..n).map(|_| rng.uniform(0.1, 0.9)).collect(),
        Role::Binary => (0..n).map(|_| if rng.uniform(0.0, 1.0) < 0.5 { 0.0 } else { 1.0 }).collect(),
        Role::Count => (0..n).map(|_| rng.uniform(0.0, 8.0).floor()).collect(),
        Role::SpdMatrix | Role::ScaleTril => {
            let d = *shape.last().unwrap();
            let mut out = Vec::with_capacity(n);
            for _ in 0..n / (d * d).max(1) {
                let a: Vec<f64> = (0..d * d).map(|_| rng.uniform(-1.0, 1.0)).collect();
                for i in 0..d {
                    for j in 0..d {
                        out.push(if role == Role::SpdMatrix {
                            let s: f64 = (0..d).map(|k| a[i * d + k] * a[j * d + k]).sum();
                            s + if i == j { d as f64 } else { 0.0 }
                        } else if i == j {
                            rng.uniform(0.5, 2.0)
                        } else {
                            a[i * d + j]
                        });
                    }
                }
            }
            out
        }
    }
}

/// One set of arguments for a case: data per parameter (argument order) and the dims.
struct Args {
    ir: Ir,
    names: Vec<String>,
    data: Vec<Vec<f64>>,
    dims: Vec<usize>,
    shapes: Vec<Vec<usize>>,
    /// (name, values, shape) of parameters the emitted function does not take.
    dead: Vec<(String, Vec<f64>, Vec<usize>)>,
    out_len: usize,
}

impl Args {
    fn new(case: &Case<impl Real>, seed: u64, size: usize) -> Args {
        let ir = kl_compiler::compile(case.src, &Default::default()).unwrap().simplified;
        let (names, syms) = kl_codegen::emit::arguments(&ir);
        let resolve = |s: &kl_compiler::Shape| -> Vec<usize> {
            s.dims()
                .iter()
                .map(|d| match d {
                    Dim::Static(n) => *n,
                    Dim::Symbol(_) => size,
                })
                .collect()
        };
        let mut rng = Rng(seed);
        let shapes: Vec<Vec<usize>> = names.iter().map(|n| resolve(&ir.shapes[n])).collect();
        let data = names.iter().zip(&shapes).map(|(n, s)| draw(&mut rng, role(&ir, n), s)).collect();
        let out_len = resolve(ir.result_shape().unwrap()).iter().product();
        // Parameters simplification made dead (entropy never reads `loc`) are not arguments of
        // the emitted function, but the interpreter still takes them: they bind symbols.
        let dead = ir
            .roles
            .keys()
            .filter(|n| !names.contains(n))
            .map(|n| {
                let s = resolve(&ir.shapes[n]);
                (n.clone(), draw(&mut rng, role(&ir, n), &s), s)
            })
            .collect();
        Args { dims: vec![size; syms.len()], ir, names, data, shapes, dead, out_len }
    }

    fn tensors<T: Real>(&self) -> BTreeMap<String, Tensor<T>> {
        let live = self.names.iter().zip(&self.data).zip(&self.shapes).map(|((n, d), s)| (n, d, s));
        live.chain(self.dead.iter().map(|(n, d, s)| (n, d, s)))
            .map(|(n, d, s)| (n.clone(), Tensor::new(s.clone(), d.iter().map(|v| T::from_f64(*v)).collect()).unwrap()))
            .collect()
    }

    fn run<T: Real>(&self, f: kl_emitted_tests::Call<T>) -> Result<Vec<T>, Error> {
        let data: Vec<Vec<T>> = self.data.iter().map(|d| d.iter().map(|v| T::from_f64(*v)).collect()).collect();
        let params: Vec<&[T]> = data.iter().map(|d| &d[..]).collect();
        let mut out = vec![T::NAN; self.out_len];
        f(&params, &self.dims, &mut out)?;
        Ok(out)
    }
}

/// The only data errors valid draws may meet: the rules between parameters, which drawing each
/// parameter by its role cannot respect.
fn assert_joint_rule(e: &Error, path: &str) {
    assert!(
        matches!(e.rule, Rule::NotAbove { .. } | Rule::Outside { .. } | Rule::NotNormalized { .. }),
        "{path}: valid draws gave {e}"
    );
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-3) || got == want
}

#[test]
fn every_input_compiles_to_emittable_code() {
    assert!(generic::EMIT_FAILURES.is_empty(), "emit failures:\n{:#?}", generic::EMIT_FAILURES);
    assert!(generic::CASES.len() >= 15, "only {} cases", generic::CASES.len());
}

#[test]
fn emitted_code_agrees_with_the_interpreter_in_f64() {
    let mut failures = Vec::new();
    for case in generic::CASES {
        for (seed, size) in [(1, 3), (2, 1), (3, 4)] {
            let args = Args::new(case, seed, size);
            let want = match interp::eval(&args.ir, &args.tensors::<f64>()) {
                Ok(want) => want,
                // Data drawn role by role can break a rule between parameters (`x >= scale`
                // of a Pareto value): the checked entry must then report the same error.
                Err(interp::EvalError::Data(e)) => {
                    assert_joint_rule(&e, case.path);
                    match args.run(case.checked) {
                        Err(got) if got == e => {}
                        other => failures.push(format!("{}: interpreter {e}, emitted {other:?}", case.path)),
                    }
                    continue;
                }
                Err(e) => panic!("{}: {e}", case.path),
            };
            for (kind, f) in [("checked", case.checked), ("unchecked", case.unchecked)] {
                match args.run(f) {
                    Ok(got) => {
                        for (k, (g, w)) in got.iter().zip(&want.data).enumerate() {
                            if !close(*g, *w, 1e-12) {
                                failures.push(format!(
                                    "{} ({kind}, size {size}) [{k}]: emitted {g:e}, interpreter {w:e}",
                                    case.path
                                ));
                            }
                        }
                    }
                    Err(e) => failures.push(format!("{} ({kind}, size {size}): {e}", case.path)),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn f32_functions_agree_with_the_interpreter_in_f32() {
    assert!(!kl_emitted_tests::f32::CASES.is_empty());
    for case in kl_emitted_tests::f32::CASES {
        let args = Args::new(case, 7, 3);
        let want = match interp::eval(&args.ir, &args.tensors::<f32>()) {
            Ok(want) => want,
            Err(interp::EvalError::Data(e)) => {
                assert_joint_rule(&e, case.path);
                assert_eq!(args.run(case.checked).err(), Some(e), "{}", case.path);
                continue;
            }
            Err(e) => panic!("{}: {e}", case.path),
        };
        let got = args.run(case.checked).unwrap_or_else(|e| panic!("{}: {e}", case.path));
        for (g, w) in got.iter().zip(&want.data) {
            assert!(close(*g as f64, *w as f64, 1e-5), "{}: emitted {g}, interpreter {w}", case.path);
        }
    }
}

/// The checked entry point reports what `interp::validate` reports, for one broken element of
/// each parameter whose role can be broken.
#[test]
fn checked_entry_reports_the_interpreters_data_errors() {
    let mut checked = 0;
    for case in generic::CASES {
        let base = Args::new(case, 11, 3);
        for p in 0..base.names.len() {
            let r = role(&base.ir, &base.names[p]);
            let mut args = Args::new(case, 11, 3);
            let last = args.data[p].len() - 1;
            match r {
                Role::Positive | Role::PositiveDiag | Role::NonNegative | Role::UnitInterval => {
                    args.data[p][last] = -0.5
                }
                Role::Real => args.data[p][last] = f64::NAN,
                // Neither 0 nor 1; not an integer.
                Role::Binary | Role::Count => args.data[p][last] = 0.5,
                // An indefinite last block: a negative diagonal entry.
                Role::SpdMatrix | Role::ScaleTril => args.data[p][last] = -1.0,
            }
            let want = interp::validate(&args.ir, &args.tensors::<f64>()).expect_err("validate accepts broken data");
            let got = args.run(case.checked).expect_err("emitted function accepts broken data");
            assert_eq!(got.param, want.param, "{}", case.path);
            assert_eq!(got.index, want.index, "{}", case.path);
            match (&got.rule, &want.rule) {
                (Rule::NonFinite { value: a }, Rule::NonFinite { value: b }) => assert!(a.is_nan() && b.is_nan()),
                (a, b) => assert_eq!(a, b, "{}", case.path),
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} error cases");
}

#[test]
fn checked_entry_reports_negative_scale_like_validate() {
    let case = generic::CASES.iter().find(|c| c.name == "diag_kl").expect("a diag_kl input");
    let mut args = Args::new(case, 5, 3);
    let s = args.names.iter().position(|n| role(&args.ir, n) == Role::Positive).unwrap();
    args.data[s][9] = -2.0;
    let want = interp::validate(&args.ir, &args.tensors::<f64>()).unwrap_err();
    let got = args.run(case.checked).unwrap_err();
    assert_eq!(got, want);
    assert_eq!(got.rule, Rule::NonPositive { value: -2.0 });
    assert_eq!(got.index, vec![1, 1]);
}

#[test]
fn checked_entry_reports_wrong_lengths() {
    for case in generic::CASES {
        let mut args = Args::new(case, 3, 3);
        if args.names.is_empty() {
            continue;
        }
        let expected = args.data[0].len();
        args.data[0].pop();
        let got = args.run(case.checked).unwrap_err();
        assert_eq!(got.param, args.names[0], "{}", case.path);
        assert_eq!(got.rule, Rule::LengthMismatch { expected, found: expected - 1 }, "{}", case.path);
    }
    let case = &generic::CASES[0];
    let args = Args::new(case, 3, 3);
    let data: Vec<&[f64]> = args.data.iter().map(|d| &d[..]).collect();
    let mut out = vec![0.0; args.out_len + 1];
    let got = (case.checked)(&data, &args.dims, &mut out).unwrap_err();
    assert_eq!(got.param, "out");
    assert_eq!(got.rule, Rule::LengthMismatch { expected: args.out_len, found: args.out_len + 1 });
}
