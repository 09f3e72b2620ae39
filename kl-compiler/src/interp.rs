//! The interpreter: executes a simplified IR on data, with the same `kl-runtime` kernels the
//! emitted code calls. Every node is materialized as a dense row-major tensor.

use crate::ir::{CoreOut, Ir, MvnParam, NodeId, NormalParam, Op, Role};
use crate::shape::{Dim, Shape};
use kl_runtime as rt;
use kl_runtime::Real;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// A dense row-major tensor: the batch-shaped result of a query (a 0-d tensor for an empty
/// batch shape, see [`Tensor::scalar`]). Dereferences to its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor<T> {
    pub shape: Vec<usize>,
    pub data: Vec<T>,
}

impl<T> std::ops::Deref for Tensor<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.data
    }
}

impl<T: Real> Tensor<T> {
    /// A 0-d tensor holding `v`.
    pub fn from_scalar(v: T) -> Self {
        Tensor { shape: Vec::new(), data: vec![v] }
    }

    /// `None` when the data length does not match the shape.
    pub fn new(shape: Vec<usize>, data: Vec<T>) -> Option<Self> {
        (shape.iter().product::<usize>() == data.len()).then_some(Tensor { shape, data })
    }

    /// The value of a 0-d tensor (an empty batch shape); `None` for any other shape.
    pub fn scalar(&self) -> Option<T> {
        (self.shape.is_empty()).then(|| self.data[0])
    }

    /// The element at a multi-index, `None` when out of bounds.
    pub fn get(&self, index: &[usize]) -> Option<T> {
        if index.len() != self.shape.len() || index.iter().zip(&self.shape).any(|(i, n)| i >= n) {
            return None;
        }
        let flat = index.iter().zip(&self.shape).fold(0, |acc, (i, n)| acc * n + i);
        self.data.get(flat).copied()
    }

    pub fn cast<U: Real>(&self) -> Tensor<U> {
        Tensor { shape: self.shape.clone(), data: self.data.iter().map(|v| U::from_f64(v.to_f64())).collect() }
    }
}

/// Why an evaluation failed after compilation succeeded.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// A parameter is used by the expression but no data was given for it.
    MissingParam(String),
    /// The data's shape disagrees with the declared shape, or binds a symbol two ways.
    ShapeMismatch { param: String, declared: Shape, found: Vec<usize>, reason: String },
    /// A value breaks a distribution's rule.
    Data(rt::Error),
    /// A gradient was asked of an expression whose closed form has no adjoint yet.
    NoGradient(String),
    /// The upstream gradient's shape is not the result's.
    GradShape { expected: Vec<usize>, found: Vec<usize> },
    /// A shape symbol the expression needs (in an `.expand(..)`, say) that no parameter's data
    /// binds: `declared_by` are the declared parameters whose shapes mention it, none of them
    /// used by the expression.
    UnboundSymbol { symbol: String, declared_by: Vec<String> },
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::MissingParam(p) => write!(f, "no data given for parameter `{p}`"),
            EvalError::ShapeMismatch { param, declared, found, reason } => {
                write!(
                    f,
                    "parameter `{param}` is declared with shape {declared} but the data has shape {found:?}: {reason}"
                )
            }
            EvalError::Data(e) => write!(f, "{e}"),
            EvalError::NoGradient(k) => {
                write!(f, "gradients are not available for `{k}`: it has no closed-form adjoint")
            }
            EvalError::GradShape { expected, found } => {
                write!(f, "the upstream gradient has shape {found:?}, but the result has shape {expected:?}")
            }
            EvalError::UnboundSymbol { symbol, declared_by } => {
                write!(f, "the size `{symbol}` is not known: no parameter of the expression has it in its shape")?;
                match declared_by.as_slice() {
                    [] => Ok(()),
                    names => {
                        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                        write!(
                            f,
                            " (it appears in the shape declared for {}, which the expression does not use)",
                            names.join(", ")
                        )
                    }
                }
            }
        }
    }
}

impl std::error::Error for EvalError {}

impl From<rt::Error> for EvalError {
    fn from(e: rt::Error) -> Self {
        EvalError::Data(e)
    }
}

/// Bind the symbolic dims of the declared parameter shapes to the data's sizes.
pub fn bind_symbols<T>(ir: &Ir, inputs: &BTreeMap<String, Tensor<T>>) -> Result<HashMap<String, usize>, EvalError> {
    let mut bound: HashMap<String, usize> = HashMap::new();
    // Every parameter of the expression, including those simplification made dead (an
    // entropy does not read `loc`): they still bind symbols and must still be given.
    for name in &ir.param_names() {
        let declared = &ir.shapes[name];
        let t = inputs.get(name).ok_or_else(|| EvalError::MissingParam(name.clone()))?;
        let mismatch = |reason: String| EvalError::ShapeMismatch {
            param: name.clone(),
            declared: declared.clone(),
            found: t.shape.clone(),
            reason,
        };
        if declared.rank() != t.shape.len() {
            return Err(mismatch(format!("rank {} versus rank {}", declared.rank(), t.shape.len())));
        }
        for (d, &n) in declared.dims().iter().zip(&t.shape) {
            match d {
                Dim::Static(s) if *s != n => return Err(mismatch(format!("dim {s} versus {n}"))),
                Dim::Static(_) => {}
                Dim::Symbol(sym) => match bound.insert(sym.clone(), n) {
                    Some(prev) if prev != n => {
                        return Err(mismatch(format!(
                            "`{sym}` is already bound to {prev} by another parameter, here it is {n}"
                        )))
                    }
                    _ => {}
                },
            }
        }
    }
    // Every symbol in a shape the evaluation resolves must now be bound: one that only an
    // unused declaration mentions (`where l: [B, 2]`, with `l` unused, and `.expand([B, 2])`)
    // would otherwise leave a shape unresolved.
    for id in ir.topo_order() {
        let Some(shape) = ir.ty(id).tensor() else { continue };
        for d in shape.dims() {
            if let Dim::Symbol(sym) = d {
                if !bound.contains_key(sym) {
                    let declared_by = ir
                        .shapes
                        .iter()
                        .filter(|(_, s)| s.dims().iter().any(|d| matches!(d, Dim::Symbol(x) if x == sym)))
                        .map(|(n, _)| n.clone())
                        .collect();
                    return Err(EvalError::UnboundSymbol { symbol: sym.clone(), declared_by });
                }
            }
        }
    }
    Ok(bound)
}

/// Check every parameter against the rules of the roles it is used in (scale > 0, finite,
/// symmetric positive-definite matrices, lower factors with a positive diagonal).
pub fn validate<T: Real>(ir: &Ir, inputs: &BTreeMap<String, Tensor<T>>) -> Result<(), rt::Error> {
    for (name, roles) in ir.roles_in_order() {
        let name = name.as_str();
        let Some(t) = inputs.get(name) else { continue };
        for role in roles {
            match role.element_rule() {
                Some(rule) => each_element(t, |idx, v| rule.apply(name, idx, v))?,
                None => {
                    let d = t.shape.last().copied().unwrap_or(1);
                    let mut scratch = vec![T::ZERO; rt::scratch_len_check_spd(d)];
                    let tol = T::from_f64(1e-8).max(T::EPSILON * T::from_f64(64.0));
                    for_each_block(&t.shape, 2, |idx, off| {
                        let block = &t.data[off..off + d * d];
                        if *role == Role::ScaleTril {
                            rt::check_scale_tril(name, idx, block, d)
                        } else {
                            rt::check_spd(name, idx, block, d, tol, &mut scratch)
                        }
                    })?;
                }
            }
        }
    }
    Ok(())
}

fn each_element<T: Real>(
    t: &Tensor<T>,
    mut f: impl FnMut(&[usize], T) -> Result<(), rt::Error>,
) -> Result<(), rt::Error> {
    for_each_block(&t.shape, 0, |idx, off| f(idx, t.data[off]))
}

/// Call `f(batch_index, offset)` for each block of the last `core` dims.
fn for_each_block<E>(
    shape: &[usize],
    core: usize,
    mut f: impl FnMut(&[usize], usize) -> Result<(), E>,
) -> Result<(), E> {
    let batch = &shape[..shape.len().saturating_sub(core)];
    let block: usize = shape[batch.len()..].iter().product();
    let mut idx = vec![0; batch.len()];
    let total: usize = batch.iter().product();
    for n in 0..total {
        f(&idx, n * block)?;
        increment(&mut idx, batch);
    }
    Ok(())
}

pub(crate) fn increment(idx: &mut [usize], shape: &[usize]) {
    for k in (0..idx.len()).rev() {
        idx[k] += 1;
        if idx[k] < shape[k] {
            return;
        }
        idx[k] = 0;
    }
}

/// Evaluate the root of a simplified IR. Validates the inputs first.
pub fn eval<T: Real>(ir: &Ir, inputs: &BTreeMap<String, Tensor<T>>) -> Result<Tensor<T>, EvalError> {
    let syms = bind_symbols(ir, inputs)?;
    if let Some(v) = rows_fast_path(ir, inputs, &syms) {
        return Ok(v);
    }
    validate(ir, inputs)?;
    let mut values = forward(ir, inputs, &syms)?;
    Ok(values.remove(&ir.root()).expect("root evaluated"))
}

/// Every node's value, operands first (inputs already validated, symbols bound).
pub(crate) fn forward<T: Real>(
    ir: &Ir,
    inputs: &BTreeMap<String, Tensor<T>>,
    syms: &HashMap<String, usize>,
) -> Result<HashMap<NodeId, Tensor<T>>, EvalError> {
    let mut values: HashMap<NodeId, Tensor<T>> = HashMap::new();
    for id in ir.topo_order() {
        let shape = ir.ty(id).tensor().and_then(|s| s.resolve(&|name| syms.get(name).copied())).unwrap_or_default();
        let args: Vec<&Tensor<T>> = ir.operands(id).iter().map(|o| &values[o]).collect();
        let v = node(ir, id, &shape, &args, inputs, syms)?;
        debug_assert_eq!(v.shape, shape, "interpreter shape for {}", ir.op(id).name());
        values.insert(id, v);
    }
    Ok(values)
}

/// A sum over rows of a kernel with a batched row form (the univariate normal KL, KL against
/// `N(0, 1)` and log density; the Bernoulli logits KL, also unsummed) whose operands are
/// parameters of the full shape: the runtime's one-pass row kernels ([`rt::normal_kl_rows`],
/// [`rt::bernoulli_kl_logits_rows`]), which validate as they go. `None` when the IR is not of
/// that form, or when a value is invalid (the careful path then reports the interpreter's first
/// error).
fn rows_fast_path<T: Real>(
    ir: &Ir,
    inputs: &BTreeMap<String, Tensor<T>>,
    syms: &HashMap<String, usize>,
) -> Option<Tensor<T>> {
    let root = ir.root?;
    if let Op::VectorKernel(v) = ir.op(root) {
        return vector_rows(ir, root, v, inputs, syms);
    }
    // `sum_last[k]` of the kernel, or the kernel itself where its row form also serves `d = 1`.
    let (x, k) = match ir.op(root) {
        Op::SumLast { k, .. } if *k > 0 => (ir.operand(root, 0), *k),
        Op::Kernel(kernel) if (kernel.kernel.rows)(kernel.attrs).is_some_and(|r| r.elementwise) => (root, 0),
        _ => return None,
    };
    let resolve = |id: NodeId| ir.ty(id).tensor()?.resolve(&|name| syms.get(name).copied());
    let (full, shape) = (resolve(x)?, resolve(root)?);
    if k > full.len() || full[..full.len() - k] != shape[..] {
        return None;
    }
    let mut args = Vec::new();
    for o in ir.operands(x) {
        let Op::Param(name) = ir.op(o) else { return None };
        let t = inputs.get(name)?;
        if t.shape != full {
            return None;
        }
        args.push(&t.data[..]);
    }
    if !reads_every_param(ir, x) {
        return None;
    }
    let d: usize = full[full.len() - k..].iter().product();
    let mut out = vec![T::ZERO; shape.iter().product()];
    // The kernel's batched row form, from its descriptor.
    let ok = match ir.op(x) {
        Op::Kernel(k) => k.rows(d, &args, &mut out, true),
        _ => false,
    };
    ok.then_some(Tensor { shape, data: out })
}

/// Whether the operands of `id` include every parameter of the expression: a batched kernel
/// validates exactly its inputs, so parameters it does not read would go unvalidated.
fn reads_every_param(ir: &Ir, id: NodeId) -> bool {
    ir.roles.keys().all(|name| ir.operands(id).iter().any(|&o| matches!(ir.op(o), Op::Param(n) if n == name)))
}

/// [`rows_fast_path`] for a row kernel at the root with a batched form: every operand a row
/// parameter `[.., K]` whose batch dims are the result's, the same `K` for all.
fn vector_rows<T: Real>(
    ir: &Ir,
    root: NodeId,
    v: &crate::kernel::VectorKernel,
    inputs: &BTreeMap<String, Tensor<T>>,
    syms: &HashMap<String, usize>,
) -> Option<Tensor<T>> {
    let rows = v.rows?;
    if v.cores.iter().any(|&c| c != 1) {
        return None;
    }
    let shape = ir.ty(root).tensor()?.resolve(&|name| syms.get(name).copied())?;
    let (mut args, mut k) = (Vec::new(), None);
    for o in ir.operands(root) {
        let Op::Param(name) = ir.op(o) else { return None };
        let t = inputs.get(name)?;
        let whole = t.shape.len() == shape.len() + 1 && t.shape[..shape.len()] == shape[..];
        if !whole || k.is_some_and(|k| Some(&k) != t.shape.last()) {
            return None;
        }
        k = t.shape.last().copied();
        args.push(&t.data[..]);
    }
    if !reads_every_param(ir, root) {
        return None;
    }
    let mut out = vec![T::ZERO; shape.iter().product()];
    rows.call(k?, &args, &mut out, true).then_some(Tensor { shape, data: out })
}

fn node<T: Real>(
    ir: &Ir,
    id: NodeId,
    shape: &[usize],
    args: &[&Tensor<T>],
    inputs: &BTreeMap<String, Tensor<T>>,
    syms: &HashMap<String, usize>,
) -> Result<Tensor<T>, EvalError> {
    let out = |data: Vec<T>| Tensor { shape: shape.to_vec(), data };
    Ok(match ir.op(id) {
        Op::Param(name) => inputs.get(name).cloned().ok_or_else(|| EvalError::MissingParam(name.clone()))?,
        Op::Literal(v) => Tensor::from_scalar(T::from_f64(*v)),
        Op::Zeros(_) => out(vec![T::ZERO; shape.iter().product()]),
        Op::BroadcastTo(_) => broadcast(args[0], shape),
        Op::Diag => {
            let v = args[0];
            let d = *v.shape.last().unwrap_or(&1);
            let mut data = vec![T::ZERO; shape.iter().product()];
            for (b, chunk) in v.data.chunks(d.max(1)).enumerate() {
                for (i, x) in chunk.iter().enumerate() {
                    data[b * d * d + i * d + i] = *x;
                }
            }
            out(data)
        }
        Op::SumLast { k, .. } => {
            let full: Vec<usize> = shape.iter().copied().chain(summed_dims(ir, id, *k, args[0], syms)).collect();
            let x = broadcast(args[0], &full);
            let block: usize = full[shape.len()..].iter().product();
            if block == 0 {
                // A sum over no elements (a summed dim of size 0): zeros, one per result element.
                return Ok(out(vec![T::ZERO; shape.iter().product()]));
            }
            out(x.data.chunks(block).map(|c| c.iter().copied().sum()).collect())
        }
        op @ (Op::ScaleFrom(_)
        | Op::DiagTrilKl
        | Op::TrilDiagKl
        | Op::TrilKl
        | Op::SpdKl(_)
        | Op::MixedSpdKl(_)
        | Op::LowRankKl
        | Op::TrilLogProb
        | Op::TrilEntropy
        | Op::TrilFrom(_)
        | Op::LowRankTril
        | Op::Kernel(_)
        | Op::VectorKernel(_)) => kernel(ir, id, op, shape, args)?,
        op => unreachable!("`{}` left in a simplified IR", op.name()),
    })
}

/// The sizes of the summed dims of a `SumLast`, from its `full` shape (symbols are resolved
/// through the operand's concrete shape, which broadcasts to it).
pub(crate) fn summed_dims<T: Real>(
    ir: &Ir,
    id: NodeId,
    k: usize,
    x: &Tensor<T>,
    syms: &HashMap<String, usize>,
) -> Vec<usize> {
    let Op::SumLast { full, .. } = ir.op(id) else { unreachable!() };
    let resolved = full.resolve(&|s| syms.get(s).copied());
    match resolved {
        Some(f) => f[f.len() - k..].to_vec(),
        None => x.shape[x.shape.len().saturating_sub(k)..].to_vec(),
    }
}

/// `x` broadcast to `shape` (NumPy rules; the checker guaranteed compatibility).
pub fn broadcast<T: Real>(x: &Tensor<T>, shape: &[usize]) -> Tensor<T> {
    if x.shape == shape {
        return x.clone();
    }
    let strides = broadcast_strides(&x.shape, shape);
    let mut data = Vec::with_capacity(shape.iter().product());
    let mut idx = vec![0; shape.len()];
    for _ in 0..shape.iter().product::<usize>() {
        data.push(x.data[idx.iter().zip(&strides).map(|(i, s)| i * s).sum::<usize>()]);
        increment(&mut idx, shape);
    }
    Tensor { shape: shape.to_vec(), data }
}

/// Strides of `from` viewed as `to` (right-aligned; 0 where `from` broadcasts).
pub(crate) fn broadcast_strides(from: &[usize], to: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; to.len()];
    let mut stride = 1;
    for k in 1..=from.len() {
        let n = from[from.len() - k];
        if n != 1 {
            strides[to.len() - k] = stride;
        }
        stride *= n;
    }
    strides
}

fn param_name(ir: &Ir, id: NodeId, slot: usize, fallback: &str) -> String {
    ir.operand_name(id, slot).unwrap_or(fallback).to_string()
}

/// A batched kernel: walk the broadcast batch, hand each operand's core block to `kl-runtime`.
fn kernel<T: Real>(ir: &Ir, id: NodeId, op: &Op, shape: &[usize], args: &[&Tensor<T>]) -> Result<Tensor<T>, EvalError> {
    let sig = op.signature().expect("kernel op");
    let out_core = match sig.output {
        CoreOut::Scalar => 0,
        CoreOut::Square { .. } => 2,
    };
    let batch = &shape[..shape.len() - out_core];
    let block_out: usize = shape[batch.len()..].iter().product();
    // Per operand: strides of its batch dims viewed in the output batch, and its core size.
    let views: Vec<(Vec<usize>, usize)> = args
        .iter()
        .zip(sig.inputs)
        .map(|(a, &c)| {
            let (b, core) = a.shape.split_at(a.shape.len() - c);
            let core_len: usize = core.iter().product();
            let strides = broadcast_strides(b, batch).into_iter().map(|s| s * core_len).collect();
            (strides, core_len)
        })
        .collect();
    // The event size d: the last core dim of the widest operand.
    let d = match op {
        // W is [.., d, r]: d is its second-to-last dim.
        Op::LowRankTril => args[0].shape[args[0].shape.len() - 2],
        Op::LowRankKl => *args[0].shape.last().unwrap_or(&1),
        _ => args
            .iter()
            .zip(sig.inputs)
            .filter(|(_, c)| **c > 0)
            .map(|(a, _)| *a.shape.last().unwrap())
            .max()
            .unwrap_or(1),
    };
    let mut scratch = vec![T::ZERO; (d * d + 4 * d + 1).max(rt::scratch_len_mixed_kl(d))];
    let mut tmp = vec![T::ZERO; d * d];
    let mut data = vec![T::ZERO; shape.iter().product()];
    let mut idx = vec![0; batch.len()];
    for n in 0..batch.iter().product::<usize>() {
        let blk = |k: usize| -> &[T] {
            let (strides, len) = &views[k];
            let off: usize = idx.iter().zip(strides).map(|(i, s)| i * s).sum();
            &args[k].data[off..off + len]
        };
        let o = &mut data[n * block_out..(n + 1) * block_out];
        let s = |k: usize| blk(k)[0];
        match op {
            Op::ScaleFrom(p) => {
                let x = s(0);
                o[0] = match p {
                    NormalParam::Scale => x,
                    NormalParam::Var => x.sqrt(),
                    NormalParam::LogScale => x.exp(),
                    NormalParam::Precision => x.sqrt().recip(),
                };
            }
            Op::Kernel(k) => {
                let n = k.kernel.operands.len();
                let mut a = [T::ZERO; 8];
                for (slot, v) in a.iter_mut().enumerate().take(n) {
                    *v = s(slot);
                }
                if let Some(v) = k.violation(&a[..n]) {
                    let names: Vec<String> =
                        k.kernel.operands.iter().enumerate().map(|(s, f)| param_name(ir, id, s, f)).collect();
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    return Err(v.error(&names, &idx).into());
                }
                o[0] = k.call(&a[..n]);
            }
            Op::VectorKernel(k) => {
                let rows: Vec<&[T]> = (0..args.len()).map(blk).collect();
                if let Some(v) = k.violation(&rows) {
                    let names: Vec<String> =
                        k.operands.iter().enumerate().map(|(s, f)| param_name(ir, id, s, f)).collect();
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    return Err(v.error(&names, &idx).into());
                }
                o[0] = k.call(&rows);
            }
            Op::DiagTrilKl => o[0] = rt::diag_tril_kl(blk(0), blk(1), blk(2), blk(3), d, &mut scratch),
            Op::TrilDiagKl => o[0] = rt::tril_diag_kl(blk(0), blk(1), blk(2), blk(3), d),
            Op::TrilKl => o[0] = rt::mvn_kl_tril(blk(0), blk(1), blk(2), blk(3), d, &mut scratch),
            Op::LowRankKl => {
                let r = views[1].1 / d;
                o[0] = rt::low_rank_kl(blk(0), blk(1), blk(2), blk(3), blk(4), blk(5), blk(6), d, r, &mut scratch)
                    .map_err(|e| rt::Error::new(param_name(ir, id, 1, "cov_factor"), &idx, e.into()))?;
            }
            Op::SpdKl(p) => {
                let (x1, x2) = (blk(1), blk(3));
                let (r, other) = match p {
                    MvnParam::Precision => (rt::precision_kl(blk(0), x1, blk(2), x2, blk(4), d, &mut scratch), 3),
                    _ => (rt::cov_kl(blk(0), x1, blk(2), x2, blk(4), d, &mut scratch), 1),
                };
                o[0] = r.map_err(|e| rt::Error::new(param_name(ir, id, other, p.keyword()), &idx, e.into()))?;
            }
            Op::MixedSpdKl(p) => {
                let f = match p {
                    MvnParam::Precision => rt::precision_cov_kl,
                    _ => rt::cov_precision_kl,
                };
                o[0] = f(blk(0), blk(1), blk(2), blk(3), blk(4), d, &mut scratch)
                    .map_err(|e| rt::Error::new(param_name(ir, id, 1, p.keyword()), &idx, e.into()))?;
            }
            Op::TrilLogProb => o[0] = rt::mvn_log_prob_tril(blk(0), blk(1), blk(2), d, &mut scratch),
            Op::TrilEntropy => o[0] = rt::mvn_entropy_tril(blk(0), d),
            Op::TrilFrom(MvnParam::Covariance) => rt::cholesky(blk(0), d, o)
                .map_err(|e| rt::Error::new(param_name(ir, id, 0, "covariance_matrix"), &idx, e.into()))?,
            Op::TrilFrom(MvnParam::Precision) => rt::precision_to_scale_tril(blk(0), d, o, &mut scratch)
                .map_err(|e| rt::Error::new(param_name(ir, id, 0, "precision_matrix"), &idx, e.into()))?,
            Op::TrilFrom(MvnParam::ScaleTril) => o.copy_from_slice(blk(0)),
            Op::LowRankTril => {
                let r = views[0].1 / d;
                rt::lowrank_covariance(blk(0), blk(1), d, r, &mut tmp);
                rt::cholesky(&tmp, d, o)
                    .map_err(|e| rt::Error::new(param_name(ir, id, 0, "cov_factor"), &idx, e.into()))?;
            }
            _ => unreachable!(),
        }
        increment(&mut idx, batch);
    }
    Ok(Tensor { shape: shape.to_vec(), data })
}

/// Compile `src` with shapes taken from `inputs` (declared shapes win), then evaluate it.
pub fn evaluate<T: Real>(src: &str, inputs: &BTreeMap<String, Tensor<T>>) -> Result<Tensor<T>, Failure> {
    let env: crate::ShapeEnv = inputs.iter().map(|(k, t)| (k.clone(), Shape::of(&t.shape))).collect();
    let compiled = crate::compile(src, &env).map_err(Failure::Compile)?;
    eval(&compiled.simplified, inputs).map_err(Failure::Eval)
}

/// A compile error or an evaluation error.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    Compile(crate::Diagnostics),
    Eval(EvalError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Compile(d) => write!(f, "{d}"),
            Failure::Eval(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Failure {}
