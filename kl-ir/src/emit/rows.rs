//! Roots the runtime's batched row kernels compute in one pass
//! ([`kl_runtime::normal_kl_rows`] and friends): `sum_last[k](f(params..))` with `f` the
//! univariate normal KL (both sides by `scale`), the KL against `N(0, 1)` (by `scale`) or the
//! normal log density, and every operand a parameter of the full `[.., d]` shape (no
//! broadcasting, no literals), so that each row of the result is the sum of `d` contiguous
//! elements of every input.
//!
//! The generated code then calls the kernel instead of its own loops: with `check = true`
//! from the checked entry (validation fused into the same pass), with `check = false` from
//! the unchecked one. A `false` from the kernel (an invalid value) sends the checked entry to its
//! interpreter-ordered checks, which report the first error.

use super::gen::Res;
use super::index::{numel, Lin};
use super::signature::Sig;
use crate::ir::{Ir, NormalParam, Op};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// A root one row kernel computes.
pub(crate) struct RowsKernel {
    /// `normal_kl_rows`, `std_normal_kl_rows` or `normal_log_prob_rows`.
    pub func: Ident,
    /// The parameter names, in the kernel's argument order.
    pub inputs: Vec<String>,
    /// Elements per row.
    pub d: Lin,
}

impl RowsKernel {
    /// The call, with each input's slice from `slice` and the output slice `out`.
    pub fn call(
        &self,
        rt: &TokenStream,
        slice: impl Fn(&str) -> TokenStream,
        out: TokenStream,
        check: bool,
    ) -> TokenStream {
        let (func, d) = (&self.func, self.d.tokens());
        let args = self.inputs.iter().map(|n| slice(n));
        quote!(#rt::#func(#d, #(#args,)* #out, #check))
    }
}

/// The row kernel for the IR's root, if there is one.
pub(crate) fn rows_kernel(ir: &Ir, sig: &Sig) -> Res<Option<RowsKernel>> {
    let Some(root) = ir.root else { return Ok(None) };
    let Op::SumLast { k, .. } = ir.op(root) else { return Ok(None) };
    let x = ir.operand(root, 0);
    let func = match ir.op(x) {
        Op::NormalKl(NormalParam::Scale, NormalParam::Scale) => "normal_kl_rows",
        Op::StdNormalKl(NormalParam::Scale) => "std_normal_kl_rows",
        Op::NormalLogProb => "normal_log_prob_rows",
        _ => return Ok(None),
    };
    let Some(shape) = ir.ty(x).tensor() else { return Ok(None) };
    if *k == 0 || *k > shape.rank() {
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
    let all = super::validate::dims(sig, shape)?;
    let d = numel(&all[all.len() - k..]);
    Ok(Some(RowsKernel { func: Ident::new(func, Span::call_site()), inputs, d }))
}
