//! Run-time support for macro expansions. Not a public API: names and signatures may change.

use crate::{Error, Rule, Tensor};
use kl_compiler::interp::{EvalError, Failure};
use kl_compiler::{Ir, ShapeEnv};
use kl_runtime::cshape::CShape;
use kl_runtime::{Real, DYN};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// A parameter holding `T` values: every parameter of one expression shares the element type
/// of the first. A separate trait from `Input` so that a mismatch gets its own message.
#[diagnostic::on_unimplemented(
    message = "this parameter holds `{Self}`, but the expression computes in `{T}`",
    label = "element type differs from the other parameters",
    note = "all parameters of one kl expression share one element type, `f32` or `f64`: convert this one"
)]
pub trait Param<T: Clone> {
    /// The values, row-major.
    fn values(&self) -> Cow<'_, [T]>;
}

// `Param<I::Elem>` rather than `Param<T> where I: Input<Elem = T>`: a mismatch is then an
// unimplemented trait (with the message above), not a bare projection mismatch.
impl<I: kl_runtime::Input + ?Sized> Param<I::Elem> for I {
    fn values(&self) -> Cow<'_, [I::Elem]> {
        self.flat()
    }
}

/// A declared dim: static, or the index of a symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum D {
    S(usize),
    Sym(usize),
}

/// In the compile-time checks, a declared parameter has its declared shape when its Rust
/// type is a flat buffer (rank 1, length known only at run time: the declaration says more,
/// even at rank 1 where `[8]` pins the length), and its type's shape otherwise (the two were
/// already checked to agree).
pub const fn declared_or_actual(declared: CShape, actual: CShape) -> CShape {
    if actual.rank == 1 && actual.dims[0] == DYN {
        declared
    } else {
        actual
    }
}

fn shape_error(param: &str, message: String) -> Error {
    Error::new(param, &[], Rule::Shape { message })
}

/// A declared shape as written, e.g. `[B, 8]`.
fn show(dims: &[D], names: &[&str]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| match d {
            D::S(n) => n.to_string(),
            D::Sym(k) => names.get(*k).map_or("_".to_string(), |s| s.to_string()),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// Bind the symbolic dims of the declared shapes to the values' sizes. A value whose type has
/// the declared rank binds dim by dim; a flat buffer (rank 1) binds the one symbol its length
/// leaves open. Every disagreement is an error naming the parameter and both shapes.
pub fn bind(params: &[(&str, &[D], Vec<usize>)], names: &[&str]) -> Result<Vec<usize>, Error> {
    let mut syms: Vec<Option<usize>> = vec![None; names.len()];
    // Full-rank values first: they pin symbols that flat buffers then rely on.
    for (name, decl, actual) in params.iter().filter(|(_, d, a)| d.len() == a.len()) {
        for (d, &n) in decl.iter().zip(actual) {
            match *d {
                D::S(s) if s != n => {
                    return Err(shape_error(
                        name,
                        format!("declared with shape {} but the value has shape {actual:?}", show(decl, names)),
                    ))
                }
                D::S(_) => {}
                D::Sym(k) => match syms[k] {
                    Some(v) if v != n => {
                        return Err(shape_error(
                            name,
                            format!(
                                "declared with shape {} but the value has shape {actual:?} (`{}` is {v} from another parameter)",
                                show(decl, names),
                                names[k]
                            ),
                        ))
                    }
                    _ => syms[k] = Some(n),
                },
            }
        }
    }
    for (name, decl, actual) in params.iter().filter(|(_, d, a)| d.len() != a.len()) {
        let len: usize = actual.iter().product();
        if actual.len() != 1 {
            return Err(shape_error(
                name,
                format!(
                    "declared with shape {} (rank {}) but the value has shape {actual:?}",
                    show(decl, names),
                    decl.len()
                ),
            ));
        }
        let mut known = 1usize;
        let mut open = Vec::new();
        for d in decl.iter() {
            match *d {
                D::S(s) => known *= s,
                D::Sym(k) => match syms[k] {
                    Some(v) => known *= v,
                    None => open.push(k),
                },
            }
        }
        open.dedup();
        match open.as_slice() {
            [] if known == len => {}
            [k] if known > 0 && len.is_multiple_of(known) => syms[*k] = Some(len / known),
            [] | [_] => {
                return Err(Error::new(*name, &[], Rule::LengthMismatch { expected: known, found: len }));
            }
            _ => {
                return Err(shape_error(
                    name,
                    format!(
                        "a flat buffer cannot bind several unknown dims of {}: declare them elsewhere",
                        show(decl, names)
                    ),
                ))
            }
        }
    }
    syms.iter()
        .enumerate()
        .map(|(k, s)| s.ok_or_else(|| shape_error("", format!("no parameter gives the size of `{}`", names[k]))))
        .collect()
}

/// One argument of the shapes-from-types path: name, run-time dims, row-major values.
pub type Arg<'a, T> = (&'a str, Vec<usize>, Cow<'a, [T]>);

/// Compiled programs of one `kl!` call site, by the shapes of its arguments: a call in a loop
/// compiles once per distinct set of shapes, not once per call.
pub struct Cache {
    compiled: OnceLock<Mutex<ByShapes>>,
}

/// Simplified IR by the argument shapes it was compiled for.
type ByShapes = HashMap<Vec<Vec<usize>>, Arc<Ir>>;

impl Cache {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Cache { compiled: OnceLock::new() }
    }

    fn get(&self, src: &str, key: Vec<Vec<usize>>, env: &ShapeEnv) -> Result<Arc<Ir>, Failure> {
        let map = self.compiled.get_or_init(Default::default);
        if let Some(ir) = map.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(ir.clone());
        }
        let ir = Arc::new(kl_compiler::compile(src, env).map_err(Failure::Compile)?.simplified);
        map.lock().unwrap_or_else(|e| e.into_inner()).insert(key, ir.clone());
        Ok(ir)
    }
}

/// The shapes-from-types path: compile with the values' shapes (once per call site and set of
/// shapes) and interpret.
pub fn eval<T: Real>(src: &str, cache: &Cache, inputs: &[Arg<'_, T>]) -> Result<Tensor<T>, Error> {
    let map: BTreeMap<String, Tensor<T>> = inputs
        .iter()
        .map(|(n, dims, data)| (n.to_string(), Tensor { shape: dims.clone(), data: data.to_vec() }))
        .collect();
    let env: ShapeEnv = inputs.iter().map(|(n, dims, _)| (n.to_string(), kl_compiler::Shape::of(dims))).collect();
    let key = inputs.iter().map(|(_, dims, _)| dims.clone()).collect();
    let result = cache.get(src, key, &env).and_then(|ir| kl_compiler::interp::eval(&ir, &map).map_err(Failure::Eval));
    result.map_err(|f| match f {
        Failure::Eval(EvalError::Data(e)) => e,
        Failure::Eval(e @ EvalError::ShapeMismatch { .. }) => {
            let EvalError::ShapeMismatch { param, .. } = &e else { unreachable!() };
            shape_error(param, e.to_string())
        }
        Failure::Eval(e) => shape_error("", e.to_string()),
        Failure::Compile(d) => {
            // Name the parameters the failing sub-expression mentions (all of them for a rule
            // on the whole expression, such as the batch shapes of a KL).
            let text = d.iter().next().map_or("", |d| d.span.text(src));
            let words: Vec<&str> = text.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
            let mut named: Vec<&str> = inputs.iter().map(|(n, ..)| *n).filter(|n| words.contains(n)).collect();
            if named.is_empty() {
                named = inputs.iter().map(|(n, ..)| *n).collect();
            }
            shape_error(&named.join(", "), d.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_symbols_from_full_rank_values_then_flat_buffers() {
        let syms =
            bind(&[("m", &[D::Sym(0), D::S(8)], vec![5, 8]), ("s", &[D::Sym(0), D::S(8)], vec![40])], &["B"]).unwrap();
        assert_eq!(syms, vec![5]);
        let syms = bind(&[("s", &[D::Sym(0), D::S(8)], vec![24])], &["B"]).unwrap();
        assert_eq!(syms, vec![3]);
    }

    #[test]
    fn disagreements_name_the_parameter_and_both_shapes() {
        let e = bind(&[("m", &[D::Sym(0), D::S(8)], vec![5, 4])], &["B"]).unwrap_err();
        assert_eq!(e.param, "m");
        assert_eq!(e.to_string(), "parameter `m`: declared with shape [B, 8] but the value has shape [5, 4]");
        let e = bind(&[("m", &[D::Sym(0), D::S(8)], vec![5, 8]), ("s", &[D::Sym(0), D::S(8)], vec![41])], &["B"])
            .unwrap_err();
        assert_eq!(e.rule, Rule::LengthMismatch { expected: 40, found: 41 });
        let e = bind(&[("m", &[D::Sym(0)], vec![5]), ("s", &[D::Sym(0)], vec![6])], &["B"]).unwrap_err();
        assert_eq!(e.param, "s");
        assert!(e.to_string().contains("(`B` is 5 from another parameter)"), "{e}");
        let e = bind(&[("m", &[D::Sym(0), D::Sym(1)], vec![6])], &["T", "B"]).unwrap_err();
        assert!(e.to_string().contains("cannot bind several unknown dims of [T, B]"), "{e}");
    }
}
