//! Emit one function per `.kl` input (from `tests/inputs` and the local `inputs`), in a generic
//! and, for some, an `f32` version, plus slice adapters and a table of cases.
//!
//! Inputs that do not compile (diagnostic test inputs) are listed in `NOT_COMPILED`; inputs that
//! compile but fail to emit are listed in `EMIT_FAILURES`, which the tests require to be empty,
//! so an emitter gap fails a test with its message rather than the build.

use kl_codegen::emit::{arguments, emit_source, emit_vjp_source, Dtype, EmitOptions};
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn inputs() -> Vec<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [here.join("../inputs"), here.join("inputs")] {
        println!("cargo:rerun-if-changed={}", dir.display());
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "kl"))
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}

/// A function name from a file stem, unique among `taken`.
fn fn_name(stem: &str, taken: &mut Vec<String>) -> String {
    let mut name: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name = format!("case_{name}");
    }
    let base = name.clone();
    let mut k = 2;
    while taken.contains(&name) {
        name = format!("{base}_{k}");
        k += 1;
    }
    taken.push(name.clone());
    name
}

fn adapter(name: &str, target: &str, n_params: usize, n_dims: usize, ty: &str) -> String {
    let mut args: Vec<String> = (0..n_params).map(|i| format!("p[{i}]")).collect();
    args.extend((0..n_dims).map(|i| format!("d[{i}]")));
    args.push("out".into());
    format!(
        "#[allow(unused_variables)]\npub fn {name}(p: &[&[{ty}]], d: &[usize], out: &mut [{ty}]) -> Result<(), ::kl_runtime::Error> {{ {target}({}) }}\n",
        args.join(", ")
    )
}

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let (mut generic, mut f32s) = (String::new(), String::new());
    let (mut cases, mut cases_f32) = (String::new(), String::new());
    let (mut not_compiled, mut failures) = (String::new(), String::new());
    let mut taken = Vec::new();
    for (n, path) in inputs().iter().enumerate() {
        println!("cargo:rerun-if-changed={}", path.display());
        let src = std::fs::read_to_string(path).unwrap();
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let shown = path.display().to_string();
        let Ok(compiled) = kl_compiler::compile(&src, &Default::default()) else {
            writeln!(not_compiled, "    {shown:?},").unwrap();
            continue;
        };
        let ir = &compiled.simplified;
        let name = fn_name(&stem, &mut taken);
        let (params, dims) = arguments(ir);
        let opts = EmitOptions { fn_name: name.clone(), ..Default::default() };
        match emit_source(ir, &opts) {
            Ok(code) => {
                generic += &code;
                generic +=
                    &adapter(&format!("call_{name}"), &format!("{name}::<f64>"), params.len(), dims.len(), "f64");
                generic += &adapter(
                    &format!("call_{name}_unchecked"),
                    &format!("{name}_unchecked::<f64>"),
                    params.len(),
                    dims.len(),
                    "f64",
                );
                writeln!(
                    cases,
                    "    crate::Case {{ name: {name:?}, path: {shown:?}, src: {src:?}, checked: call_{name}, unchecked: call_{name}_unchecked }},"
                )
                .unwrap();
            }
            Err(e) => {
                writeln!(failures, "    ({shown:?}, {:?}),", e.render_plain(&src)).unwrap();
                continue;
            }
        }
        // Every third input also as a concrete f32 function.
        if n % 3 == 0 {
            let opts = EmitOptions { fn_name: name.clone(), dtype: Some(Dtype::F32), ..Default::default() };
            if let Ok(code) = emit_source(ir, &opts) {
                f32s += &code;
                f32s += &adapter(&format!("call_{name}"), &name, params.len(), dims.len(), "f32");
                f32s += &adapter(
                    &format!("call_{name}_unchecked"),
                    &format!("{name}_unchecked"),
                    params.len(),
                    dims.len(),
                    "f32",
                );
                writeln!(
                    cases_f32,
                    "    crate::Case {{ name: {name:?}, path: {shown:?}, src: {src:?}, checked: call_{name}, unchecked: call_{name}_unchecked }},"
                )
                .unwrap();
            }
        }
    }
    generic += &format!("\n/// Every emitted input.\npub const CASES: &[crate::Case<f64>] = &[\n{cases}];\n");
    generic += &format!("\n/// Inputs that do not compile (diagnostic cases).\npub const NOT_COMPILED: &[&str] = &[\n{not_compiled}];\n");
    generic += &format!(
        "\n/// Inputs that compile but could not be emitted, with the rendered error.\npub const EMIT_FAILURES: &[(&str, &str)] = &[\n{failures}];\n"
    );
    f32s += &format!("\n/// The inputs emitted for `f32`.\npub const CASES: &[crate::Case<f32>] = &[\n{cases_f32}];\n");
    std::fs::write(out_dir.join("generated.rs"), generic).unwrap();
    std::fs::write(out_dir.join("generated_f32.rs"), f32s).unwrap();
    std::fs::write(out_dir.join("reference.rs"), reference()).unwrap();
}

/// The shape of a JSON number or nested array.
fn json_shape(v: &serde_json::Value) -> Vec<usize> {
    match v {
        serde_json::Value::Array(items) => {
            let mut s = vec![items.len()];
            if let Some(first) = items.first() {
                s.extend(json_shape(first));
            }
            s
        }
        _ => Vec::new(),
    }
}

/// One emitted function per mpmath reference case (`tests/reference/cases.json`), with the
/// static shapes of its data, so the emitted code is held to the same accuracy targets as the
/// interpreter.
fn reference() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reference/cases.json");
    println!("cargo:rerun-if-changed={}", path.display());
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let (mut code, mut table, mut vjps, mut no_vjp) = (String::new(), String::new(), String::new(), String::new());
    for (i, case) in json["cases"].as_array().unwrap().iter().enumerate() {
        let expr = case["expr"].as_str().unwrap();
        let env = case["data"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), kl_compiler::Shape::of(&json_shape(v))))
            .collect();
        let Ok(compiled) = kl_compiler::compile(expr, &env) else { continue };
        let name = format!("ref_{i}");
        let (params, dims) = arguments(&compiled.simplified);
        let opts = EmitOptions { fn_name: name.clone(), ..Default::default() };
        let Ok(src) = emit_source(&compiled.simplified, &opts) else { continue };
        code += &src;
        code += &adapter(&format!("call_{name}"), &format!("{name}::<f64>"), params.len(), dims.len(), "f64");
        writeln!(table, "    ({:?}, call_{name}),", case["name"].as_str().unwrap()).unwrap();
        // The vector–Jacobian product, where the emitter covers it.
        let vjp = format!("vjp_{i}");
        let opts = EmitOptions { fn_name: vjp.clone(), ..Default::default() };
        match emit_vjp_source(&compiled.simplified, &opts) {
            Ok(src) => {
                code += &src;
                code += &vjp_adapter(&format!("call_{vjp}"), &format!("{vjp}::<f64>"), params.len(), dims.len());
                writeln!(vjps, "    ({:?}, call_{vjp}),", case["name"].as_str().unwrap()).unwrap();
            }
            Err(e) => {
                writeln!(no_vjp, "    ({:?}, {:?}),", case["name"].as_str().unwrap(), e.render_plain(expr)).unwrap()
            }
        }
    }
    code += &format!("\n/// (case name, emitted function) for every reference case.\npub const CASES: &[(&str, crate::Call<f64>)] = &[\n{table}];\n");
    code += &format!("\n/// (case name, emitted VJP) for every reference case the VJP emitter covers.\npub const VJPS: &[(&str, crate::VjpCall<f64>)] = &[\n{vjps}];\n");
    code += &format!("\n/// (case name, rendered error) for the reference cases it does not cover.\npub const NO_VJP: &[(&str, &str)] = &[\n{no_vjp}];\n");
    code
}

/// `name(p, d, grad_out, out, grads)` calling the VJP `target` with its arguments in order.
fn vjp_adapter(name: &str, target: &str, n_params: usize, n_dims: usize) -> String {
    let mut args: Vec<String> = (0..n_params).map(|i| format!("p[{i}]")).collect();
    args.extend((0..n_dims).map(|i| format!("d[{i}]")));
    args.push("up".into());
    args.push("out".into());
    let grads: Vec<String> = (0..n_params).map(|i| format!("g{i}")).collect();
    args.extend(grads.iter().cloned());
    format!(
        "#[allow(unused_variables)]\npub fn {name}(p: &[&[f64]], d: &[usize], up: &[f64], out: &mut [f64], g: &mut [Vec<f64>]) -> Result<(), ::kl_runtime::Error> {{ let [{}] = g else {{ panic!(\"{n_params} gradient buffers\") }}; {target}({}) }}\n",
        grads.join(", "),
        args.join(", ")
    )
}
