//! The four subcommands. Each returns what goes to stdout, or an [`Error`] whose text goes to
//! stderr; nothing is printed here, so a failing `eval` leaves stdout empty.

use crate::args::Dtype;
use crate::data;
use crate::render::{self, Style};
use kl_compiler::grad;
use kl_compiler::interp::{self, Failure, Tensor};
use kl_compiler::ir::Ty;
use kl_compiler::{Compiled, Diagnostics, Ir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// A failed command: the text for stderr and the exit code.
#[derive(Debug)]
pub struct Error {
    pub text: String,
    pub code: i32,
}

impl Error {
    /// A one-line user error (bad data, unreadable file): exit code 1.
    pub fn user(message: impl std::fmt::Display) -> Error {
        Error { text: format!("error: {message}\n"), code: 1 }
    }

    fn compile(diags: &Diagnostics, src: &Source, style: Style) -> Error {
        Error { text: render::diagnostics(diags, &src.text, &src.name, style), code: 1 }
    }
}

/// The program text and the name it is reported under.
#[derive(Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// An argument that names an existing file is read as a file; otherwise it is the expression.
pub fn source(input: &str) -> Result<Source, Error> {
    let path = Path::new(input);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::user(format!("cannot read `{input}`: {}", data::io_cause(&e))))?;
        return Ok(Source { name: input.to_string(), text });
    }
    // `model.kl` cannot be an expression (a method call needs parentheses): a missing file.
    if input.ends_with(".kl") && !input.contains('(') {
        return Err(Error::user(format!("cannot read `{input}`: no such file")));
    }
    Ok(Source { name: "<expr>".into(), text: input.to_string() })
}

fn compile(src: &Source, style: Style) -> Result<Compiled, Error> {
    kl_compiler::compile(&src.text, &Default::default()).map_err(|d| Error::compile(&d, src, style))
}

fn result_shape(ir: &Ir) -> String {
    ir.result_shape().map_or_else(|| "?".into(), ToString::to_string)
}

/// `klc check`: diagnostics, or `ok: <result shape>`.
pub fn check(input: &str, style: Style) -> Result<String, Error> {
    let src = source(input)?;
    let compiled = compile(&src, style)?;
    Ok(format!("ok: {}\n", result_shape(&compiled.simplified)))
}

/// `klc explain`: node shapes, both IR listings, the passes that fired, the formula.
pub fn explain(input: &str, style: Style) -> Result<String, Error> {
    let src = source(input)?;
    let c = compile(&src, style)?;
    let mut out = String::new();
    let _ = writeln!(out, "result: {} of shape {}\n", quantity_name(&c), result_shape(&c.simplified));
    out += "== shapes (batch / event) ==\n";
    out += &shape_table(&c.lowered, &src.text);
    out += "\n== IR after lowering ==\n";
    out += &kl_compiler::pretty::pretty(&c.lowered);
    out += "\n== passes ==\n";
    if c.passes.is_empty() {
        out += "(none fired)\n";
    }
    for name in &c.passes {
        let identity = kl_compiler::simplify::PASSES.iter().find(|p| p.name == *name).map_or("", |p| p.identity);
        let _ = writeln!(out, "{name}: {identity}");
    }
    out += "\n== IR after simplification ==\n";
    out += &kl_compiler::pretty::pretty(&c.simplified);
    out += "\n== formula ==\n";
    out += &kl_compiler::explain::formula(&c.simplified);
    out.push('\n');
    Ok(out)
}

fn quantity_name(c: &Compiled) -> &'static str {
    match c.lowered.root.map(|r| c.lowered.op(r)) {
        Some(kl_compiler::ir::Op::Kl) => "KL divergence",
        Some(kl_compiler::ir::Op::LogProb) => "log density",
        Some(kl_compiler::ir::Op::Entropy) => "entropy",
        _ => "value",
    }
}

/// One row per node of the lowered IR, numbered as in its listing: op, batch and event shape,
/// and the source text the node came from.
fn shape_table(ir: &Ir, src: &str) -> String {
    let rows: Vec<[String; 4]> = ir
        .topo_order()
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let node = ir.node(*id);
            let (batch, event) = match &node.ty {
                Ty::Dist { batch, event } => (batch.to_string(), event.to_string()),
                Ty::Tensor(s) => (s.to_string(), "-".into()),
                Ty::Unknown => ("?".into(), "?".into()),
            };
            let text: String = ir.extent(*id).text(src).split_whitespace().collect::<Vec<_>>().join(" ");
            let text = if text.chars().count() > 48 { text.chars().take(45).collect::<String>() + "..." } else { text };
            [format!("%{n} {}", node.op.name()), batch, event, text]
        })
        .collect();
    let header = ["node".to_string(), "batch".into(), "event".into(), "source".into()];
    let width = |k: usize| rows.iter().chain([&header]).map(|r| r[k].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = String::new();
    for r in std::iter::once(&header).chain(&rows) {
        let line = format!("{:<w0$}  {:<w1$}  {:<w2$}  {}", r[0], r[1], r[2], r[3]);
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// `klc emit`: the generated Rust source (with `grad`, the vector–Jacobian product's).
pub fn emit(
    input: &str,
    dtype: Option<Dtype>,
    name: Option<String>,
    grad: bool,
    style: Style,
) -> Result<String, Error> {
    use kl_codegen::emit::{emit_source, emit_vjp_source, Dtype as EmitDtype, EmitOptions};
    let src = source(input)?;
    let c = compile(&src, style)?;
    let mut opts = EmitOptions::default();
    if let Some(name) = name {
        opts.fn_name = name;
    }
    opts.dtype = dtype.map(|d| match d {
        Dtype::F32 => EmitDtype::F32,
        Dtype::F64 => EmitDtype::F64,
    });
    let emitted = if grad { emit_vjp_source(&c.simplified, &opts) } else { emit_source(&c.simplified, &opts) };
    emitted.map_err(|d| Error::compile(&d, &src, style))
}

/// `klc eval`: `{"shape": [..], "value": ..}` on stdout (with `"grad": {NAME: ..}` when asked),
/// or an error and nothing on stdout.
pub fn eval(input: &str, data_path: &Path, dtype: Dtype, grad: bool, style: Style) -> Result<String, Error> {
    let src = source(input)?;
    let inputs = data::load(data_path).map_err(Error::user)?;
    unused_data(&src, &inputs)?;
    let narrow = || inputs.iter().map(|(k, t)| (k.clone(), t.cast::<f32>())).collect();
    let widen = |(v, g): (Tensor<f32>, BTreeMap<String, Tensor<f32>>)| {
        (v.cast::<f64>(), g.into_iter().map(|(k, t)| (k, t.cast::<f64>())).collect())
    };
    let result = match (dtype, grad) {
        (Dtype::F64, false) => interp::evaluate::<f64>(&src.text, &inputs).map(|v| (v, None)),
        (Dtype::F32, false) => interp::evaluate::<f32>(&src.text, &narrow()).map(|t| (t.cast::<f64>(), None)),
        (Dtype::F64, true) => grad::evaluate_with_grad::<f64>(&src.text, &inputs).map(|(v, g)| (v, Some(g))),
        (Dtype::F32, true) => {
            grad::evaluate_with_grad::<f32>(&src.text, &narrow()).map(widen).map(|(v, g)| (v, Some(g)))
        }
    };
    let (value, grads) = result.map_err(|f| match f {
        Failure::Compile(d) => missing_data(&d, &src).unwrap_or_else(|| Error::compile(&d, &src, style)),
        Failure::Eval(e) => Error::user(e),
    })?;
    Ok(to_json_with(&value, grads.as_ref())? + "\n")
}

/// Every data entry must be a parameter of the expression: an entry nothing reads is most often
/// a misspelt name, and ignoring it would leave the user hunting for the "missing" one. Each
/// unused entry is named with a "did you mean" against the parameters (those without data
/// first), together with the parameters that have no data. A program that does not parse is
/// left to the compiler's diagnostics.
fn unused_data(src: &Source, inputs: &data::Inputs) -> Result<(), Error> {
    let Ok(program) = kl_compiler::parse::parse(&src.text) else { return Ok(()) };
    let params: Vec<&str> = program.params().iter().map(|i| i.name.as_str()).collect();
    let unused: Vec<&String> = inputs.keys().filter(|k| !params.contains(&k.as_str())).collect();
    if unused.is_empty() {
        return Ok(());
    }
    let missing: Vec<&str> = params.iter().copied().filter(|p| !inputs.contains_key(*p)).collect();
    let quoted = |names: &[&str]| names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    let mut text = String::new();
    for name in unused {
        // Close in spelling; else the one parameter without data; else the one parameter the
        // entry's name starts with (`sigma` for `s`: short names are far in edit distance).
        let prefix = || match params.iter().filter(|p| name.starts_with(**p)).collect::<Vec<_>>()[..] {
            [one] => Some(*one),
            _ => None,
        };
        let hint = kl_compiler::diag::suggest(name, &missing)
            .or_else(|| (missing.len() == 1).then(|| missing[0]))
            .or_else(|| kl_compiler::diag::suggest(name, &params))
            .or_else(prefix)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| match params.len() {
                0 => "; the expression has no parameters".to_string(),
                _ => format!("; the parameters are {}", quoted(&params)),
            });
        let _ = writeln!(text, "error: the data entry `{name}` is not a parameter of the expression{hint}");
    }
    if !missing.is_empty() {
        let s = if missing.len() == 1 { "" } else { "s" };
        let _ = writeln!(text, "error: no data given for parameter{s} {}", quoted(&missing));
    }
    Err(Error { text, code: 1 })
}

/// With data, every data name has a shape: an undeclared shape means the data lacks the
/// parameter, which is a data error (one line), not a source error.
fn missing_data(diags: &Diagnostics, src: &Source) -> Option<Error> {
    let mut names: Vec<String> = diags
        .iter()
        .map(|d| (d.code == "decl::missing").then(|| format!("`{}`", d.span.text(&src.text))))
        .collect::<Option<_>>()?;
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    if names.is_empty() {
        return None;
    }
    let s = if names.len() == 1 { "" } else { "s" };
    Some(Error::user(format!("no data given for parameter{s} {}", names.join(", "))))
}

/// The result as one JSON object. JSON has no infinity: an infinite value is the string
/// `"inf"` (`"-inf"` below zero), as the eval contract fixes. NaN is an error naming the index.
#[cfg(test)]
fn to_json(t: &Tensor<f64>) -> Result<String, Error> {
    to_json_with(t, None)
}

/// [`to_json`] with a `"grad"` object: each parameter's gradient nested by its shape.
fn to_json_with(t: &Tensor<f64>, grads: Option<&BTreeMap<String, Tensor<f64>>>) -> Result<String, Error> {
    not_nan(t, "the result")?;
    let mut obj = serde_json::Map::new();
    obj.insert("shape".into(), serde_json::json!(t.shape));
    obj.insert("value".into(), nest(&t.shape, &t.data));
    if let Some(grads) = grads {
        let mut g = serde_json::Map::new();
        for (name, t) in grads {
            not_nan(t, &format!("the gradient with respect to `{name}`"))?;
            g.insert(name.clone(), nest(&t.shape, &t.data));
        }
        obj.insert("grad".into(), Value::Object(g));
    }
    serde_json::to_string(&Value::Object(obj)).map_err(Error::user)
}

fn not_nan(t: &Tensor<f64>, what: &str) -> Result<(), Error> {
    match t.data.iter().position(|v| v.is_nan()) {
        Some(k) => {
            let index = unravel(k, &t.shape);
            let at = if index.is_empty() { String::new() } else { format!(" at index {index:?}") };
            Err(Error::user(format!("{what} is not a number{at}: {}", t.data[k])))
        }
        None => Ok(()),
    }
}

fn nest(shape: &[usize], data: &[f64]) -> Value {
    match shape.split_first() {
        None => match serde_json::Number::from_f64(data[0]) {
            Some(n) => Value::Number(n),
            None if data[0] > 0.0 => Value::String("inf".into()),
            None => Value::String("-inf".into()),
        },
        Some((&n, rest)) => {
            let block: usize = rest.iter().product();
            Value::Array((0..n).map(|i| nest(rest, &data[i * block..(i + 1) * block])).collect())
        }
    }
}

fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (i, &n) in shape.iter().enumerate().rev() {
        idx[i] = k % n.max(1);
        k /= n.max(1);
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_nests_by_shape() {
        let t = Tensor { shape: vec![2, 2], data: vec![1.0, 0.5, -2.0, 1e-300] };
        assert_eq!(to_json(&t).unwrap(), r#"{"shape":[2,2],"value":[[1.0,0.5],[-2.0,1e-300]]}"#);
        assert_eq!(to_json(&Tensor { shape: vec![], data: vec![0.1] }).unwrap(), r#"{"shape":[],"value":0.1}"#);
        assert_eq!(to_json(&Tensor { shape: vec![0], data: vec![] }).unwrap(), r#"{"shape":[0],"value":[]}"#);
    }

    #[test]
    fn nan_results_are_errors_naming_the_index() {
        let t = Tensor { shape: vec![2, 3], data: vec![0.0, 0.0, 0.0, 0.0, f64::NAN, 0.0] };
        assert_eq!(to_json(&t).unwrap_err().text, "error: the result is not a number at index [1, 1]: NaN\n");
    }

    #[test]
    fn infinite_results_are_the_string_inf() {
        let t = Tensor { shape: vec![3], data: vec![f64::INFINITY, 0.5, f64::NEG_INFINITY] };
        assert_eq!(to_json(&t).unwrap(), r#"{"shape":[3],"value":["inf",0.5,"-inf"]}"#);
        let t = Tensor { shape: vec![], data: vec![f64::INFINITY] };
        assert_eq!(to_json(&t).unwrap(), r#"{"shape":[],"value":"inf"}"#);
    }

    #[test]
    fn missing_kl_files_are_not_taken_for_expressions() {
        assert!(source("/nonexistent/model.kl").unwrap_err().text.contains("no such file"));
        assert_eq!(source("Normal(0, 1) || Normal(1, 1)").unwrap().name, "<expr>");
    }

    #[test]
    fn shape_table_lists_batch_and_event_for_every_node() {
        let src = "Normal(m, s).to_event(1) || Normal(0, 1).expand([B, 4]).to_event(1) where m, s: [B, 4]";
        let c = kl_compiler::compile(src, &Default::default()).unwrap();
        let table = shape_table(&c.lowered, src);
        assert!(table.lines().next().unwrap().starts_with("node"));
        assert_eq!(table.lines().count(), kl_compiler::pretty::pretty(&c.lowered).lines().count() + 1);
        let row: Vec<&str> = table
            .lines()
            .find(|l| l.starts_with("%3 "))
            .unwrap()
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(row, ["%3 Independent[1]", "[B]", "[4]", "Normal(m, s).to_event(1)"]);
    }
}
