//! Differential tests: the same expressions on the same random inputs through every route kl
//! offers, which must agree with each other and with independent references.
//!
//! Routes: `kl!` with shapes from Rust types (fixed-size arrays, `Vec<[f64; N]>`, slices; the
//! interpreter), `kl!` with a `where` clause over flat `Vec<f64>` buffers (the emitted code), a
//! `kl_fn!` item with its `_into` and `_into_unchecked` forms, and `klc eval` run as a
//! subprocess. f64 routes agree to 1e-12 relative; f32 routes agree with f64 to 1e-5.
//!
//! References: textbook closed forms written out here (explicit 2x2 / 3x3 inverses and
//! determinants, no Cholesky), and the mpmath cases of `tests/reference/cases.json`.

use kl::{kl, kl_fn, Error, Rule, Tensor};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Agreement between f64 routes (different summation orders and fused kernels only).
const F64_RTOL: f64 = 1e-12;
/// Agreement of an f32 route with the f64 result on the same (f32-representable) inputs.
const F32_RTOL: f64 = 1e-5;
/// Agreement with the mpmath references on well-conditioned and extreme-scale cases.
const REFERENCE_RTOL: f64 = 1e-13;

// ---------------------------------------------------------------------------------------------
// Inputs: deterministic, valid, and exactly representable in f32 so that the f32 routes see the
// same numbers as the f64 ones.

/// A batch of `N`-vectors, shape `[B, N]`.
type Rows<const N: usize> = Vec<[f64; N]>;
/// An `N x N` matrix.
type Mat<const N: usize> = [[f64; N]; N];
/// A low-rank factor `[D, R]`.
type Factor<const D: usize, const R: usize> = [[f64; R]; D];

/// splitmix64 (Steele, Lea, Flood 2014).
struct Rng(kl_runtime::testing::SplitMix64);

fn f32_exact(x: f64) -> f64 {
    x as f32 as f64
}

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(kl_runtime::testing::SplitMix64(seed))
    }

    /// Uniform in `[lo, hi)`, rounded to f32.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        f32_exact(self.0.uniform(lo, hi))
    }

    fn loc(&mut self) -> f64 {
        self.uniform(-2.0, 2.0)
    }

    fn scale(&mut self) -> f64 {
        self.uniform(0.5, 2.0)
    }

    fn small(&mut self) -> f64 {
        self.uniform(-0.7, 0.7)
    }

    fn vec<const N: usize>(&mut self, f: fn(&mut Rng) -> f64) -> [f64; N] {
        std::array::from_fn(|_| f(self))
    }

    fn rows<const N: usize>(&mut self, n: usize, f: fn(&mut Rng) -> f64) -> Vec<[f64; N]> {
        (0..n).map(|_| self.vec(f)).collect()
    }

    /// A Aᵀ + I, exactly symmetric.
    fn spd<const N: usize>(&mut self) -> [[f64; N]; N] {
        let a: [[f64; N]; N] = std::array::from_fn(|_| self.vec(Rng::loc));
        let mut c = [[0.0; N]; N];
        for i in 0..N {
            for j in 0..=i {
                let dot: f64 = (0..N).map(|k| a[i][k] * a[j][k]).sum();
                c[i][j] = f32_exact(dot + if i == j { 1.0 } else { 0.0 });
                c[j][i] = c[i][j];
            }
        }
        c
    }

    /// Lower triangular with a positive diagonal.
    fn tril<const N: usize>(&mut self) -> [[f64; N]; N] {
        std::array::from_fn(|i| {
            std::array::from_fn(|j| match j.cmp(&i) {
                std::cmp::Ordering::Less => self.small(),
                std::cmp::Ordering::Equal => self.scale(),
                std::cmp::Ordering::Greater => 0.0,
            })
        })
    }

    /// A low-rank factor `[D, R]`.
    fn factor<const D: usize, const R: usize>(&mut self) -> Factor<D, R> {
        std::array::from_fn(|_| self.vec(Rng::small))
    }
}

/// Row-major flattening, written here rather than taken from `kl::Input`.
trait Flat<E> {
    fn push_to(&self, out: &mut Vec<E>);
    fn flat(&self) -> Vec<E> {
        let mut out = Vec::new();
        self.push_to(&mut out);
        out
    }
}

impl Flat<f64> for f64 {
    fn push_to(&self, out: &mut Vec<f64>) {
        out.push(*self);
    }
}

impl Flat<f32> for f32 {
    fn push_to(&self, out: &mut Vec<f32>) {
        out.push(*self);
    }
}

impl<E, T: Flat<E>, const N: usize> Flat<E> for [T; N] {
    fn push_to(&self, out: &mut Vec<E>) {
        self.iter().for_each(|x| x.push_to(out));
    }
}

impl<E, T: Flat<E>> Flat<E> for [T] {
    fn push_to(&self, out: &mut Vec<E>) {
        self.iter().for_each(|x| x.push_to(out));
    }
}

impl<E, T: Flat<E>> Flat<E> for Vec<T> {
    fn push_to(&self, out: &mut Vec<E>) {
        self.as_slice().push_to(out);
    }
}

/// The same values as f32 (exact: every generated number is f32-representable).
trait Narrow {
    type Out;
    fn narrow(&self) -> Self::Out;
}

impl Narrow for f64 {
    type Out = f32;
    fn narrow(&self) -> f32 {
        *self as f32
    }
}

impl<T: Narrow, const N: usize> Narrow for [T; N] {
    type Out = [T::Out; N];
    fn narrow(&self) -> Self::Out {
        std::array::from_fn(|i| self[i].narrow())
    }
}

impl<T: Narrow> Narrow for Vec<T> {
    type Out = Vec<T::Out>;
    fn narrow(&self) -> Self::Out {
        self.iter().map(Narrow::narrow).collect()
    }
}

/// Run an `_into` form into a NaN-filled buffer of `shape`, so an unwritten entry shows.
fn run_into<T: kl::runtime::Real>(shape: &[usize], f: impl FnOnce(&mut [T]) -> Result<(), Error>) -> Tensor<T> {
    let mut out = vec![T::NAN; shape.iter().product()];
    f(&mut out).unwrap_or_else(|e| panic!("`_into` form failed: {e}"));
    Tensor { shape: shape.to_vec(), data: out }
}

// ---------------------------------------------------------------------------------------------
// `klc eval` as a subprocess.

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `CARGO_TARGET_DIR` when set at run time (relative to the workspace), else `<workspace>/target`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest_dir().join(dir),
        None => manifest_dir().join("target"),
    }
}

/// Build `klc` once per test run and return its path. Cargo reports the executable it built;
/// the target directory is the fallback.
fn klc() -> &'static Path {
    static KLC: OnceLock<PathBuf> = OnceLock::new();
    KLC.get_or_init(|| {
        let out = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "klc", "--bin", "klc", "--message-format=json"])
            .current_dir(manifest_dir())
            .output()
            .expect("cannot run cargo");
        assert!(out.status.success(), "building klc failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let reported = String::from_utf8_lossy(&out.stdout).lines().find_map(|line| {
            let msg: Value = serde_json::from_str(line).ok()?;
            (msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "klc")
                .then(|| msg["executable"].as_str().map(PathBuf::from))
                .flatten()
        });
        let path =
            reported.unwrap_or_else(|| target_dir().join("debug").join(format!("klc{}", std::env::consts::EXE_SUFFIX)));
        assert!(path.is_file(), "no klc binary at {}", path.display());
        path
    })
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `klc eval EXPR --data FILE.json [--dtype f32]` with `data` written to a fresh temp file.
fn klc_eval(expr: &str, data: &Value, dtype: &str) -> Run {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!("kl-differential-{}-{n}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string(data).unwrap()).unwrap();
    let out = Command::new(klc())
        .args(["eval", expr, "--data"])
        .arg(&file)
        .args(["--dtype", dtype])
        .output()
        .expect("cannot run klc");
    let _ = std::fs::remove_file(&file);
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A JSON number or nest of arrays as a tensor.
fn tensor(v: &Value) -> Tensor<f64> {
    fn walk(v: &Value, depth: usize, shape: &mut Vec<usize>, data: &mut Vec<f64>) {
        match v {
            Value::Number(n) => data.push(n.as_f64().unwrap()),
            // `klc eval` and the references write an infinity as the string "inf".
            Value::String(s) if s == "inf" => data.push(f64::INFINITY),
            Value::String(s) if s == "-inf" => data.push(f64::NEG_INFINITY),
            Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                }
                assert_eq!(shape[depth], items.len(), "ragged JSON array: {v}");
                items.iter().for_each(|x| walk(x, depth + 1, shape, data));
            }
            other => panic!("not a number or an array: {other}"),
        }
    }
    let (mut shape, mut data) = (Vec::new(), Vec::new());
    walk(v, 0, &mut shape, &mut data);
    Tensor::new(shape, data).expect("consistent shape")
}

fn shape_of(v: &Value) -> Vec<usize> {
    v.as_array().expect("shape is an array").iter().map(|d| d.as_u64().unwrap() as usize).collect()
}

/// The value `klc eval` prints, checking that its `shape` field matches the nesting.
fn klc_value(expr: &str, data: &Value, dtype: &str) -> Tensor<f64> {
    let run = klc_eval(expr, data, dtype);
    assert_eq!(run.code, Some(0), "klc eval `{expr}` --dtype {dtype} failed:\n{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let mut t = tensor(&out["value"]);
    let shape = shape_of(&out["shape"]);
    if shape.is_empty() {
        assert!(out["value"].is_number(), "{}", run.stdout);
    }
    // `[0]`-sized results nest as `[]`, which has no inner dims to recover.
    assert_eq!(t.data.len(), shape.iter().product::<usize>(), "{}", run.stdout);
    t.shape = shape;
    t
}

// ---------------------------------------------------------------------------------------------
// Comparison.

fn close(a: f64, b: f64, rtol: f64) -> bool {
    a == b || (a - b).abs() <= rtol * a.abs().max(b.abs())
}

/// Every mismatch between two tensors, one line each.
fn mismatches(what: &str, got: &Tensor<f64>, want: &Tensor<f64>, rtol: f64) -> Vec<String> {
    if got.shape != want.shape {
        return vec![format!("{what}: shape {:?}, expected {:?}", got.shape, want.shape)];
    }
    got.data
        .iter()
        .zip(&want.data)
        .enumerate()
        .filter(|(_, (g, w))| !close(**g, **w, rtol))
        .map(|(k, (g, w))| format!("{what}: element {k}: {g:e} vs {w:e} (relative {:.1e})", ((g - w) / w).abs()))
        .collect()
}

fn assert_close(what: &str, got: &Tensor<f64>, want: &Tensor<f64>, rtol: f64) {
    let bad = mismatches(what, got, want, rtol);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Every route against `klc eval` on the same data: equal shapes, f64 values within
/// [`F64_RTOL`]; f32 routes and `klc eval --dtype f32` within [`F32_RTOL`] of `klc eval`'s f64.
fn agree(expr: &str, data: &Value, f64_routes: &[(&str, &Tensor<f64>)], f32_routes: &[(&str, &Tensor<f32>)]) {
    let reference = klc_value(expr, data, "f64");
    let klc32 = klc_value(expr, data, "f32");
    let mut bad = Vec::new();
    for (route, t) in f64_routes {
        bad.extend(mismatches(route, t, &reference, F64_RTOL));
    }
    bad.extend(mismatches("klc eval --dtype f32", &klc32, &reference, F32_RTOL));
    for (route, t) in f32_routes {
        bad.extend(mismatches(route, &t.cast::<f64>(), &reference, F32_RTOL));
    }
    assert!(bad.is_empty(), "routes disagree with `klc eval` on `{expr}`, data {data}:\n{}", bad.join("\n"));
    assert!(reference.data.iter().all(|v| v.is_finite()), "{expr}: {reference:?}");
}

// ---------------------------------------------------------------------------------------------
// 1. The routes agree: Normal and its parameterizations.

kl_fn! {
    fn normal_item(m1: [B], s1: [B], m2: [B], s2: [B]) -> f64 { Normal(m1, s1) || Normal(m2, s2) }
}

kl_fn! {
    fn normal_item32(m1: [B], s1: [B], m2: [B], s2: [B]) -> f32 { Normal(m1, s1) || Normal(m2, s2) }
}

#[test]
fn normal_elementwise() {
    let mut rng = Rng::new(1);
    let (m1, s1, m2, s2): ([f64; 5], [f64; 5], [f64; 5], [f64; 5]) =
        (rng.vec(Rng::loc), rng.vec(Rng::scale), rng.vec(Rng::loc), rng.vec(Rng::scale));
    let typed = kl!(Normal(m1, s1) || Normal(m2, s2)).unwrap();
    let sliced = {
        let (m1, s1, m2, s2) = (&m1[..], &s1[..], &m2[..], &s2[..]);
        kl!(Normal(m1, s1) || Normal(m2, s2)).unwrap()
    };
    let declared = {
        let (m1, s1, m2, s2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (m1.flat(), s1.flat(), m2.flat(), s2.flat());
        kl!(Normal(m1, s1) || Normal(m2, s2) where m1, s1, m2, s2: [B]).unwrap()
    };
    let item = normal_item(&m1, &s1, &m2, &s2).unwrap();
    let into = run_into(&[5], |out| normal_item_into(&m1, &s1, &m2, &s2, 5, out));
    let unchecked = run_into(&[5], |out| normal_item_into_unchecked(&m1, &s1, &m2, &s2, 5, out));

    let (n1, t1, n2, t2) = (m1.narrow(), s1.narrow(), m2.narrow(), s2.narrow());
    let typed32 = {
        let (m1, s1, m2, s2) = (n1, t1, n2, t2);
        kl!(Normal(m1, s1) || Normal(m2, s2)).unwrap()
    };
    let declared32 = {
        let (m1, s1, m2, s2): (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) = (n1.flat(), t1.flat(), n2.flat(), t2.flat());
        kl!(Normal(m1, s1) || Normal(m2, s2) where m1, s1, m2, s2: [B]).unwrap()
    };
    let item32 = normal_item32(&n1, &t1, &n2, &t2).unwrap();
    let into32 = run_into(&[5], |out| normal_item32_into(&n1, &t1, &n2, &t2, 5, out));
    let unchecked32 = run_into(&[5], |out| normal_item32_into_unchecked(&n1, &t1, &n2, &t2, 5, out));

    agree(
        "Normal(m1, s1) || Normal(m2, s2)",
        &json!({"m1": m1, "s1": s1, "m2": m2, "s2": s2}),
        &[
            ("kl! [f64; 5]", &typed),
            ("kl! &[f64]", &sliced),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[
            ("kl! [f32; 5]", &typed32),
            ("kl! where f32", &declared32),
            ("kl_fn! f32", &item32),
            ("kl_fn! f32 _into", &into32),
            ("kl_fn! f32 _into_unchecked", &unchecked32),
        ],
    );
}

kl_fn! {
    fn diag_item(m1: [B, 3], s1: [B, 3], m2: [B, 3], s2: [B, 3]) -> f64 {
        Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)
    }
}

kl_fn! {
    fn diag_item32(m1: [B, 3], s1: [B, 3], m2: [B, 3], s2: [B, 3]) -> f32 {
        Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)
    }
}

#[test]
fn diagonal_to_event() {
    let mut rng = Rng::new(2);
    let b = 4;
    let (m1, s1, m2, s2): (Rows<3>, Rows<3>, Rows<3>, Rows<3>) =
        (rng.rows(b, Rng::loc), rng.rows(b, Rng::scale), rng.rows(b, Rng::loc), rng.rows(b, Rng::scale));
    let typed = kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap();
    let sliced = {
        let (m1, s1, m2, s2) = (&m1[..], &s1[..], &m2[..], &s2[..]);
        kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap()
    };
    let fixed = {
        let rows = |v: &Rows<3>| -> [[f64; 3]; 4] { std::array::from_fn(|i| v[i]) };
        let (m1, s1, m2, s2) = (rows(&m1), rows(&s1), rows(&m2), rows(&s2));
        kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap()
    };
    let (fm1, fs1, fm2, fs2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (m1.flat(), s1.flat(), m2.flat(), s2.flat());
    let declared = {
        let (m1, s1, m2, s2) = (&fm1, &fs1, &fm2, &fs2);
        kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [B, 3]).unwrap()
    };
    // A `where` clause over values whose types already have the declared rank.
    let declared_rows =
        kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [B, 3]).unwrap();
    let item = diag_item(&m1, &s1, &m2, &s2).unwrap();
    let item_flat = diag_item(&fm1, &fs1, &fm2, &fs2).unwrap();
    let into = run_into(&[b], |out| diag_item_into(&fm1, &fs1, &fm2, &fs2, b, out));
    let unchecked = run_into(&[b], |out| diag_item_into_unchecked(&fm1, &fs1, &fm2, &fs2, b, out));

    let (n1, t1, n2, t2) = (m1.narrow(), s1.narrow(), m2.narrow(), s2.narrow());
    let typed32 = {
        let (m1, s1, m2, s2) = (&n1, &t1, &n2, &t2);
        kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap()
    };
    let item32 = diag_item32(&n1, &t1, &n2, &t2).unwrap();
    let (gm1, gs1, gm2, gs2): (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) = (n1.flat(), t1.flat(), n2.flat(), t2.flat());
    let unchecked32 = run_into(&[b], |out| diag_item32_into_unchecked(&gm1, &gs1, &gm2, &gs2, b, out));

    agree(
        "Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)",
        &json!({"m1": m1, "s1": s1, "m2": m2, "s2": s2}),
        &[
            ("kl! Vec<[f64; 3]>", &typed),
            ("kl! &[[f64; 3]]", &sliced),
            ("kl! [[f64; 3]; 4]", &fixed),
            ("kl! where (flat)", &declared),
            ("kl! where (rows)", &declared_rows),
            ("kl_fn!", &item),
            ("kl_fn! (flat)", &item_flat),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! Vec<[f32; 3]>", &typed32), ("kl_fn! f32", &item32), ("kl_fn! f32 _into_unchecked", &unchecked32)],
    );
}

kl_fn! {
    fn var_precision_item(m1: [B, 3], v1: [B, 3], m2: [B, 3], p2: [B, 3]) -> f64 {
        Normal(m1, var=v1).to_event(1) || Normal(m2, precision=p2).to_event(1)
    }
}

#[test]
fn normal_var_and_precision() {
    let mut rng = Rng::new(3);
    let b = 3;
    let (m1, v1, m2, p2): (Rows<3>, Rows<3>, Rows<3>, Rows<3>) =
        (rng.rows(b, Rng::loc), rng.rows(b, Rng::scale), rng.rows(b, Rng::loc), rng.rows(b, Rng::scale));
    let typed = kl!(Normal(m1, var = v1).to_event(1) || Normal(m2, precision = p2).to_event(1)).unwrap();
    let (fm1, fv1, fm2, fp2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (m1.flat(), v1.flat(), m2.flat(), p2.flat());
    let declared = {
        let (m1, v1, m2, p2) = (&fm1, &fv1, &fm2, &fp2);
        kl!(Normal(m1, var = v1).to_event(1) || Normal(m2, precision = p2).to_event(1) where m1, v1, m2, p2: [B, 3])
            .unwrap()
    };
    let item = var_precision_item(&m1, &v1, &m2, &p2).unwrap();
    let into = run_into(&[b], |out| var_precision_item_into(&fm1, &fv1, &fm2, &fp2, b, out));
    let unchecked = run_into(&[b], |out| var_precision_item_into_unchecked(&fm1, &fv1, &fm2, &fp2, b, out));
    let typed32 = {
        let (m1, v1, m2, p2) = (m1.narrow(), v1.narrow(), m2.narrow(), p2.narrow());
        kl!(Normal(m1, var = v1).to_event(1) || Normal(m2, precision = p2).to_event(1)).unwrap()
    };
    agree(
        "Normal(m1, var=v1).to_event(1) || Normal(m2, precision=p2).to_event(1)",
        &json!({"m1": m1, "v1": v1, "m2": m2, "p2": p2}),
        &[
            ("kl!", &typed),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! f32", &typed32)],
    );
    // The same KL through the `scale` parameterization: σ = √v and σ = 1/√p.
    let s1: Rows<3> = v1.iter().map(|r| r.map(f64::sqrt)).collect();
    let s2: Rows<3> = p2.iter().map(|r| r.map(|p| 1.0 / p.sqrt())).collect();
    let by_scale = kl!(Normal(m1, scale = s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap();
    assert_close("var/precision vs scale", &typed, &by_scale, 1e-14);
}

kl_fn! {
    fn log_scale_item(m1: [B], l1: [B], m2: [B], s2: [B]) -> f64 {
        Normal(m1, log_scale=l1) || Normal(m2, scale=s2)
    }
}

#[test]
fn normal_log_scale() {
    let mut rng = Rng::new(4);
    let (m1, l1, m2, s2): ([f64; 6], [f64; 6], [f64; 6], [f64; 6]) =
        (rng.vec(Rng::loc), rng.vec(Rng::small), rng.vec(Rng::loc), rng.vec(Rng::scale));
    let typed = kl!(Normal(m1, log_scale = l1) || Normal(m2, scale = s2)).unwrap();
    let declared = {
        let (m1, l1, m2, s2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (m1.flat(), l1.flat(), m2.flat(), s2.flat());
        kl!(Normal(m1, log_scale = l1) || Normal(m2, scale = s2) where m1, l1, m2, s2: [B]).unwrap()
    };
    let item = log_scale_item(&m1, &l1, &m2, &s2).unwrap();
    let into = run_into(&[6], |out| log_scale_item_into(&m1, &l1, &m2, &s2, 6, out));
    let unchecked = run_into(&[6], |out| log_scale_item_into_unchecked(&m1, &l1, &m2, &s2, 6, out));
    let typed32 = {
        let (m1, l1, m2, s2) = (m1.narrow(), l1.narrow(), m2.narrow(), s2.narrow());
        kl!(Normal(m1, log_scale = l1) || Normal(m2, scale = s2)).unwrap()
    };
    agree(
        "Normal(m1, log_scale=l1) || Normal(m2, scale=s2)",
        &json!({"m1": m1, "l1": l1, "m2": m2, "s2": s2}),
        &[
            ("kl!", &typed),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! f32", &typed32)],
    );
}

kl_fn! {
    fn broadcast_item(m1: [2, 1], s1: [2, 1], m2: [3], s2: [3]) -> f64 {
        Normal(m1, s1) || Normal(m2, s2)
    }
}

/// `[2, 1]` against `[3]` broadcasts to `[2, 3]`; a literal scale broadcasts too.
#[test]
fn broadcasting_batches_and_literals() {
    let mut rng = Rng::new(5);
    let m1: [[f64; 1]; 2] = [[rng.loc()], [rng.loc()]];
    let s1: [[f64; 1]; 2] = [[rng.scale()], [rng.scale()]];
    let (m2, s2): ([f64; 3], [f64; 3]) = (rng.vec(Rng::loc), rng.vec(Rng::scale));
    let typed = kl!(Normal(m1, s1) || Normal(m2, s2)).unwrap();
    let (fm1, fs1): (Vec<f64>, Vec<f64>) = (m1.flat(), s1.flat());
    let declared = {
        let (m1, s1, m2, s2) = (&fm1, &fs1, m2.to_vec(), s2.to_vec());
        kl!(Normal(m1, s1) || Normal(m2, s2) where m1, s1: [2, 1], m2, s2: [3]).unwrap()
    };
    let item = broadcast_item(&m1, &s1, &m2, &s2).unwrap();
    let into = run_into(&[2, 3], |out| broadcast_item_into(&fm1, &fs1, &m2, &s2, out));
    let unchecked = run_into(&[2, 3], |out| broadcast_item_into_unchecked(&fm1, &fs1, &m2, &s2, out));
    let typed32 = {
        let (m1, s1, m2, s2) = (m1.narrow(), s1.narrow(), m2.narrow(), s2.narrow());
        kl!(Normal(m1, s1) || Normal(m2, s2)).unwrap()
    };
    agree(
        "Normal(m1, s1) || Normal(m2, s2)",
        &json!({"m1": m1, "s1": s1, "m2": m2, "s2": s2}),
        &[
            ("kl!", &typed),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! f32", &typed32)],
    );
    assert_eq!(typed.shape, [2, 3]);

    let lit = kl!(Normal(m2, 1.5) || Normal(0, s2)).unwrap();
    let lit_declared = {
        let (m2, s2) = (m2.to_vec(), s2.to_vec());
        kl!(Normal(m2, 1.5) || Normal(0, s2) where m2, s2: [N]).unwrap()
    };
    agree(
        "Normal(m2, 1.5) || Normal(0, s2)",
        &json!({"m2": m2, "s2": s2}),
        &[("kl! literals", &lit), ("kl! literals where", &lit_declared)],
        &[],
    );
}

kl_fn! {
    fn prior_item(mu: [B, 4], sigma: [B, 4]) -> f64 {
        Normal(mu, sigma).to_event(1) || Normal(0, 1).expand([4]).to_event(1)
    }
}

#[test]
fn standard_prior_with_expand() {
    let mut rng = Rng::new(6);
    let b = 3;
    let (mu, sigma): (Rows<4>, Rows<4>) = (rng.rows(b, Rng::loc), rng.rows(b, Rng::scale));
    let typed = kl!(Normal(mu, sigma).to_event(1) || Normal(0, 1).expand([4]).to_event(1)).unwrap();
    let (fmu, fsigma): (Vec<f64>, Vec<f64>) = (mu.flat(), sigma.flat());
    let declared = {
        let (mu, sigma) = (&fmu, &fsigma);
        kl!(Normal(mu, sigma).to_event(1) || Normal(0, 1).expand([B, 4]).to_event(1) where mu, sigma: [B, 4]).unwrap()
    };
    let item = prior_item(&mu, &sigma).unwrap();
    let into = run_into(&[b], |out| prior_item_into(&fmu, &fsigma, b, out));
    let unchecked = run_into(&[b], |out| prior_item_into_unchecked(&fmu, &fsigma, b, out));
    let reversed = kl!(Normal(0, 1).expand([4]).to_event(1) || Normal(mu, sigma).to_event(1)).unwrap();
    let typed32 = {
        let (mu, sigma) = (mu.narrow(), sigma.narrow());
        kl!(Normal(mu, sigma).to_event(1) || Normal(0, 1).expand([4]).to_event(1)).unwrap()
    };
    let data = json!({"mu": mu, "sigma": sigma});
    agree(
        "Normal(mu, sigma).to_event(1) || Normal(0, 1).expand([4]).to_event(1)",
        &data,
        &[
            ("kl!", &typed),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! f32", &typed32)],
    );
    agree("Normal(0, 1).expand([4]).to_event(1) || Normal(mu, sigma).to_event(1)", &data, &[("kl!", &reversed)], &[]);
}

kl_fn! {
    fn nested_item(m1: [B, 2, 3], s1: [B, 2, 3], m2: [B, 2, 3], s2: [B, 2, 3]) -> f64 {
        Normal(m1, s1).to_event(2) || Independent(Normal(m2, s2).to_event(1), 1)
    }
}

/// `.to_event(2)` against a nested `Independent(.., 1).to_event(1)`: the same event `[2, 3]`.
#[test]
fn nested_to_event_against_to_event_2() {
    let mut rng = Rng::new(7);
    let b = 2;
    let mut field =
        |f: fn(&mut Rng) -> f64| -> Vec<[[f64; 3]; 2]> { (0..b).map(|_| [rng.vec(f), rng.vec(f)]).collect() };
    let (m1, s1, m2, s2) = (field(Rng::loc), field(Rng::scale), field(Rng::loc), field(Rng::scale));
    let typed = kl!(Normal(m1, s1).to_event(2) || Independent(Normal(m2, s2).to_event(1), 1)).unwrap();
    let (fm1, fs1, fm2, fs2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (m1.flat(), s1.flat(), m2.flat(), s2.flat());
    let declared = {
        let (m1, s1, m2, s2) = (&fm1, &fs1, &fm2, &fs2);
        kl!(Normal(m1, s1).to_event(2) || Independent(Normal(m2, s2).to_event(1), 1) where m1, s1, m2, s2: [B, 2, 3])
            .unwrap()
    };
    let item = nested_item(&m1, &s1, &m2, &s2).unwrap();
    let into = run_into(&[b], |out| nested_item_into(&fm1, &fs1, &fm2, &fs2, b, out));
    let unchecked = run_into(&[b], |out| nested_item_into_unchecked(&fm1, &fs1, &fm2, &fs2, b, out));
    let typed32 = {
        let (m1, s1, m2, s2) = (m1.narrow(), s1.narrow(), m2.narrow(), s2.narrow());
        kl!(Normal(m1, s1).to_event(2) || Independent(Normal(m2, s2).to_event(1), 1)).unwrap()
    };
    agree(
        "Normal(m1, s1).to_event(2) || Independent(Normal(m2, s2).to_event(1), 1)",
        &json!({"m1": m1, "s1": s1, "m2": m2, "s2": s2}),
        &[
            ("kl!", &typed),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! f32", &typed32)],
    );
}

// ---------------------------------------------------------------------------------------------
// 1. The routes agree: multivariate normals, every parameterization, both mixed directions.

kl_fn! {
    fn cov_tril_item(m1: [3], c1: [3, 3], m2: [3], l2: [3, 3]) -> f64 {
        MultivariateNormal(m1, covariance_matrix=c1) || MultivariateNormal(m2, scale_tril=l2)
    }
}

#[test]
fn mvn_covariance_against_scale_tril() {
    let mut rng = Rng::new(8);
    let (m1, c1, m2, l2): ([f64; 3], Mat<3>, [f64; 3], Mat<3>) =
        (rng.vec(Rng::loc), rng.spd(), rng.vec(Rng::loc), rng.tril());
    let typed = kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, scale_tril = l2)).unwrap();
    let (fc1, fl2): (Vec<f64>, Vec<f64>) = (c1.flat(), l2.flat());
    let declared = {
        let (m1, c1, m2, l2) = (m1.to_vec(), &fc1, m2.to_vec(), &fl2);
        kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, scale_tril = l2)
            where m1, m2: [3], c1, l2: [3, 3])
        .unwrap()
    };
    let item = cov_tril_item(&m1, &c1, &m2, &l2).unwrap();
    let into = run_into(&[], |out| cov_tril_item_into(&m1, &fc1, &m2, &fl2, out));
    let unchecked = run_into(&[], |out| cov_tril_item_into_unchecked(&m1, &fc1, &m2, &fl2, out));
    let typed32 = {
        let (m1, c1, m2, l2) = (m1.narrow(), c1.narrow(), m2.narrow(), l2.narrow());
        kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, scale_tril = l2)).unwrap()
    };
    agree(
        "MultivariateNormal(m1, covariance_matrix=c1) || MultivariateNormal(m2, scale_tril=l2)",
        &json!({"m1": m1, "c1": c1, "m2": m2, "l2": l2}),
        &[
            ("kl!", &typed),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! f32", &typed32)],
    );
    assert!(typed.shape.is_empty());
}

kl_fn! {
    fn prec_cov_item(m1: [2], p1: [2, 2], m2: [2], c2: [2, 2]) -> f64 {
        MultivariateNormal(m1, precision_matrix=p1) || MultivariateNormal(m2, covariance_matrix=c2)
    }
}

#[test]
fn mvn_precision_against_covariance() {
    let mut rng = Rng::new(9);
    let (m1, p1, m2, c2): ([f64; 2], Mat<2>, [f64; 2], Mat<2>) =
        (rng.vec(Rng::loc), rng.spd(), rng.vec(Rng::loc), rng.spd());
    let typed =
        kl!(MultivariateNormal(m1, precision_matrix = p1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap();
    let (fp1, fc2): (Vec<f64>, Vec<f64>) = (p1.flat(), c2.flat());
    let declared = {
        let (m1, p1, m2, c2) = (m1.to_vec(), &fp1, m2.to_vec(), &fc2);
        kl!(MultivariateNormal(m1, precision_matrix = p1) || MultivariateNormal(m2, covariance_matrix = c2)
            where m1, m2: [2], p1, c2: [2, 2])
        .unwrap()
    };
    let item = prec_cov_item(&m1, &p1, &m2, &c2).unwrap();
    let into = run_into(&[], |out| prec_cov_item_into(&m1, &fp1, &m2, &fc2, out));
    let unchecked = run_into(&[], |out| prec_cov_item_into_unchecked(&m1, &fp1, &m2, &fc2, out));
    let typed32 = {
        let (m1, p1, m2, c2) = (m1.narrow(), p1.narrow(), m2.narrow(), c2.narrow());
        kl!(MultivariateNormal(m1, precision_matrix = p1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap()
    };
    agree(
        "MultivariateNormal(m1, precision_matrix=p1) || MultivariateNormal(m2, covariance_matrix=c2)",
        &json!({"m1": m1, "p1": p1, "m2": m2, "c2": c2}),
        &[
            ("kl!", &typed),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! f32", &typed32)],
    );
}

kl_fn! {
    fn low_rank_item(m1: [3], w1: [3, 2], d1: [3], m2: [3], p2: [3, 3]) -> f64 {
        LowRankMultivariateNormal(m1, cov_factor=w1, cov_diag=d1) || MultivariateNormal(m2, precision_matrix=p2)
    }
}

#[test]
fn low_rank_against_precision_and_back() {
    let mut rng = Rng::new(10);
    let (m1, w1, d1, m2, p2): ([f64; 3], Factor<3, 2>, [f64; 3], [f64; 3], Mat<3>) =
        (rng.vec(Rng::loc), rng.factor(), rng.vec(Rng::scale), rng.vec(Rng::loc), rng.spd());
    let typed =
        kl!(LowRankMultivariateNormal(m1, cov_factor = w1, cov_diag = d1)
            || MultivariateNormal(m2, precision_matrix = p2))
        .unwrap();
    let (fw1, fp2): (Vec<f64>, Vec<f64>) = (w1.flat(), p2.flat());
    let declared = {
        let (m1, w1, d1, m2, p2) = (m1.to_vec(), &fw1, d1.to_vec(), m2.to_vec(), &fp2);
        kl!(LowRankMultivariateNormal(m1, cov_factor = w1, cov_diag = d1) || MultivariateNormal(m2, precision_matrix = p2)
            where m1, d1, m2: [3], w1: [3, 2], p2: [3, 3])
        .unwrap()
    };
    let item = low_rank_item(&m1, &w1, &d1, &m2, &p2).unwrap();
    let into = run_into(&[], |out| low_rank_item_into(&m1, &fw1, &d1, &m2, &fp2, out));
    let unchecked = run_into(&[], |out| low_rank_item_into_unchecked(&m1, &fw1, &d1, &m2, &fp2, out));
    let typed32 = {
        let (m1, w1, d1, m2, p2) = (m1.narrow(), w1.narrow(), d1.narrow(), m2.narrow(), p2.narrow());
        kl!(LowRankMultivariateNormal(m1, cov_factor = w1, cov_diag = d1)
            || MultivariateNormal(m2, precision_matrix = p2))
        .unwrap()
    };
    let data = json!({"m1": m1, "w1": w1, "d1": d1, "m2": m2, "p2": p2});
    agree(
        "LowRankMultivariateNormal(m1, cov_factor=w1, cov_diag=d1) || MultivariateNormal(m2, precision_matrix=p2)",
        &data,
        &[
            ("kl!", &typed),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! f32", &typed32)],
    );

    let back =
        kl!(MultivariateNormal(m2, precision_matrix = p2)
            || LowRankMultivariateNormal(m1, cov_factor = w1, cov_diag = d1))
        .unwrap();
    let back_declared = {
        let (m1, w1, d1, m2, p2) = (m1.to_vec(), &fw1, d1.to_vec(), m2.to_vec(), &fp2);
        kl!(MultivariateNormal(m2, precision_matrix = p2) || LowRankMultivariateNormal(m1, cov_factor = w1, cov_diag = d1)
            where m1, d1, m2: [3], w1: [3, 2], p2: [3, 3])
        .unwrap()
    };
    agree(
        "MultivariateNormal(m2, precision_matrix=p2) || LowRankMultivariateNormal(m1, cov_factor=w1, cov_diag=d1)",
        &data,
        &[("kl!", &back), ("kl! where", &back_declared)],
        &[],
    );
}

kl_fn! {
    fn batched_cov_item(m1: [B, 3], c1: [B, 3, 3], m2: [B, 3], c2: [3, 3]) -> f64 {
        MultivariateNormal(m1, covariance_matrix=c1) || MultivariateNormal(m2, covariance_matrix=c2)
    }
}

/// A batch of covariances against one shared covariance.
#[test]
fn batched_mvn_against_a_shared_covariance() {
    let mut rng = Rng::new(11);
    let b = 3;
    let (m1, m2): (Rows<3>, Rows<3>) = (rng.rows(b, Rng::loc), rng.rows(b, Rng::loc));
    let c1: Vec<Mat<3>> = (0..b).map(|_| rng.spd()).collect();
    let c2: Mat<3> = rng.spd();
    let typed =
        kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap();
    let (fm1, fc1, fm2, fc2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (m1.flat(), c1.flat(), m2.flat(), c2.flat());
    let declared = {
        let (m1, c1, m2, c2) = (&fm1, &fc1, &fm2, &fc2);
        kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, covariance_matrix = c2)
            where m1, m2: [B, 3], c1: [B, 3, 3], c2: [3, 3])
        .unwrap()
    };
    let item = batched_cov_item(&m1, &c1, &m2, &c2).unwrap();
    let into = run_into(&[b], |out| batched_cov_item_into(&fm1, &fc1, &fm2, &fc2, b, out));
    let unchecked = run_into(&[b], |out| batched_cov_item_into_unchecked(&fm1, &fc1, &fm2, &fc2, b, out));
    let typed32 = {
        let (m1, c1, m2, c2) = (m1.narrow(), c1.narrow(), m2.narrow(), c2.narrow());
        kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap()
    };
    agree(
        "MultivariateNormal(m1, covariance_matrix=c1) || MultivariateNormal(m2, covariance_matrix=c2)",
        &json!({"m1": m1, "c1": c1, "m2": m2, "c2": c2}),
        &[
            ("kl!", &typed),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! f32", &typed32)],
    );
}

kl_fn! {
    fn diag_mvn_item(m1: [B, 3], s1: [B, 3], m2: [3], c2: [3, 3]) -> f64 {
        Normal(m1, s1).to_event(1) || MultivariateNormal(m2, covariance_matrix=c2)
    }
}

kl_fn! {
    fn mvn_diag_item(m1: [3], l1: [3, 3], m2: [B, 3], s2: [B, 3]) -> f64 {
        MultivariateNormal(m1, scale_tril=l1) || Normal(m2, s2).to_event(1)
    }
}

/// A diagonal Normal against a full MVN, in both directions.
#[test]
fn diagonal_against_full_both_directions() {
    let mut rng = Rng::new(12);
    let b = 3;
    let (m1, s1): (Rows<3>, Rows<3>) = (rng.rows(b, Rng::loc), rng.rows(b, Rng::scale));
    let (m2, c2): ([f64; 3], Mat<3>) = (rng.vec(Rng::loc), rng.spd());
    let typed = kl!(Normal(m1, s1).to_event(1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap();
    let (fm1, fs1, fc2): (Vec<f64>, Vec<f64>, Vec<f64>) = (m1.flat(), s1.flat(), c2.flat());
    let declared = {
        let (m1, s1, m2, c2) = (&fm1, &fs1, m2.to_vec(), &fc2);
        kl!(Normal(m1, s1).to_event(1) || MultivariateNormal(m2, covariance_matrix = c2)
            where m1, s1: [B, 3], m2: [3], c2: [3, 3])
        .unwrap()
    };
    let item = diag_mvn_item(&m1, &s1, &m2, &c2).unwrap();
    let into = run_into(&[b], |out| diag_mvn_item_into(&fm1, &fs1, &m2, &fc2, b, out));
    let unchecked = run_into(&[b], |out| diag_mvn_item_into_unchecked(&fm1, &fs1, &m2, &fc2, b, out));
    let typed32 = {
        let (m1, s1, m2, c2) = (m1.narrow(), s1.narrow(), m2.narrow(), c2.narrow());
        kl!(Normal(m1, s1).to_event(1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap()
    };
    agree(
        "Normal(m1, s1).to_event(1) || MultivariateNormal(m2, covariance_matrix=c2)",
        &json!({"m1": m1, "s1": s1, "m2": m2, "c2": c2}),
        &[
            ("kl!", &typed),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! f32", &typed32)],
    );

    let (n1, l1): ([f64; 3], Mat<3>) = (rng.vec(Rng::loc), rng.tril());
    let (n2, t2) = (&m1, &s1);
    let back = kl!(MultivariateNormal(n1, scale_tril = l1) || Normal(n2, t2).to_event(1)).unwrap();
    let fl1: Vec<f64> = l1.flat();
    let back_declared = {
        let (n1, l1, n2, t2) = (n1.to_vec(), &fl1, &fm1, &fs1);
        kl!(MultivariateNormal(n1, scale_tril = l1) || Normal(n2, t2).to_event(1)
            where n1: [3], l1: [3, 3], n2, t2: [B, 3])
        .unwrap()
    };
    let back_item = mvn_diag_item(&n1, &l1, n2, t2).unwrap();
    let back_into = run_into(&[b], |out| mvn_diag_item_into(&n1, &fl1, &fm1, &fs1, b, out));
    let back_unchecked = run_into(&[b], |out| mvn_diag_item_into_unchecked(&n1, &fl1, &fm1, &fs1, b, out));
    agree(
        "MultivariateNormal(n1, scale_tril=l1) || Normal(n2, t2).to_event(1)",
        &json!({"n1": n1, "l1": l1, "n2": m1, "t2": s1}),
        &[
            ("kl!", &back),
            ("kl! where", &back_declared),
            ("kl_fn!", &back_item),
            ("kl_fn! _into", &back_into),
            ("kl_fn! _into_unchecked", &back_unchecked),
        ],
        &[],
    );
}

/// `diag(v)` as a covariance and `diag(s)` as a scale_tril: the elementwise form after
/// simplification; the same numbers as the diagonal `Normal` with σ = √v.
#[test]
fn diagonal_by_construction() {
    let mut rng = Rng::new(13);
    let b = 2;
    let (m1, v1, m2, s2): (Rows<4>, Rows<4>, Rows<4>, Rows<4>) =
        (rng.rows(b, Rng::loc), rng.rows(b, Rng::scale), rng.rows(b, Rng::loc), rng.rows(b, Rng::scale));
    let typed =
        kl!(MultivariateNormal(m1, covariance_matrix = diag(v1)) || MultivariateNormal(m2, scale_tril = diag(s2)))
            .unwrap();
    let declared = {
        let (m1, v1, m2, s2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (m1.flat(), v1.flat(), m2.flat(), s2.flat());
        kl!(MultivariateNormal(m1, covariance_matrix = diag(v1)) || MultivariateNormal(m2, scale_tril = diag(s2))
            where m1, v1, m2, s2: [B, 4])
        .unwrap()
    };
    let as_normal = kl!(Normal(m1, var = v1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap();
    agree(
        "MultivariateNormal(m1, covariance_matrix=diag(v1)) || MultivariateNormal(m2, scale_tril=diag(s2))",
        &json!({"m1": m1, "v1": v1, "m2": m2, "s2": s2}),
        &[("kl!", &typed), ("kl! where", &declared), ("kl! as Normal(var=)", &as_normal)],
        &[],
    );
}

// ---------------------------------------------------------------------------------------------
// 1. The routes agree: log_prob, entropy, P || P.

kl_fn! {
    fn log_prob_diag_item(m: [3], s: [3], x: [N, 3]) -> f64 { log_prob(Normal(m, s).to_event(1), x) }
}

kl_fn! {
    fn log_prob_tril_item(m: [3], l: [3, 3], x: [N, 3]) -> f64 { log_prob(MultivariateNormal(m, scale_tril=l), x) }
}

#[test]
fn log_prob_diagonal_full_and_low_rank() {
    let mut rng = Rng::new(14);
    let n = 4;
    let (m, s, x): ([f64; 3], [f64; 3], Rows<3>) = (rng.vec(Rng::loc), rng.vec(Rng::scale), rng.rows(n, Rng::loc));
    let fx: Vec<f64> = x.flat();
    let typed = kl!(log_prob(Normal(m, s).to_event(1), x)).unwrap();
    let declared = {
        let (m, s, x) = (m.to_vec(), s.to_vec(), &fx);
        kl!(log_prob(Normal(m, s).to_event(1), x) where m, s: [3], x: [N, 3]).unwrap()
    };
    let item = log_prob_diag_item(&m, &s, &x).unwrap();
    let into = run_into(&[n], |out| log_prob_diag_item_into(&m, &s, &fx, n, out));
    let unchecked = run_into(&[n], |out| log_prob_diag_item_into_unchecked(&m, &s, &fx, n, out));
    let typed32 = {
        let (m, s, x) = (m.narrow(), s.narrow(), x.narrow());
        kl!(log_prob(Normal(m, s).to_event(1), x)).unwrap()
    };
    agree(
        "log_prob(Normal(m, s).to_event(1), x)",
        &json!({"m": m, "s": s, "x": x}),
        &[
            ("kl!", &typed),
            ("kl! where", &declared),
            ("kl_fn!", &item),
            ("kl_fn! _into", &into),
            ("kl_fn! _into_unchecked", &unchecked),
        ],
        &[("kl! f32", &typed32)],
    );

    // x of shape [N, 1] against a batch of 3 univariate Normals: [N, 3].
    let col: Rows<1> = x.iter().map(|r| [r[0]]).collect();
    let elementwise = kl!(log_prob(Normal(m, s), col)).unwrap();
    agree("log_prob(Normal(m, s), col)", &json!({"m": m, "s": s, "col": col}), &[("kl!", &elementwise)], &[]);
    assert_eq!(elementwise.shape, [n, 3]);

    let l: Mat<3> = rng.tril();
    let fl: Vec<f64> = l.flat();
    let tril = kl!(log_prob(MultivariateNormal(m, scale_tril = l), x)).unwrap();
    let tril_declared = {
        let (m, l, x) = (m.to_vec(), &fl, &fx);
        kl!(log_prob(MultivariateNormal(m, scale_tril = l), x) where m: [3], l: [3, 3], x: [N, 3]).unwrap()
    };
    let tril_item = log_prob_tril_item(&m, &l, &x).unwrap();
    let tril_into = run_into(&[n], |out| log_prob_tril_item_into(&m, &fl, &fx, n, out));
    let tril_unchecked = run_into(&[n], |out| log_prob_tril_item_into_unchecked(&m, &fl, &fx, n, out));
    let tril32 = {
        let (m, l, x) = (m.narrow(), l.narrow(), x.narrow());
        kl!(log_prob(MultivariateNormal(m, scale_tril = l), x)).unwrap()
    };
    agree(
        "log_prob(MultivariateNormal(m, scale_tril=l), x)",
        &json!({"m": m, "l": l, "x": x}),
        &[
            ("kl!", &tril),
            ("kl! where", &tril_declared),
            ("kl_fn!", &tril_item),
            ("kl_fn! _into", &tril_into),
            ("kl_fn! _into_unchecked", &tril_unchecked),
        ],
        &[("kl! f32", &tril32)],
    );

    let (w, dg): (Factor<3, 2>, [f64; 3]) = (rng.factor(), rng.vec(Rng::scale));
    let low = kl!(log_prob(LowRankMultivariateNormal(m, cov_factor = w, cov_diag = dg), x)).unwrap();
    let low_declared = {
        let (m, w, dg, x): (Vec<f64>, Vec<f64>, Vec<f64>, &Vec<f64>) = (m.to_vec(), w.flat(), dg.to_vec(), &fx);
        kl!(log_prob(LowRankMultivariateNormal(m, cov_factor = w, cov_diag = dg), x)
            where m, dg: [3], w: [3, 2], x: [N, 3])
        .unwrap()
    };
    agree(
        "log_prob(LowRankMultivariateNormal(m, cov_factor=w, cov_diag=dg), x)",
        &json!({"m": m, "w": w, "dg": dg, "x": x}),
        &[("kl!", &low), ("kl! where", &low_declared)],
        &[],
    );
}

kl_fn! {
    fn entropy_cov_item(m: [B, 3], c: [B, 3, 3]) -> f64 { entropy(MultivariateNormal(m, covariance_matrix=c)) }
}

#[test]
fn entropy_of_each_family() {
    let mut rng = Rng::new(15);
    let b = 2;
    let (m, s): (Rows<3>, Rows<3>) = (rng.rows(b, Rng::loc), rng.rows(b, Rng::scale));
    let normal = kl!(entropy(Normal(m, s).to_event(1))).unwrap();
    let normal_declared = {
        let (m, s): (Vec<f64>, Vec<f64>) = (m.flat(), s.flat());
        kl!(entropy(Normal(m, s).to_event(1)) where m, s: [B, 3]).unwrap()
    };
    let normal_var = kl!(entropy(Normal(m, var = s))).unwrap();
    let normal32 = {
        let (m, s) = (m.narrow(), s.narrow());
        kl!(entropy(Normal(m, s).to_event(1))).unwrap()
    };
    let data = json!({"m": m, "s": s});
    agree(
        "entropy(Normal(m, s).to_event(1))",
        &data,
        &[("kl!", &normal), ("kl! where", &normal_declared)],
        &[("kl! f32", &normal32)],
    );
    agree("entropy(Normal(m, var=s))", &data, &[("kl!", &normal_var)], &[]);

    let c: Vec<Mat<3>> = (0..b).map(|_| rng.spd()).collect();
    let (fm, fc): (Vec<f64>, Vec<f64>) = (m.flat(), c.flat());
    let cov = kl!(entropy(MultivariateNormal(m, covariance_matrix = c))).unwrap();
    let cov_declared = {
        let (m, c) = (&fm, &fc);
        kl!(entropy(MultivariateNormal(m, covariance_matrix = c)) where m: [B, 3], c: [B, 3, 3]).unwrap()
    };
    let cov_item = entropy_cov_item(&m, &c).unwrap();
    // `loc` does not enter the entropy, but the flat forms still take (and validate) it.
    let cov_into = run_into(&[b], |out| entropy_cov_item_into(&fm, &fc, b, out));
    let cov_unchecked = run_into(&[b], |out| entropy_cov_item_into_unchecked(&fm, &fc, b, out));
    agree(
        "entropy(MultivariateNormal(m, covariance_matrix=c))",
        &json!({"m": m, "c": c}),
        &[
            ("kl!", &cov),
            ("kl! where", &cov_declared),
            ("kl_fn!", &cov_item),
            ("kl_fn! _into", &cov_into),
            ("kl_fn! _into_unchecked", &cov_unchecked),
        ],
        &[],
    );

    let (w, dg): (Factor<3, 2>, [f64; 3]) = (rng.factor(), rng.vec(Rng::scale));
    let m0: [f64; 3] = rng.vec(Rng::loc);
    let low = kl!(entropy(LowRankMultivariateNormal(m0, cov_factor = w, cov_diag = dg))).unwrap();
    let low_declared = {
        let (m0, w, dg): (Vec<f64>, Vec<f64>, Vec<f64>) = (m0.to_vec(), w.flat(), dg.to_vec());
        kl!(entropy(LowRankMultivariateNormal(m0, cov_factor = w, cov_diag = dg)) where m0, dg: [3], w: [3, 2]).unwrap()
    };
    agree(
        "entropy(LowRankMultivariateNormal(m0, cov_factor=w, cov_diag=dg))",
        &json!({"m0": m0, "w": w, "dg": dg}),
        &[("kl!", &low), ("kl! where", &low_declared)],
        &[],
    );
}

kl_fn! {
    fn self_item(m: [B, 3], c: [3, 3]) -> f64 {
        MultivariateNormal(m, covariance_matrix=c) || MultivariateNormal(m, covariance_matrix=c)
    }
}

/// `P || P` is exactly zero on every route.
#[test]
fn self_kl_is_zero_everywhere() {
    let mut rng = Rng::new(16);
    let b = 3;
    let (m, s): (Rows<3>, Rows<3>) = (rng.rows(b, Rng::loc), rng.rows(b, Rng::scale));
    let c: Mat<3> = rng.spd();
    let zeros = Tensor { shape: vec![b], data: vec![0.0; b] };
    let normal = kl!(Normal(m, s).to_event(1) || Normal(m, s).to_event(1)).unwrap();
    let normal_declared = {
        let (m, s): (Vec<f64>, Vec<f64>) = (m.flat(), s.flat());
        kl!(Normal(m, s).to_event(1) || Normal(m, s).to_event(1) where m, s: [B, 3]).unwrap()
    };
    agree(
        "Normal(m, s).to_event(1) || Normal(m, s).to_event(1)",
        &json!({"m": m, "s": s}),
        &[("kl!", &normal), ("kl! where", &normal_declared)],
        &[],
    );
    assert_close("Normal P || P", &normal, &zeros, 0.0);

    let mvn =
        kl!(MultivariateNormal(m, covariance_matrix = c) || MultivariateNormal(m, covariance_matrix = c)).unwrap();
    let item = self_item(&m, &c).unwrap();
    let (fm, fc): (Vec<f64>, Vec<f64>) = (m.flat(), c.flat());
    // No parameter enters `P || P`, but the flat forms still take (and validate) them.
    let into = run_into(&[b], |out| self_item_into(&fm, &fc, b, out));
    let unchecked = run_into(&[b], |out| self_item_into_unchecked(&fm, &fc, b, out));
    agree(
        "MultivariateNormal(m, covariance_matrix=c) || MultivariateNormal(m, covariance_matrix=c)",
        &json!({"m": m, "c": c}),
        &[("kl!", &mvn), ("kl_fn!", &item), ("kl_fn! _into", &into), ("kl_fn! _into_unchecked", &unchecked)],
        &[],
    );
    assert_close("MVN P || P", &mvn, &zeros, 0.0);
}

// ---------------------------------------------------------------------------------------------
// 2. Independent references: textbook formulas written out here.

fn normal_kl_textbook(m1: f64, s1: f64, m2: f64, s2: f64) -> f64 {
    (s2 / s1).ln() + (s1 * s1 + (m1 - m2) * (m1 - m2)) / (2.0 * s2 * s2) - 0.5
}

/// Inverse and determinant by cofactors (d = 2 or 3).
fn inv_det<const D: usize>(a: &[[f64; D]; D]) -> ([[f64; D]; D], f64) {
    let mut inv = [[0.0; D]; D];
    let det = match D {
        2 => {
            let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
            inv[0][0] = a[1][1] / det;
            inv[0][1] = -a[0][1] / det;
            inv[1][0] = -a[1][0] / det;
            inv[1][1] = a[0][0] / det;
            det
        }
        3 => {
            let cof = |r: usize, c: usize| {
                let (r0, r1) = ((r + 1) % 3, (r + 2) % 3);
                let (c0, c1) = ((c + 1) % 3, (c + 2) % 3);
                a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0]
            };
            let det = a[0][0] * cof(0, 0) + a[0][1] * cof(0, 1) + a[0][2] * cof(0, 2);
            inv = std::array::from_fn(|i| std::array::from_fn(|j| cof(j, i) / det));
            det
        }
        _ => unreachable!("2x2 and 3x3 only"),
    };
    (inv, det)
}

fn matmul<const D: usize, const K: usize>(a: &[[f64; K]; D], b: &[[f64; D]; K]) -> [[f64; D]; D] {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..K).map(|k| a[i][k] * b[k][j]).sum()))
}

fn transpose<const D: usize, const K: usize>(a: &[[f64; K]; D]) -> [[f64; D]; K] {
    std::array::from_fn(|i| std::array::from_fn(|j| a[j][i]))
}

/// ½ [tr(Σ₂⁻¹Σ₁) + (μ₂−μ₁)ᵀΣ₂⁻¹(μ₂−μ₁) − d + ln(det Σ₂ / det Σ₁)].
fn mvn_kl_textbook<const D: usize>(m1: &[f64; D], c1: &[[f64; D]; D], m2: &[f64; D], c2: &[[f64; D]; D]) -> f64 {
    let (inv2, det2) = inv_det(c2);
    let (_, det1) = inv_det(c1);
    let trace: f64 = (0..D).map(|i| (0..D).map(|k| inv2[i][k] * c1[k][i]).sum::<f64>()).sum();
    let dm: [f64; D] = std::array::from_fn(|i| m2[i] - m1[i]);
    let quad: f64 = (0..D).map(|i| (0..D).map(|j| dm[i] * inv2[i][j] * dm[j]).sum::<f64>()).sum();
    0.5 * (trace + quad - D as f64 + (det2 / det1).ln())
}

/// −½ [d ln 2π + ln det Σ + (x−μ)ᵀΣ⁻¹(x−μ)].
fn mvn_log_prob_textbook<const D: usize>(m: &[f64; D], c: &[[f64; D]; D], x: &[f64; D]) -> f64 {
    let (inv, det) = inv_det(c);
    let dx: [f64; D] = std::array::from_fn(|i| x[i] - m[i]);
    let quad: f64 = (0..D).map(|i| (0..D).map(|j| dx[i] * inv[i][j] * dx[j]).sum::<f64>()).sum();
    -0.5 * (D as f64 * (2.0 * std::f64::consts::PI).ln() + det.ln() + quad)
}

/// ½ ln det(2πe Σ).
fn mvn_entropy_textbook<const D: usize>(c: &[[f64; D]; D]) -> f64 {
    let (_, det) = inv_det(c);
    0.5 * (D as f64 * (1.0 + (2.0 * std::f64::consts::PI).ln()) + det.ln())
}

fn diag_matrix<const D: usize>(v: &[f64; D]) -> [[f64; D]; D] {
    std::array::from_fn(|i| std::array::from_fn(|j| if i == j { v[i] } else { 0.0 }))
}

/// Closed forms evaluated naively in f64 agree with kl's stable kernels to about 1e-14 on
/// well-conditioned inputs; 1e-12 leaves room for the explicit inverses.
const TEXTBOOK_RTOL: f64 = 1e-12;

fn check_textbook(what: &str, got: &Tensor<f64>, want: &[f64]) {
    let want = Tensor { shape: got.shape.clone(), data: want.to_vec() };
    assert_eq!(got.data.len(), want.data.len(), "{what}");
    assert_close(what, got, &want, TEXTBOOK_RTOL);
}

#[test]
fn univariate_against_the_textbook_formula() {
    let mut rng = Rng::new(21);
    let (m1, s1, m2, s2): ([f64; 8], [f64; 8], [f64; 8], [f64; 8]) =
        (rng.vec(Rng::loc), rng.vec(Rng::scale), rng.vec(Rng::loc), rng.vec(Rng::scale));
    let want: Vec<f64> = (0..8).map(|i| normal_kl_textbook(m1[i], s1[i], m2[i], s2[i])).collect();
    check_textbook("kl!", &kl!(Normal(m1, s1) || Normal(m2, s2)).unwrap(), &want);
    let declared = {
        let (m1, s1, m2, s2) = (m1.to_vec(), s1.to_vec(), m2.to_vec(), s2.to_vec());
        kl!(Normal(m1, s1) || Normal(m2, s2) where m1, s1, m2, s2: [8]).unwrap()
    };
    check_textbook("kl! where", &declared, &want);
    let sum: f64 = want.iter().sum();
    check_textbook("to_event(1)", &kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap(), &[sum]);

    let x: [f64; 8] = rng.vec(Rng::loc);
    let log_prob: Vec<f64> = (0..8)
        .map(|i| {
            let z = (x[i] - m1[i]) / s1[i];
            -0.5 * z * z - s1[i].ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
        })
        .collect();
    check_textbook("log_prob", &kl!(log_prob(Normal(m1, s1), x)).unwrap(), &log_prob);
    let entropy: Vec<f64> = s1.iter().map(|s| 0.5 + 0.5 * (2.0 * std::f64::consts::PI).ln() + s.ln()).collect();
    check_textbook("entropy", &kl!(entropy(Normal(m1, s1))).unwrap(), &entropy);
}

#[test]
fn mvn_2x2_against_explicit_inverse_and_determinant() {
    let mut rng = Rng::new(22);
    let (m1, c1, m2, c2): ([f64; 2], Mat<2>, [f64; 2], Mat<2>) =
        (rng.vec(Rng::loc), rng.spd(), rng.vec(Rng::loc), rng.spd());
    let want = mvn_kl_textbook(&m1, &c1, &m2, &c2);
    let got =
        kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap();
    check_textbook("cov || cov", &got, &[want]);
    let declared = {
        let (m1, c1, m2, c2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) =
            (m1.to_vec(), c1.flat(), m2.to_vec(), c2.flat());
        kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, covariance_matrix = c2)
            where m1, m2: [2], c1, c2: [2, 2])
        .unwrap()
    };
    check_textbook("cov || cov where", &declared, &[want]);

    // Σ₁ given by its precision: Σ₁ = P₁⁻¹ by cofactors.
    let (c1_from_p, _) = inv_det(&c1);
    let p1 = c1_from_p;
    let prec =
        kl!(MultivariateNormal(m1, precision_matrix = p1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap();
    check_textbook("precision || cov", &prec, &[mvn_kl_textbook(&m1, &inv_det(&p1).0, &m2, &c2)]);
}

#[test]
fn mvn_3x3_against_explicit_inverse_and_determinant() {
    let mut rng = Rng::new(23);
    let (m1, l1, m2, c2): ([f64; 3], Mat<3>, [f64; 3], Mat<3>) =
        (rng.vec(Rng::loc), rng.tril(), rng.vec(Rng::loc), rng.spd());
    let c1 = matmul(&l1, &transpose(&l1));
    let want = mvn_kl_textbook(&m1, &c1, &m2, &c2);
    let tril = kl!(MultivariateNormal(m1, scale_tril = l1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap();
    check_textbook("tril || cov", &tril, &[want]);
    let tril_declared = {
        let (m1, l1, m2, c2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) =
            (m1.to_vec(), l1.flat(), m2.to_vec(), c2.flat());
        kl!(MultivariateNormal(m1, scale_tril = l1) || MultivariateNormal(m2, covariance_matrix = c2)
            where m1, m2: [3], l1, c2: [3, 3])
        .unwrap()
    };
    check_textbook("tril || cov where", &tril_declared, &[want]);
    let reverse =
        kl!(MultivariateNormal(m2, covariance_matrix = c2) || MultivariateNormal(m1, scale_tril = l1)).unwrap();
    check_textbook("cov || tril", &reverse, &[mvn_kl_textbook(&m2, &c2, &m1, &c1)]);

    // Low rank: Σ = W Wᵀ + diag(D).
    let (w, dg): (Factor<3, 2>, [f64; 3]) = (rng.factor(), rng.vec(Rng::scale));
    let mut c_low = matmul(&w, &transpose(&w));
    (0..3).for_each(|i| c_low[i][i] += dg[i]);
    let low =
        kl!(LowRankMultivariateNormal(m1, cov_factor = w, cov_diag = dg)
            || MultivariateNormal(m2, covariance_matrix = c2))
        .unwrap();
    check_textbook("low rank || cov", &low, &[mvn_kl_textbook(&m1, &c_low, &m2, &c2)]);

    // Diagonal against full, both directions: the diagonal side is Σ = diag(σ²).
    let s: [f64; 3] = rng.vec(Rng::scale);
    let c_diag = diag_matrix(&s.map(|v| v * v));
    let diag_full = kl!(Normal(m1, s).to_event(1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap();
    check_textbook("diag || full", &diag_full, &[mvn_kl_textbook(&m1, &c_diag, &m2, &c2)]);
    let full_diag = kl!(MultivariateNormal(m2, covariance_matrix = c2) || Normal(m1, s).to_event(1)).unwrap();
    check_textbook("full || diag", &full_diag, &[mvn_kl_textbook(&m2, &c2, &m1, &c_diag)]);

    let x: Rows<3> = rng.rows(3, Rng::loc);
    let lp = kl!(log_prob(MultivariateNormal(m2, covariance_matrix = c2), x)).unwrap();
    let lp_want: Vec<f64> = x.iter().map(|x| mvn_log_prob_textbook(&m2, &c2, x)).collect();
    check_textbook("log_prob", &lp, &lp_want);
    let lp_low = kl!(log_prob(LowRankMultivariateNormal(m1, cov_factor = w, cov_diag = dg), x)).unwrap();
    let lp_low_want: Vec<f64> = x.iter().map(|x| mvn_log_prob_textbook(&m1, &c_low, x)).collect();
    check_textbook("low rank log_prob", &lp_low, &lp_low_want);
    let h = kl!(entropy(MultivariateNormal(m1, scale_tril = l1))).unwrap();
    check_textbook("entropy", &h, &[mvn_entropy_textbook(&c1)]);
}

// ---------------------------------------------------------------------------------------------
// 2. Independent references: the mpmath cases through `klc eval`.

/// Relative error, absolute for a reference that is exactly zero (`P || P`).
fn rel_err(got: f64, want: f64) -> f64 {
    if want.is_infinite() {
        if got == want {
            0.0
        } else {
            f64::INFINITY
        }
    } else if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    }
}

#[test]
fn klc_eval_matches_mpmath_references() {
    let text = std::fs::read_to_string(manifest_dir().join("tests/reference/cases.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let cases: Vec<&Value> = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| matches!(c["class"].as_str(), Some("well_conditioned" | "extreme_scale")))
        .collect();
    assert!(cases.len() >= 100, "only {} reference cases selected", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let (name, expr) = (case["name"].as_str().unwrap(), case["expr"].as_str().unwrap());
        let run = klc_eval(expr, &case["data"], "f64");
        if run.code != Some(0) {
            failures.push(format!("{name}: `{expr}`: exit {:?}: {}", run.code, run.stderr.trim()));
            continue;
        }
        let out: Value = serde_json::from_str(&run.stdout).unwrap();
        let (got, want) = (tensor(&out["value"]), tensor(&case["expected"]["value"]));
        if shape_of(&out["shape"]) != shape_of(&case["expected"]["shape"]) {
            failures.push(format!("{name}: shape {} expected {}", out["shape"], case["expected"]["shape"]));
            continue;
        }
        let err = got.data.iter().zip(&want.data).map(|(g, w)| rel_err(*g, *w)).fold(0.0, f64::max);
        if err > REFERENCE_RTOL || err.is_nan() || got.data.len() != want.data.len() {
            failures.push(format!("{name}: relative error {err:.2e}: `{expr}`"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 3. Errors agree.

/// `klc eval` fails with a non-zero exit, nothing on stdout, and `message` on stderr.
fn assert_klc_fails(expr: &str, data: &Value, message: &str) {
    let run = klc_eval(expr, data, "f64");
    assert!(run.code.is_some_and(|c| c != 0), "klc eval `{expr}` exited {:?}: {}", run.code, run.stdout);
    assert!(run.stdout.is_empty(), "klc eval `{expr}` printed to stdout: {}", run.stdout);
    assert!(run.stderr.contains(message), "klc eval `{expr}`: stderr lacks `{message}`:\n{}", run.stderr);
}

#[test]
fn negative_scale_is_the_same_error_everywhere() {
    let mut rng = Rng::new(31);
    let b = 3;
    let (m1, mut s1, m2, s2): (Rows<3>, Rows<3>, Rows<3>, Rows<3>) =
        (rng.rows(b, Rng::loc), rng.rows(b, Rng::scale), rng.rows(b, Rng::loc), rng.rows(b, Rng::scale));
    s1[1][2] = -0.5;
    let expected = Error::new("s1", &[1, 2], Rule::NonPositive { value: -0.5 });

    let typed = kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap_err();
    let (fm1, fs1, fm2, fs2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (m1.flat(), s1.flat(), m2.flat(), s2.flat());
    let declared = {
        let (m1, s1, m2, s2) = (&fm1, &fs1, &fm2, &fs2);
        kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [B, 3]).unwrap_err()
    };
    let item = diag_item(&m1, &s1, &m2, &s2).unwrap_err();
    let mut out = vec![0.0; b];
    let into = diag_item_into(&fm1, &fs1, &fm2, &fs2, b, &mut out).unwrap_err();
    for (route, e) in [("kl!", &typed), ("kl! where", &declared), ("kl_fn!", &item), ("kl_fn! _into", &into)] {
        assert_eq!(e, &expected, "{route}: {e}");
    }
    assert_eq!(typed.to_string(), "parameter `s1` at batch index [1, 2] must be > 0, found -0.5");
    assert_klc_fails(
        "Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)",
        &json!({"m1": m1, "s1": s1, "m2": m2, "s2": s2}),
        &typed.to_string(),
    );

    // A NaN location: the finiteness rule, same parameter naming.
    let mut m_nan = m2.clone();
    m_nan[2][0] = f64::NAN;
    let nan = kl!(Normal(m2, s2).to_event(1) || Normal(m_nan, s2).to_event(1)).unwrap_err();
    assert_eq!((nan.param.as_str(), nan.index.as_slice()), ("m_nan", &[2, 0][..]));
    assert!(matches!(nan.rule, Rule::NonFinite { value } if value.is_nan()), "{nan}");
    let nan_declared = {
        let (m2, s2, m_nan): (Vec<f64>, Vec<f64>, Vec<f64>) = (m2.flat(), s2.flat(), m_nan.flat());
        kl!(Normal(m2, s2).to_event(1) || Normal(m_nan, s2).to_event(1) where m2, s2, m_nan: [B, 3]).unwrap_err()
    };
    assert_eq!(nan_declared.to_string(), nan.to_string());
}

/// `Normal(m, s) || Normal(m, s)` with `s[0][1] = -1`: the simplifier proves the KL zero, but
/// the parameters are still not a distribution.
fn invalid_self_kl_inputs() -> (Rows<3>, Rows<3>, Error) {
    let mut rng = Rng::new(32);
    let (m, mut s): (Rows<3>, Rows<3>) = (rng.rows(2, Rng::loc), rng.rows(2, Rng::scale));
    s[0][1] = -1.0;
    (m, s, Error::new("s", &[0, 1], Rule::NonPositive { value: -1.0 }))
}

/// An invalid scale is an error even where the simplifier proved the KL zero (`P || P`).
#[test]
fn self_kl_still_validates_its_parameters() {
    let (m, s, expected) = invalid_self_kl_inputs();
    let typed = kl!(Normal(m, s).to_event(1) || Normal(m, s).to_event(1));
    assert_eq!(typed, Err(expected.clone()), "kl! from types");
    assert_klc_fails(
        "Normal(m, s).to_event(1) || Normal(m, s).to_event(1)",
        &json!({"m": m, "s": s}),
        &expected.to_string(),
    );
}

/// The emitted code for `P || P` is `zeros` with no parameter checks, so the declared path
/// and `kl_fn!` return `Ok(0)` where `kl!` from types and `klc eval` return the error.
#[test]
fn self_kl_validates_on_the_emitted_path_too() {
    let (m, s, expected) = invalid_self_kl_inputs();
    let declared = {
        let (m, s): (Vec<f64>, Vec<f64>) = (m.flat(), s.flat());
        kl!(Normal(m, s).to_event(1) || Normal(m, s).to_event(1) where m, s: [B, 3])
    };
    assert_eq!(declared, Err(expected), "kl! where");
    let not_pd = [[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let item = self_item(&m, &not_pd).unwrap_err();
    assert_eq!(item.param, "c");
    assert!(matches!(item.rule, Rule::NotPositiveDefinite { .. }), "{item}");
}

#[test]
fn non_positive_definite_covariance_is_the_same_error_everywhere() {
    let mut rng = Rng::new(33);
    let b = 2;
    let (m1, m2): (Rows<3>, Rows<3>) = (rng.rows(b, Rng::loc), rng.rows(b, Rng::loc));
    let mut c1: Vec<Mat<3>> = (0..b).map(|_| rng.spd()).collect();
    // Symmetric with eigenvalues 3, -1, 1: not positive definite, in batch element 1.
    c1[1] = [[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let c2: Mat<3> = rng.spd();

    let typed = kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, covariance_matrix = c2))
        .unwrap_err();
    assert_eq!((typed.param.as_str(), typed.index.as_slice()), ("c1", &[1][..]), "{typed}");
    assert!(matches!(typed.rule, Rule::NotPositiveDefinite { .. }), "{typed}");
    let (fm1, fc1, fm2, fc2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (m1.flat(), c1.flat(), m2.flat(), c2.flat());
    let declared = {
        let (m1, c1, m2, c2) = (&fm1, &fc1, &fm2, &fc2);
        kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, covariance_matrix = c2)
            where m1, m2: [B, 3], c1: [B, 3, 3], c2: [3, 3])
        .unwrap_err()
    };
    let item = batched_cov_item(&m1, &c1, &m2, &c2).unwrap_err();
    let mut out = vec![0.0; b];
    let into = batched_cov_item_into(&fm1, &fc1, &fm2, &fc2, b, &mut out).unwrap_err();
    for (route, e) in [("kl! where", &declared), ("kl_fn!", &item), ("kl_fn! _into", &into)] {
        assert_eq!(e, &typed, "{route}: {e}");
    }
    assert_klc_fails(
        "MultivariateNormal(m1, covariance_matrix=c1) || MultivariateNormal(m2, covariance_matrix=c2)",
        &json!({"m1": m1, "c1": c1, "m2": m2, "c2": c2}),
        &typed.to_string(),
    );
}

/// A covariance that is not symmetric, and a scale_tril with a negative diagonal entry.
#[test]
fn asymmetric_covariance_and_negative_tril_diagonal_agree() {
    let mut rng = Rng::new(35);
    let b = 2;
    let (m1, m2): (Rows<3>, Rows<3>) = (rng.rows(b, Rng::loc), rng.rows(b, Rng::loc));
    let mut c1: Vec<Mat<3>> = (0..b).map(|_| rng.spd()).collect();
    c1[1][0][2] += 0.5;
    let c2: Mat<3> = rng.spd();
    let typed = kl!(MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, covariance_matrix = c2))
        .unwrap_err();
    assert_eq!((typed.param.as_str(), typed.index.as_slice()), ("c1", &[1][..]), "{typed}");
    assert!(matches!(typed.rule, Rule::NotSymmetric { row, col } if (row, col) == (2, 0) || (row, col) == (0, 2)));
    assert_eq!(batched_cov_item(&m1, &c1, &m2, &c2).unwrap_err(), typed, "kl_fn!");
    assert_klc_fails(
        "MultivariateNormal(m1, covariance_matrix=c1) || MultivariateNormal(m2, covariance_matrix=c2)",
        &json!({"m1": m1, "c1": c1, "m2": m2, "c2": c2}),
        &typed.to_string(),
    );

    let (n1, n2, cov): ([f64; 3], [f64; 3], Mat<3>) = (rng.vec(Rng::loc), rng.vec(Rng::loc), rng.spd());
    let mut l2: Mat<3> = rng.tril();
    l2[1][1] = -0.5;
    let tril =
        kl!(MultivariateNormal(n1, covariance_matrix = cov) || MultivariateNormal(n2, scale_tril = l2)).unwrap_err();
    assert_eq!(tril.param, "l2", "{tril}");
    assert!(matches!(tril.rule, Rule::NonPositive { value } if value == -0.5), "{tril}");
    assert_eq!(cov_tril_item(&n1, &cov, &n2, &l2).unwrap_err(), tril, "kl_fn!");
    let mut out = [0.0];
    assert_eq!(cov_tril_item_into(&n1, &cov.flat(), &n2, &l2.flat(), &mut out).unwrap_err(), tril, "_into");
    assert_klc_fails(
        "MultivariateNormal(n1, covariance_matrix=cov) || MultivariateNormal(n2, scale_tril=l2)",
        &json!({"n1": n1, "cov": cov, "n2": n2, "l2": l2}),
        &tril.to_string(),
    );
}

/// An empty batch is an empty result on every route; a literals-only KL needs no data.
#[test]
fn empty_batches_and_literals_only() {
    let empty: Rows<3> = Vec::new();
    let (m1, s1, m2, s2) = (&empty, &empty, &empty, &empty);
    let want = Tensor { shape: vec![0], data: vec![] };
    let typed = kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap();
    let declared = kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [B, 3]).unwrap();
    let item = diag_item(m1, s1, m2, s2).unwrap();
    let flat: Vec<f64> = Vec::new();
    let item_flat = diag_item(&flat, &flat, &flat, &flat).unwrap();
    for (route, t) in [("kl!", &typed), ("kl! where", &declared), ("kl_fn!", &item), ("kl_fn! flat", &item_flat)] {
        assert_eq!(t, &want, "{route}");
    }

    let literal = kl!(Normal(0, 1) || Normal(1, 2)).unwrap();
    // KL(N(0, 1) || N(1, 4)) = ln 2 + (1 + 1) / 8 - 1/2.
    check_textbook("literals", &literal, &[2f64.ln() - 0.25]);
    agree("Normal(0, 1) || Normal(1, 2)", &json!({}), &[("kl! literals", &literal)], &[]);
}

/// Batches of 4 and 5 rows of `[f64; 3]`.
fn mismatched_batches() -> [Rows<3>; 4] {
    let mut rng = Rng::new(34);
    [rng.rows(4, Rng::loc), rng.rows(4, Rng::scale), rng.rows(5, Rng::loc), rng.rows(5, Rng::scale)]
}

/// Two batches of different run-time lengths: an `Err` naming both shapes, never a panic.
#[test]
fn mismatched_batch_lengths_are_errors_naming_both_shapes() {
    let [m1, s1, m2, s2] = mismatched_batches();
    // From types, the batch shapes of the two sides meet in the KL: [4] against [5].
    let typed = kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap_err();
    assert!(matches!(typed.rule, Rule::Shape { .. }), "{typed}");
    let text = typed.to_string();
    assert!(text.contains("[4]") && text.contains("[5]"), "kl! from types: `{text}` does not name both shapes");
    // Declared, the first parameter binds `B = 4` and the 5-row one is named with its shape.
    let declared =
        kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [B, 3]).unwrap_err();
    let item = diag_item(&m1, &s1, &m2, &s2).unwrap_err();
    for (route, e) in [("kl! where", &declared), ("kl_fn!", &item)] {
        let text = e.to_string();
        assert_eq!(e.param, "m2", "{route}: {text}");
        assert!(text.contains("[B, 3]") && text.contains("[5, 3]") && text.contains("`B` is 4"), "{route}: {text}");
    }
    // Flat buffers carry no shape, only a length: the checked `_into` names the lengths.
    let (fm1, fs1, fm2, fs2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (m1.flat(), s1.flat(), m2.flat(), s2.flat());
    let mut out = vec![0.0; 4];
    let into = diag_item_into(&fm1, &fs1, &fm2, &fs2, 4, &mut out).unwrap_err();
    assert_eq!(into, Error::new("m2", &[], Rule::LengthMismatch { expected: 12, found: 15 }));
    assert_klc_fails(
        "Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)",
        &json!({"m1": m1, "s1": s1, "m2": m2, "s2": s2}),
        "left [4], right [5]",
    );
    // `loc` and `scale` of one Normal with different run-time lengths.
    let (short, long) = (&s1[..3], &m1[..]);
    let inner = kl!(Normal(long, short).to_event(1) || Normal(m1, s1).to_event(1)).unwrap_err();
    let text = inner.to_string();
    assert!(text.contains("[4, 3]") && text.contains("[3, 3]"), "loc against scale: `{text}`");
}

/// A shape error from types names the parameters of the failing sub-expression (all of them
/// for a rule on the whole KL), never source text.
#[test]
fn run_time_shape_errors_name_a_parameter() {
    let names = |e: &kl::Error| e.param.split(", ").map(str::to_string).collect::<Vec<_>>();
    let [m1, s1, m2, s2] = mismatched_batches();
    let typed = kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap_err();
    assert_eq!(names(&typed), ["m1", "s1", "m2", "s2"], "{typed:?}");
    let (short, long) = (&s1[..3], &m1[..]);
    let inner = kl!(Normal(long, short).to_event(1) || Normal(m1, s1).to_event(1)).unwrap_err();
    assert_eq!(names(&inner), ["long", "short"], "{inner:?}");
}

// ---------------------------------------------------------------------------------------------
// 4. ndarray arrays and non-contiguous views.

#[cfg(feature = "ndarray")]
mod with_ndarray {
    use super::*;
    use ndarray::{Array2, Array3, Axis};

    fn array2<const N: usize>(rows: &[[f64; N]]) -> Array2<f64> {
        Array2::from_shape_vec((rows.len(), N), rows.flat()).unwrap()
    }

    /// The same logical `[B, N]` array as a transposed view of a `[N, B]` standard-layout array.
    fn transposed<const N: usize>(rows: &[[f64; N]]) -> Array2<f64> {
        let t = array2(rows).reversed_axes();
        let standard = t.as_standard_layout().into_owned();
        assert_eq!(standard.shape(), [N, rows.len()]);
        standard
    }

    #[test]
    fn arrays_and_transposed_views_match_the_array_path() {
        let mut rng = Rng::new(41);
        let b = 4;
        let (m1, s1, m2, s2): (Rows<3>, Rows<3>, Rows<3>, Rows<3>) =
            (rng.rows(b, Rng::loc), rng.rows(b, Rng::scale), rng.rows(b, Rng::loc), rng.rows(b, Rng::scale));
        let want = kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap();
        let owned = {
            let (m1, s1, m2, s2) = (array2(&m1), array2(&s1), array2(&m2), array2(&s2));
            kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap()
        };
        let (tm1, ts1) = (transposed(&m1), transposed(&s1));
        let views = {
            let (m1, s1) = (tm1.t(), ts1.t());
            assert!(!m1.is_standard_layout());
            let (m2, s2) = (array2(&m2), array2(&s2));
            kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)).unwrap()
        };
        let declared = {
            let (m1, s1, m2, s2) = (tm1.t(), ts1.t(), array2(&m2), array2(&s2));
            kl!(Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [B, 3]).unwrap()
        };
        let item = diag_item(&tm1.t(), &ts1.t(), &array2(&m2), &array2(&s2)).unwrap();
        assert_eq!(owned, want, "Array2");
        assert_eq!(views, want, "transposed views");
        assert_close("where over transposed views", &declared, &want, F64_RTOL);
        assert_close("kl_fn! over transposed views", &item, &want, F64_RTOL);
    }

    #[test]
    fn matrices_as_transposed_and_permuted_views() {
        let mut rng = Rng::new(42);
        let b = 3;
        let (m1, m2): (Rows<3>, Rows<3>) = (rng.rows(b, Rng::loc), rng.rows(b, Rng::loc));
        let l1: Vec<Mat<3>> = (0..b).map(|_| rng.tril()).collect();
        let c2: Mat<3> = rng.spd();
        let want =
            kl!(MultivariateNormal(m1, scale_tril = l1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap();

        // Lᵀ stored row-major, viewed through its transpose: a non-contiguous lower factor.
        let lt: Array3<f64> = {
            let a = Array3::from_shape_vec((b, 3, 3), l1.flat()).unwrap();
            let mut swapped = a.view();
            swapped.swap_axes(1, 2);
            swapped.as_standard_layout().into_owned()
        };
        let mut l_view = lt.view();
        l_view.swap_axes(1, 2);
        assert!(!l_view.is_standard_layout());
        let c2a = Array2::from_shape_vec((3, 3), c2.flat()).unwrap();
        let got = {
            let (m1, l1, m2, c2) = (array2(&m1), l_view.view(), array2(&m2), c2a.view());
            kl!(MultivariateNormal(m1, scale_tril = l1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap()
        };
        assert_eq!(got, want, "scale_tril as a transposed view");

        // Batch axis last in memory: a [3, 3, B] array with its axes permuted to [B, 3, 3].
        let batch_last = l_view.view().permuted_axes([1, 2, 0]).as_standard_layout().into_owned();
        let l_perm = batch_last.view().permuted_axes([2, 0, 1]);
        assert_eq!(l_perm.index_axis(Axis(0), 1), l_view.index_axis(Axis(0), 1));
        let permuted = {
            let (m1, l1, m2, c2) = (array2(&m1), l_perm, array2(&m2), c2a.view());
            kl!(MultivariateNormal(m1, scale_tril = l1) || MultivariateNormal(m2, covariance_matrix = c2)).unwrap()
        };
        assert_eq!(permuted, want, "scale_tril as a permuted view");
    }
}
