//! Roots the runtime's batched row kernels compute in one pass
//! ([`kl_runtime::normal_kl_rows`] and friends): `sum_last[k](f(params..))` with `f` the
//! univariate normal KL (both sides by `scale`), the KL against `N(0, 1)` (by `scale`) or the
//! normal log density (or the Bernoulli logits KL, whose row form also serves it unsummed), and
//! every operand a parameter of the full `[.., d]` shape (no broadcasting, no literals), so that
//! each row of the result is the sum of `d` contiguous elements of every input; and row kernels
//! with a batched form (`Categorical` logits against logits) over whole rows.
//!
//! The generated code then calls the kernel instead of its own loops: with `check = true`
//! from the checked entry (validation fused into the same pass), with `check = false` from
//! the unchecked one. A `false` from the kernel (an invalid value) sends the checked entry to its
//! interpreter-ordered checks, which report the first error.

use super::gen::Res;
use super::index::{lit, numel, Lin};
use super::signature::{Num, Sig};
use kl_compiler::ir::{Ir, MvnParam, NodeId, Op};
use kl_compiler::kernel::VectorKernel;
use kl_compiler::shape::Dim;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// A root one row kernel computes.
pub(crate) struct RowsKernel {
    /// `normal_kl_rows`, `std_normal_kl_rows`, `normal_log_prob_rows`, or one of the
    /// multivariate `tril_kl_rows`, `diag_tril_kl_rows`, `cov_kl_rows`.
    pub func: Ident,
    /// The parameter names, in the kernel's argument order.
    pub inputs: Vec<String>,
    /// The size argument: elements per row (`d`, a run-time argument) for the diagonal
    /// kernels, the event size `D` (a const generic) for the multivariate ones.
    pub size: Size,
}

pub(crate) enum Size {
    Elements(Lin),
    Event(usize),
}

impl RowsKernel {
    /// The call, with each input's slice from `slice` and the output slice `out`.
    pub fn call(&self, num: &Num, slice: impl Fn(&str) -> TokenStream, out: TokenStream, check: bool) -> TokenStream {
        let (rt, ty, func) = (&num.rt, &num.ty, &self.func);
        let args = self.inputs.iter().map(|n| slice(n));
        match &self.size {
            Size::Elements(d) => {
                let d = d.tokens();
                quote!(#rt::#func(#d, #(#args,)* #out, #check))
            }
            Size::Event(d) => {
                let d = lit(*d);
                quote!(#rt::#func::<#ty, #d>(#(#args,)* #out, #check))
            }
        }
    }
}

/// The row kernel for the IR's root, if there is one.
pub(crate) fn rows_kernel(ir: &Ir, sig: &Sig) -> Res<Option<RowsKernel>> {
    let Some(root) = ir.root else { return Ok(None) };
    if let Some(k) = dense_kernel(ir, sig, root) {
        return Ok(Some(k));
    }
    if let Op::VectorKernel(v) = ir.op(root) {
        return vector_rows(ir, sig, root, v);
    }
    // `sum_last[k]` of the kernel, or the kernel itself where its row form also serves `d = 1`.
    let (x, k, elementwise) = match ir.op(root) {
        Op::SumLast { k, .. } => (ir.operand(root, 0), *k, false),
        Op::Kernel(_) => (root, 0, true),
        _ => return Ok(None),
    };
    // The kernel's batched row form, from its descriptor.
    let func = match ir.op(x) {
        Op::Kernel(kernel) => match (kernel.kernel.rows)(kernel.attrs) {
            Some(rows) if !elementwise || rows.elementwise => rows.runtime,
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    let Some(shape) = ir.ty(x).tensor() else { return Ok(None) };
    if (k == 0 && !elementwise) || k > shape.rank() {
        return Ok(None);
    }
    let mut inputs = Vec::new();
    for o in ir.operands(x) {
        let Op::Param(name) = ir.op(o) else { return Ok(None) };
        match sig.param(name) {
            Some(p) if p.shape == *shape => inputs.push(name.clone()),
            _ => return Ok(None),
        }
    }
    // The kernel validates exactly its inputs: every parameter must be one of them.
    if sig.params.iter().any(|p| !inputs.contains(&p.name)) {
        return Ok(None);
    }
    let all = super::gen::dims(sig, shape)?;
    let d = numel(&all[all.len() - k..]);
    Ok(Some(RowsKernel { func: Ident::new(func, Span::call_site()), inputs, size: Size::Elements(d) }))
}

/// A row kernel at the root with a batched form (`Categorical` logits against logits): every
/// operand a row parameter `[.., K]` whose batch dims are the result's, the same `K` for all.
fn vector_rows(ir: &Ir, sig: &Sig, root: NodeId, v: &VectorKernel) -> Res<Option<RowsKernel>> {
    let (Some(rows), Some(out)) = (v.rows, ir.ty(root).tensor()) else { return Ok(None) };
    if v.cores.iter().any(|&c| c != 1) {
        return Ok(None);
    }
    let (mut inputs, mut row) = (Vec::new(), None);
    for o in ir.operands(root) {
        let Op::Param(name) = ir.op(o) else { return Ok(None) };
        let Some(p) = sig.param(name) else { return Ok(None) };
        let whole = p.shape.rank() == out.rank() + 1 && p.shape.dims()[..out.rank()] == *out.dims();
        if !whole || row.as_ref().is_some_and(|r| *r != p.shape) {
            return Ok(None);
        }
        row = Some(p.shape.clone());
        inputs.push(name.clone());
    }
    if sig.params.iter().any(|p| !inputs.contains(&p.name)) {
        return Ok(None);
    }
    let Some(row) = row else { return Ok(None) };
    let all = super::gen::dims(sig, &row)?;
    let d = numel(&all[all.len() - 1..]);
    Ok(Some(RowsKernel { func: Ident::new(rows.runtime, Span::call_site()), inputs, size: Size::Elements(d) }))
}

/// Multivariate pairs with a static event size up to this (and the runtime's `TRIL_MAX`,
/// `COV_MAX`) call the batched kernels.
pub(crate) const DENSE_MAX: usize = 32;

/// `tril_kl(m1, L1, m2, L2)`, `diag_tril_kl(m1, s1, m2, L2)` or
/// `covariance_kl(m1, C1, m2, C2, cholesky(C2))` (under a no-op `sum_last[0]`) over parameters
/// of the full `[.., D]` / `[.., D, D]` shapes, `D` static.
fn dense_kernel(ir: &Ir, sig: &Sig, root: NodeId) -> Option<RowsKernel> {
    let mut x = root;
    if let Op::SumLast { k: 0, .. } = ir.op(x) {
        x = ir.operand(x, 0);
    }
    let (func, operands) = match ir.op(x) {
        Op::TrilKl => ("tril_kl_rows", ir.operands(x)),
        Op::DiagTrilKl => ("diag_tril_kl_rows", ir.operands(x)),
        Op::SpdKl(MvnParam::Covariance) => {
            let ops = ir.operands(x);
            // The factor must be the Cholesky factor of `C2` itself.
            let l = *ops.get(4)?;
            if !matches!(ir.op(l), Op::TrilFrom(MvnParam::Covariance)) || ir.operand(l, 0) != ops[3] {
                return None;
            }
            ("cov_kl_rows", ops[..4].to_vec())
        }
        _ => return None,
    };
    let batch = ir.ty(x).tensor()?;
    let m = ir.ty(operands[0]).tensor()?;
    // The runtime's size limits: beyond them the kernels decline every call.
    let max = if func == "cov_kl_rows" { kl_runtime::COV_MAX } else { kl_runtime::TRIL_MAX };
    let d = match m.dims().last() {
        Some(Dim::Static(d)) if (1..=max.min(DENSE_MAX)).contains(d) => *d,
        _ => return None,
    };
    let mut inputs = Vec::new();
    for (slot, &o) in operands.iter().enumerate() {
        let Op::Param(name) = ir.op(o) else { return None };
        let p = sig.param(name)?;
        // Vectors `[.., D]` in slots 0, 2 (and 1 for `diag_tril_kl`), matrices `[.., D, D]`.
        let vector = slot % 2 == 0 || (slot == 1 && func == "diag_tril_kl_rows");
        let mut want = batch.dims().to_vec();
        want.push(Dim::Static(d));
        if !vector {
            want.push(Dim::Static(d));
        }
        if p.shape.dims() != want.as_slice() {
            return None;
        }
        inputs.push(name.clone());
    }
    if sig.params.iter().any(|p| !inputs.contains(&p.name)) {
        return None;
    }
    Some(RowsKernel { func: Ident::new(func, Span::call_site()), inputs, size: Size::Event(d) })
}
