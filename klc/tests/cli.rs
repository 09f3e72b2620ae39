//! End-to-end tests of the `klc` binary: every subcommand, its success and its failure exits.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const DIAG_KL: &str = "Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [B, 8]";

fn klc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_klc")).args(args).env("NO_COLOR", "1").output().expect("spawn klc")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// A fresh directory under the system temp dir, unique per process and call.
fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "klc-cli-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, file: &str, contents: impl AsRef<[u8]>) -> String {
    let path = dir.join(file);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_string()
}

/// A user error: exit code 1, nothing on stdout, a message on stderr and no panic.
fn assert_user_error(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert_eq!(stdout(o), "", "stdout must stay empty on error");
    assert!(!err.is_empty());
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    assert!(!err.contains('\u{1b}'), "NO_COLOR output has no ANSI escapes: {err:?}");
    err
}

/// The textbook univariate KL.
fn normal_kl(m1: f64, s1: f64, m2: f64, s2: f64) -> f64 {
    (s2 / s1).ln() + (s1 * s1 + (m1 - m2) * (m1 - m2)) / (2.0 * s2 * s2) - 0.5
}

fn eval_json(o: &Output) -> (Vec<usize>, Vec<f64>) {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
    assert_eq!(stderr(o), "");
    let out = stdout(o);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    let obj = v.as_object().expect("a JSON object");
    assert_eq!(obj.len(), 2, "{out}");
    let shape: Vec<usize> = obj["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let mut flat = Vec::new();
    flatten(&obj["value"], &mut flat);
    (shape, flat)
}

fn flatten(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        other => out.push(other.as_f64().expect("numbers only")),
    }
}

// ---------- check ----------

#[test]
fn check_prints_the_result_shape() {
    let o = klc(&["check", DIAG_KL]);
    assert_eq!((o.status.code(), stdout(&o).as_str(), stderr(&o).as_str()), (Some(0), "ok: [B]\n", ""));
}

#[test]
fn check_reads_an_existing_file() {
    let dir = temp_dir("check-file");
    let file = write(
        &dir,
        "model.kl",
        "# a comment\nentropy(MultivariateNormal(m, scale_tril=L))\nwhere m: [T, 3], L: [3, 3]\n",
    );
    let o = klc(&["check", &file]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "ok: [T]\n"), "{}", stderr(&o));
}

#[test]
fn check_reports_a_shape_error_naming_both_shapes() {
    let o = klc(&["check", "Normal(a, b).to_event(1) || Normal(c, d).to_event(1) where a, b: [B, 8], c, d: [B, 4]"]);
    let err = assert_user_error(&o);
    assert!(err.contains("shape::event_mismatch"), "{err}");
    assert!(err.contains("event shape [8]") && err.contains("[4]"), "{err}");
}

#[test]
fn check_shows_where_a_parse_error_is_with_a_caret() {
    let src = "Normal(m, s) ||\n  Normal(m s) where m, s: [3]";
    let err = assert_user_error(&klc(&["check", src]));
    assert!(err.contains("parse::syntax") && err.contains("expected"), "{err}");
    assert!(err.contains("<expr>:2:12"), "line:column of the offending `s`: {err}");
    let code_line = err.lines().find(|l| l.contains("Normal(m s)")).unwrap();
    let caret_line = err.lines().find(|l| l.contains('^')).unwrap();
    assert_eq!(caret_line.find('^'), code_line.find("s)"), "{err}");
}

#[test]
fn check_of_a_missing_kl_file_is_an_error() {
    let err = assert_user_error(&klc(&["check", "/nonexistent/dir/model.kl"]));
    assert!(err.starts_with("error: cannot read `/nonexistent/dir/model.kl`"), "{err}");
}

#[test]
fn bad_input_never_panics() {
    for src in
        ["", "(((", "Normal(", "||", "Νormal(m, s) || Normal(0, 1)", "entropy(Normal(m, s)) where m: [B], s: [C]"]
    {
        assert_user_error(&klc(&["check", src]));
    }
}

// ---------- usage ----------

#[test]
fn malformed_command_lines_exit_2() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["check"],
        &["eval", DIAG_KL],
        &["emit", "x", "--dtype", "f16"],
        &["check", "a", "b"],
    ] {
        let o = klc(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), "");
        assert!(stderr(&o).contains("Usage: klc"), "{}", stderr(&o));
    }
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["check", "explain", "emit", "eval"] {
        let o = klc(&[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).contains(&format!("Usage: klc {sub}")), "{}", stdout(&o));
    }
    assert!(stdout(&klc(&["--help"])).contains("Commands:"));
}

// ---------- explain ----------

#[test]
fn explain_shows_shapes_both_listings_passes_and_the_formula() {
    let o = klc(&["explain", DIAG_KL]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let c = kl_compiler::compile(DIAG_KL, &Default::default()).unwrap();
    let lowered = format!("== IR after lowering ==\n{}", kl_compiler::pretty::pretty(&c.lowered));
    let simplified = format!("== IR after simplification ==\n{}", kl_compiler::pretty::pretty(&c.simplified));
    assert!(out.contains(&lowered), "{out}");
    assert!(out.contains(&simplified), "{out}");
    assert!(out.contains("\nindependent_sum: ") && out.contains("\nclosed_form: "), "{out}");
    assert!(
        out.contains("== formula ==\nKL[b] = Σ_{i<8} ( ½((m1−m2)/s2)² + ½u² − log1pmx(u) ), u = s1/s2 − 1\n"),
        "{out}"
    );
    // Every lowered node has a row with its batch and event shape.
    let row = out.lines().find(|l| l.starts_with("%3 Independent[1]")).expect("a row per node");
    assert_eq!(row.split_whitespace().skip(2).take(2).collect::<Vec<_>>(), ["[B]", "[8]"], "{row}");
}

#[test]
fn explain_reports_errors_like_check() {
    let err = assert_user_error(&klc(&["explain", "Normal(m, s) || Wishart(1, 2) where m, s: [3]"]));
    assert!(err.contains("unknown distribution"), "{err}");
}

// ---------- emit ----------

#[test]
fn emit_prints_rust_that_parses() {
    for extra in [&[][..], &["--dtype", "f32", "--name", "my_kl"], &["--dtype", "f64"]] {
        let mut args = vec!["emit", DIAG_KL];
        args.extend(extra);
        let o = klc(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        syn::parse_file(&out).unwrap_or_else(|e| panic!("emitted code does not parse: {e}\n{out}"));
        if extra.contains(&"my_kl") {
            assert!(out.contains("fn my_kl"), "{out}");
        }
    }
    let mvn = "log_prob(MultivariateNormal(m, covariance_matrix=C), x) where m, x: [B, 3], C: [3, 3]";
    let o = klc(&["emit", mvn]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    syn::parse_file(&stdout(&o)).unwrap_or_else(|e| panic!("emitted code does not parse: {e}\n{}", stdout(&o)));
}

/// The argument names of every top-level function in emitted code, by function name.
fn emitted_args(code: &str) -> Vec<(String, Vec<String>)> {
    let file = syn::parse_file(code).unwrap_or_else(|e| panic!("emitted code does not parse: {e}\n{code}"));
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(f) => Some((
                f.sig.ident.to_string(),
                f.sig
                    .inputs
                    .iter()
                    .map(|a| match a {
                        syn::FnArg::Typed(p) => match &*p.pat {
                            syn::Pat::Ident(i) => i.ident.to_string(),
                            _ => panic!("a pattern argument in emitted code"),
                        },
                        syn::FnArg::Receiver(_) => panic!("a receiver in emitted code"),
                    })
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn emit_takes_arguments_in_where_order_then_first_appearance() {
    let o = klc(&["emit", "Normal(zeta, alpha) || Normal(mu, beta) where mu: [T, B], zeta, alpha, beta: [T, B]"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fns = emitted_args(&stdout(&o));
    assert_eq!(fns.len(), 2, "{fns:?}");
    for (name, args) in fns {
        assert_eq!(args, ["mu", "zeta", "alpha", "beta", "t", "b", "out"], "{name}");
    }
    // Partly declared: declared first, then the others as they appear.
    let o = klc(&["emit", "Normal(s2, m1) || Normal(a, b) where b: [3], s2, m1, a: [3]"]);
    let fns = emitted_args(&stdout(&o));
    assert_eq!(fns[0].1, ["b", "s2", "m1", "a", "out"]);
}

#[test]
fn emit_reports_compile_errors() {
    let err = assert_user_error(&klc(&["emit", "Normal(m, s) ||"]));
    assert!(err.contains("parse::syntax"), "{err}");
}

// ---------- eval ----------

#[test]
fn eval_matches_the_textbook_univariate_kl() {
    let dir = temp_dir("eval-ok");
    let data = write(
        &dir,
        "d.json",
        r#"{"m1": [[0.5, -1.0, 3.0]], "s1": [[1.0, 0.25, 2.0]], "m2": 0.1, "s2": [1.5, 0.3, 4.0]}"#,
    );
    let (shape, got) = eval_json(&klc(&["eval", "Normal(m1, s1) || Normal(m2, s2)", "--data", &data]));
    assert_eq!(shape, vec![1, 3]);
    let want = [normal_kl(0.5, 1.0, 0.1, 1.5), normal_kl(-1.0, 0.25, 0.1, 0.3), normal_kl(3.0, 2.0, 0.1, 4.0)];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-13 * w.abs().max(1.0), "{g} vs {w}");
    }
}

#[test]
fn eval_prints_full_precision_and_sums_events() {
    let dir = temp_dir("eval-precision");
    let json = r#"{"m1": [[0.1, 0.2], [0.3, 0.4]], "s1": [[1.1, 0.9], [1.0, 1.3]], "m2": [[0.0, 0.0], [1.0, 0.5]], "s2": [[1.0, 1.0], [0.7, 2.0]]}"#;
    let data = write(&dir, "d.json", json);
    let src = "Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)";
    let (shape, got) = eval_json(&klc(&["eval", src, "--data", &data]));
    assert_eq!(shape, vec![2]);
    // The printed value reads back to exactly the interpreter's f64.
    let inputs: BTreeMap<String, kl_compiler::interp::Tensor<f64>> =
        serde_json::from_str::<BTreeMap<String, Vec<Vec<f64>>>>(json)
            .unwrap()
            .into_iter()
            .map(|(k, rows)| (k, kl_compiler::interp::Tensor::new(vec![2, 2], rows.concat()).unwrap()))
            .collect();
    assert_eq!(got, kl_compiler::interp::evaluate::<f64>(src, &inputs).unwrap().data);
    let want0 = normal_kl(0.1, 1.1, 0.0, 1.0) + normal_kl(0.2, 0.9, 0.0, 1.0);
    assert!((got[0] - want0).abs() < 1e-14, "{} vs {want0}", got[0]);
}

#[test]
fn eval_in_f32_computes_in_single_precision() {
    let dir = temp_dir("eval-f32");
    let data = write(&dir, "d.json", r#"{"m": [0.5, 2.0], "s": [0.8, 3.0]}"#);
    let (shape, got) = eval_json(&klc(&["eval", "Normal(m, s) || Normal(0, 1)", "--data", &data, "--dtype", "f32"]));
    assert_eq!(shape, vec![2]);
    for (g, (m, s)) in got.iter().zip([(0.5, 0.8), (2.0, 3.0)]) {
        assert_eq!(f64::from(*g as f32), *g, "an f32 value widened to f64: {g}");
        let w = normal_kl(m, s, 0.0, 1.0);
        assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "{g} vs {w}");
    }
}

#[test]
fn eval_reads_a_kl_file_and_scalars() {
    let dir = temp_dir("eval-file");
    let file = write(&dir, "h.kl", "entropy(Normal(m, log_scale=ls))\n");
    let data = write(&dir, "d.json", r#"{"m": 3, "ls": 0.0}"#);
    let (shape, got) = eval_json(&klc(&["eval", &file, "--data", &data]));
    assert_eq!(shape, Vec::<usize>::new());
    let want = 0.5 + 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!((got[0] - want).abs() < 1e-15, "{got:?}");
}

/// An `.npy` file written byte by byte (header padded to 64 bytes).
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

fn f8(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn eval_reads_a_directory_of_npy_files() {
    let dir = temp_dir("eval-npy");
    write(&dir, "m1.npy", npy("<f8", "(2, 1)", &f8(&[0.5, -1.0])));
    write(
        &dir,
        "s1.npy",
        npy("<f4", "(2, 1)", &[1.0f32, 0.5].iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()),
    );
    write(&dir, "m2.npy", npy("<f8", "()", &f8(&[0.25])));
    write(&dir, "s2.npy", npy("<f8", "(1,)", &f8(&[2.0])));
    write(&dir, "notes.txt", "ignored");
    let (shape, got) = eval_json(&klc(&["eval", "Normal(m1, s1) || Normal(m2, s2)", "--data", dir.to_str().unwrap()]));
    assert_eq!(shape, vec![2, 1]);
    let want = [normal_kl(0.5, 1.0, 0.25, 2.0), normal_kl(-1.0, 0.5, 0.25, 2.0)];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-14, "{g} vs {w}");
    }
}

#[test]
fn eval_refuses_bad_npy_files_with_the_cause() {
    let dir = temp_dir("eval-npy-bad");
    write(&dir, "m.npy", npy("<f8", "(2,)", &f8(&[0.5])));
    write(&dir, "s.npy", npy("<f8", "(2,)", &f8(&[1.0, 1.0])));
    let err = assert_user_error(&klc(&["eval", "Normal(m, s) || Normal(0, 1)", "--data", dir.to_str().unwrap()]));
    assert!(err.contains("m.npy") && err.contains("truncated data"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

fn eval_error(name: &str, src: &str, json: &str) -> String {
    let dir = temp_dir(name);
    let data = write(&dir, "d.json", json);
    assert_user_error(&klc(&["eval", src, "--data", &data]))
}

#[test]
fn eval_rejects_a_non_positive_scale() {
    let err = eval_error("scale", "Normal(m, s) || Normal(0, 1)", r#"{"m": [0, 1, 2], "s": [1, 0.5, -2]}"#);
    assert_eq!(err, "error: parameter `s` at batch index [2] must be > 0, found -2\n");
    let err = eval_error("scale0", "Normal(m, s) || Normal(0, 1)", r#"{"m": 0, "s": 0}"#);
    assert!(err.contains("must be > 0"), "{err}");
}

#[test]
fn eval_rejects_a_missing_parameter() {
    // Declared but absent from the data.
    let err = eval_error("missing-declared", "Normal(m, s) || Normal(0, 1) where m, s: [3]", r#"{"m": [0, 1, 2]}"#);
    assert_eq!(err, "error: no data given for parameter `s`\n");
    // Neither declared nor given: the compiler cannot know its shape.
    let err = eval_error("missing-undeclared", "Normal(m, s) || Normal(q, 1)", r#"{"m": [0, 1, 2]}"#);
    assert_eq!(err, "error: no data given for parameters `s`, `q`\n");
}

#[test]
fn eval_rejects_ragged_arrays() {
    let err = eval_error("ragged", "Normal(m, s) || Normal(0, 1)", r#"{"m": [[0, 1], [2]], "s": 1}"#);
    assert!(err.contains("parameter `m`: ragged array"), "{err}");
}

#[test]
fn eval_rejects_non_numeric_values() {
    let err = eval_error("string", "Normal(m, s) || Normal(0, 1)", r#"{"m": [0, "1"], "s": 1}"#);
    assert!(err.contains("found a string at index [1]"), "{err}");
}

#[test]
fn eval_rejects_invalid_json() {
    let err = eval_error("json", "Normal(m, s) || Normal(0, 1)", r#"{"m": [0, 1,], "s": 1}"#);
    assert!(err.contains("invalid JSON") && err.contains("line 1"), "{err}");
}

#[test]
fn eval_rejects_a_missing_data_file() {
    let dir = temp_dir("nofile");
    let path = dir.join("absent.json");
    let err = assert_user_error(&klc(&["eval", "Normal(m, s) || Normal(0, 1)", "--data", path.to_str().unwrap()]));
    assert!(err.starts_with("error: cannot read data file"), "{err}");
}

#[test]
fn eval_rejects_a_covariance_that_is_not_positive_definite() {
    let src = "MultivariateNormal(m, covariance_matrix=C) || MultivariateNormal(m, scale_tril=L)";
    let json = r#"{"m": [0, 0], "C": [[1, 2], [2, 1]], "L": [[1, 0], [0.5, 1]]}"#;
    let err = eval_error("non-pd", src, json);
    assert!(err.contains("parameter `C`") && err.contains("positive definite"), "{err}");
}

#[test]
fn eval_rejects_shape_errors_from_the_data() {
    let err = eval_error(
        "shape",
        "Normal(a, b).to_event(1) || Normal(c, d).to_event(1)",
        r#"{"a": [1, 2], "b": [1, 1], "c": [1, 2, 3], "d": [1, 1, 1]}"#,
    );
    assert!(err.contains("shape::event_mismatch") || err.contains("[2]") && err.contains("[3]"), "{err}");
}

#[test]
fn eval_rejects_data_no_parameter_reads() {
    // A misspelt name: the unused entry, with a suggestion, and the parameter left without data.
    let err = eval_error("unused-typo", "Normal(m, s) || Normal(0, 1)", r#"{"m": 1, "sigma": 2}"#);
    assert_eq!(
        err,
        "error: the data entry `sigma` is not a parameter of the expression; did you mean `s`?\n\
         error: no data given for parameter `s`\n"
    );
    // An extra entry beside complete data is an error too.
    let err = eval_error("unused-extra", "Normal(m, s) || Normal(0, 1)", r#"{"m": 1, "s": 1, "sigma": 2}"#);
    assert_eq!(err, "error: the data entry `sigma` is not a parameter of the expression; did you mean `s`?\n");
    // Nothing close: the parameters are listed.
    let err = eval_error("unused-far", "Normal(loc, scale) || Normal(0, 1)", r#"{"loc": 1, "scale": 1, "zzz": 2}"#);
    assert_eq!(
        err,
        "error: the data entry `zzz` is not a parameter of the expression; the parameters are `loc`, `scale`\n"
    );
}

#[test]
fn eval_rejects_a_name_given_twice() {
    let err = eval_error("duplicate", "Normal(m, s) || Normal(0, 1)", r#"{"m": 1, "s": 1, "m": 2}"#);
    assert!(err.starts_with("error: in data file") && err.contains("the entry `m` is given twice"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn eval_rejects_npy_files_no_parameter_reads() {
    let dir = temp_dir("eval-npy-unused");
    write(&dir, "m.npy", npy("<f8", "()", &f8(&[0.5])));
    write(&dir, "s.npy", npy("<f8", "()", &f8(&[1.0])));
    write(&dir, "sigma.npy", npy("<f8", "()", &f8(&[1.0])));
    // Files that do not end in `.npy` are not data.
    write(&dir, "README.txt", "not data");
    write(&dir, "m.npy.bak", "not data either");
    let err = assert_user_error(&klc(&["eval", "Normal(m, s) || Normal(0, 1)", "--data", dir.to_str().unwrap()]));
    assert_eq!(err, "error: the data entry `sigma` is not a parameter of the expression; did you mean `s`?\n");
    std::fs::remove_file(dir.join("sigma.npy")).unwrap();
    let (shape, got) = eval_json(&klc(&["eval", "Normal(m, s) || Normal(0, 1)", "--data", dir.to_str().unwrap()]));
    assert_eq!(shape, Vec::<usize>::new());
    assert!((got[0] - normal_kl(0.5, 1.0, 0.0, 1.0)).abs() < 1e-15);
}

#[test]
fn eval_prints_an_infinite_value_as_the_string_inf() {
    // KL = m²/2 = 5e599 overflows f64: the value is +inf, printed as the contract fixes it.
    let dir = temp_dir("overflow");
    let data = write(&dir, "d.json", r#"{"m": 1e300, "s": 1}"#);
    let o = klc(&["eval", "Normal(m, s) || Normal(0, 1)", "--data", &data]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "{\"shape\":[],\"value\":\"inf\"}\n");
}

#[test]
fn eval_grad_prints_each_parameters_gradient_in_its_shape() {
    let dir = temp_dir("eval-grad");
    let data = write(&dir, "d.json", r#"{"m1": [[0.5], [-1.0]], "s1": [1.5], "m2": 0.0, "s2": 2.0}"#);
    let o = klc(&["eval", "Normal(m1, s1) || Normal(m2, s2)", "--data", &data, "--grad"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(out["shape"], serde_json::json!([2, 1]));
    // Textbook derivatives of the summed KL; `s1`, `m2`, `s2` broadcast, so their gradients
    // sum over the batch.
    let (s1, s2) = (1.5_f64, 2.0_f64);
    let dm = [0.5_f64, -1.0];
    let g = &out["grad"];
    assert_eq!(g["m1"], serde_json::json!([[dm[0] / (s2 * s2)], [dm[1] / (s2 * s2)]]));
    let ds1: f64 = 2.0 * (s1 / (s2 * s2) - 1.0 / s1);
    let dm2: f64 = dm.iter().map(|d| -d / (s2 * s2)).sum();
    let ds2: f64 = dm.iter().map(|d| 1.0 / s2 - (s1 * s1 + d * d) / s2.powi(3)).sum();
    let close = |v: &serde_json::Value, w: f64| (v.as_f64().unwrap() - w).abs() <= 1e-15 * w.abs().max(1.0);
    assert!(close(&g["s1"][0], ds1), "{g}");
    assert!(close(&g["m2"], dm2) && close(&g["s2"], ds2), "{g}");
    assert_eq!(g.as_object().unwrap().len(), 4);
    // f32 works too.
    let o = klc(&["eval", "Normal(m1, s1) || Normal(m2, s2)", "--data", &data, "--grad", "--dtype", "f32"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!((out["grad"]["s1"][0].as_f64().unwrap() - ds1).abs() < 1e-6);
}

#[test]
fn eval_grad_errors_like_eval() {
    let dir = temp_dir("eval-grad-err");
    let data = write(&dir, "d.json", r#"{"m": [0, 0], "L": [[1, 0.2], [0.2, 1]], "K": [[1, 2], [2, 1]]}"#);
    let src = "MultivariateNormal(m, precision_matrix=L) || MultivariateNormal(m, precision_matrix=K)";
    let err = assert_user_error(&klc(&["eval", src, "--data", &data, "--grad"]));
    assert!(err.contains("parameter `K` must be positive definite"), "{err}");
    let err = eval_error("grad-bad-scale", "Normal(m, s) || Normal(0, 1)", r#"{"m": 0, "s": -1}"#);
    assert!(err.contains("must be > 0"), "{err}");
}

#[test]
fn eval_rejects_nan_and_overflowing_inputs() {
    // A value that overflows f32 becomes infinite and is refused.
    let dir = temp_dir("f32-overflow2");
    let data = write(&dir, "d.json", r#"{"m": 1e300, "s": 1}"#);
    let err = assert_user_error(&klc(&["eval", "Normal(m, s) || Normal(0, 1)", "--data", &data, "--dtype", "f32"]));
    assert!(err.contains("must be finite"), "{err}");
    let dir = temp_dir("nan-npy");
    write(&dir, "m.npy", npy("<f8", "()", &f8(&[f64::NAN])));
    write(&dir, "s.npy", npy("<f8", "()", &f8(&[1.0])));
    let err = assert_user_error(&klc(&["eval", "Normal(m, s) || Normal(0, 1)", "--data", dir.to_str().unwrap()]));
    assert!(err.contains("parameter `m`") && err.contains("NaN"), "{err}");
}
