//! Pieces shared by the fuzz targets: one input is kl source text, then (after a NUL byte)
//! the bytes the target draws its other choices from (parameter shapes, data, options).
//! Keeping the text first lets libFuzzer's dictionary and the `.kl` seed files work on it
//! directly.

use arbitrary::Unstructured;
use kl_compiler::interp::Tensor;
use kl_compiler::{Diagnostics, Dim, Shape, ShapeEnv};
use std::collections::BTreeMap;

/// The source text (up to the first NUL) and the choice bytes after it.
pub fn split(data: &[u8]) -> Option<(&str, Unstructured<'_>)> {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let src = std::str::from_utf8(&data[..cut]).ok()?;
    let rest = data.get(cut + 1..).unwrap_or(&[]);
    Some((src, Unstructured::new(rest)))
}

/// Identifiers in `src`, in order of first appearance (at most 16): candidate parameters.
pub fn names(src: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = src;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
        let tail = &rest[start..];
        let len = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        let word = &tail[..len];
        if !out.iter().any(|w| w == word) {
            out.push(word.to_string());
            if out.len() == 16 {
                break;
            }
        }
        rest = &tail[len..];
    }
    out
}

/// Symbols the fuzzer uses for dims.
pub const SYMBOLS: &[&str] = &["B", "T", "N"];

/// A small shape: rank 0..=3, dims 0..=4 (mostly 1..=4) or a symbol.
pub fn shape(u: &mut Unstructured<'_>) -> arbitrary::Result<Shape> {
    let rank = u.int_in_range(0..=3)?;
    let mut dims = Vec::with_capacity(rank);
    for _ in 0..rank {
        dims.push(match u.int_in_range(0u8..=7)? {
            0 => Dim::Static(0),
            n @ 1..=4 => Dim::Static(n as usize),
            n => Dim::Symbol(SYMBOLS[(n - 5) as usize].to_string()),
        });
    }
    Ok(Shape(dims))
}

/// Shapes for (some of) the identifiers of `src`; declarations in the text win over these.
pub fn env(src: &str, u: &mut Unstructured<'_>) -> ShapeEnv {
    let mut env = ShapeEnv::new();
    for name in names(src) {
        // Out of choice bytes: leave the rest undeclared.
        match u.arbitrary::<bool>().and_then(|given| if given { shape(u).map(Some) } else { Ok(None) }) {
            Ok(Some(s)) => {
                env.insert(name, s);
            }
            Ok(None) => {}
            Err(_) => break,
        }
    }
    env
}

/// Compiler bugs by the compiler's own definition: internal errors must never reach a user.
pub fn assert_no_internal(d: &Diagnostics, src: &str) {
    for e in d.iter() {
        assert!(!e.code.contains("internal"), "internal error for {src:?}:\n{}", e.render_plain(src));
    }
}

/// Values that exercise the kernels' edge cases, plus arbitrary ones.
pub fn value(u: &mut Unstructured<'_>) -> arbitrary::Result<f64> {
    const EDGES: &[f64] = &[
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        2.0,
        1e-300,
        1e300,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::EPSILON,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    Ok(match u.int_in_range(0u8..=3)? {
        0 => *u.choose(EDGES)?,
        1 => u.arbitrary::<f64>()?,
        _ => u.int_in_range(-8i8..=8)? as f64 / 4.0,
    })
}

/// Elements of the largest intermediate tensor the interpreter may allocate per node.
pub const MAX_NUMEL: usize = 4096;

/// Data for every parameter `ir` knows a shape for, with symbols bound to small sizes; `None`
/// when some node of `ir` would be too large to evaluate quickly.
pub fn inputs(ir: &kl_compiler::Ir, u: &mut Unstructured<'_>) -> arbitrary::Result<Option<BTreeMap<String, Tensor<f64>>>> {
    let mut bound: BTreeMap<String, usize> = BTreeMap::new();
    for s in ir.shapes.values() {
        for d in s.dims() {
            if let Dim::Symbol(name) = d {
                if !bound.contains_key(name) {
                    bound.insert(name.clone(), u.int_in_range(0..=3)?);
                }
            }
        }
    }
    let resolve = |s: &Shape| s.resolve(&|name| Some(bound.get(name).copied().unwrap_or(1)));
    let small = |dims: &[usize]| dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).is_some_and(|n| n <= MAX_NUMEL);
    for id in ir.graph.node_indices() {
        let shape = match &ir.node(id).ty {
            kl_compiler::ir::Ty::Tensor(s) => s.clone(),
            kl_compiler::ir::Ty::Dist { batch, event } => batch.concat(event),
            kl_compiler::ir::Ty::Unknown => continue,
        };
        let full = match &ir.node(id).op {
            kl_compiler::ir::Op::SumLast { full, .. } => Some(full.clone()),
            _ => None,
        };
        for s in std::iter::once(shape).chain(full) {
            if !resolve(&s).is_some_and(|d| small(&d)) {
                return Ok(None);
            }
        }
    }
    let mut out = BTreeMap::new();
    for (name, declared) in &ir.shapes {
        let Some(mut dims) = resolve(declared) else { return Ok(None) };
        // Now and then data that disagrees with the declaration.
        if u.ratio(1, 16)? {
            if let Some(d) = dims.last_mut() {
                *d = u.int_in_range(0..=4)?;
            } else {
                dims.push(u.int_in_range(0..=4)?);
            }
        }
        let n: usize = dims.iter().product();
        if n > MAX_NUMEL {
            return Ok(None);
        }
        let data = data(&dims, u);
        out.insert(name.clone(), Tensor::new(dims, data).expect("length matches"));
    }
    Ok(Some(out))
}

/// `n` elements for a tensor of shape `dims`: mostly edge values (`value`), sometimes valid
/// discrete data: integers 0..=4 (counts, category indices, 0/1 outcomes, one-hot entries) or
/// probability rows (non-negative, each last-dim row summing to 1, as `probs=` and simplex data
/// need). Out of choice bytes it falls back to edge values (then all 0), as before.
pub fn data(dims: &[usize], u: &mut Unstructured<'_>) -> Vec<f64> {
    let n: usize = dims.iter().product();
    let mode = u.int_in_range(0u8..=5).unwrap_or(0);
    let mut out = Vec::with_capacity(n);
    match mode {
        // Integers 0..=4.
        4 => {
            for _ in 0..n {
                out.push(u.int_in_range(0u8..=4).unwrap_or(0) as f64);
            }
        }
        // Rows of the last dim normalized to sum 1 (one-hot when one weight is non-zero).
        5 => {
            let k = dims.last().copied().unwrap_or(1).max(1);
            for _ in 0..n {
                out.push(u.int_in_range(0u8..=8).unwrap_or(0) as f64);
            }
            for row in out.chunks_mut(k) {
                let sum: f64 = row.iter().sum();
                if sum == 0.0 {
                    row[0] = 1.0;
                } else {
                    row.iter_mut().for_each(|x| *x /= sum);
                }
            }
        }
        _ => {
            for _ in 0..n {
                out.push(value(u).unwrap_or(1.0));
            }
        }
    }
    out
}
