//! The checked entry's joint checks: every kernel whose descriptor has a check
//! (`kl_compiler::kernel::Check`: `Uniform`'s `high > low`, a `log_prob` value inside a support
//! that depends on the parameters) is checked at every element of its node, in the
//! interpreter's order (kernels operands first, each row-major), after the role checks, and
//! reported with the interpreter's parameter names and index.

use super::gen::{self, Gen, Res, ROOT};
use super::index::broadcast_index;
use super::signature::{Num, Sig};
use kl_compiler::ir::{Ir, NodeId, Op};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

fn checked(ir: &Ir, id: NodeId) -> bool {
    matches!(ir.op(id), Op::Kernel(k) if k.kernel.check.is_some())
        || matches!(ir.op(id), Op::VectorKernel(k) if k.check.is_some())
}

/// The statements that run every joint check.
pub(crate) fn checks(ir: &Ir, sig: &Sig, num: &Num) -> Res<Vec<TokenStream>> {
    let nodes: Vec<NodeId> = ir.topo_order().into_iter().filter(|&id| checked(ir, id)).collect();
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let mut g = Gen::new(ir, sig, num.clone());
    let violation = g.names.fresh("violation");
    for id in nodes {
        if let Op::VectorKernel(k) = ir.op(id) {
            let Some(check) = &k.check else { continue };
            // The rows of a row kernel, per batch element.
            let names: Vec<&str> =
                (0..k.operands.len()).map(|s| ir.operand_name(id, s).unwrap_or(k.operands[s])).collect();
            let f = format_ident!("{}", check.runtime);
            let shape = g.shape(id)?;
            g.each_index(ROOT, shape.dims(), 1, "c", &mut |g, idx, scope| {
                let rows = g.vector_rows(id, idx)?;
                let index: Vec<TokenStream> = idx.iter().map(|i| g.ix(*i).tokens()).collect();
                let rt = &g.num.rt;
                g.push(
                    scope,
                    quote! {
                        if let Err(#violation) = #rt::#f(#(#rows),*) {
                            return Err(#violation.error(&[#(#names),*], &[#(#index),*]));
                        }
                    },
                );
                Ok(())
            })?;
            continue;
        }
        let Op::Kernel(k) = ir.op(id) else { continue };
        let Some(check) = &k.kernel.check else { continue };
        let operands = k.kernel.operands;
        let names: Vec<&str> = (0..operands.len()).map(|s| ir.operand_name(id, s).unwrap_or(operands[s])).collect();
        let f = format_ident!("{}", check.runtime);
        let shape = g.shape(id)?;
        g.each_index(ROOT, shape.dims(), 1, "c", &mut |g, idx, scope| {
            let mut elems = Vec::new();
            for slot in 0..operands.len() {
                let x = ir.operand(id, slot);
                let xi = broadcast_index(idx, &shape, &g.shape(x)?);
                elems.push(g.elem(x, &xi)?);
            }
            let index: Vec<TokenStream> = idx.iter().map(|i| g.ix(*i).tokens()).collect();
            let rt = &g.num.rt;
            g.push(
                scope,
                quote! {
                    if let Err(#violation) = #rt::#f(#(#elems),*) {
                        return Err(#violation.error(&[#(#names),*], &[#(#index),*]));
                    }
                },
            );
            Ok(())
        })?;
    }
    let mut stmts = g.take_root();
    gen::prune(&mut stmts);
    Ok(stmts.iter().map(gen::Stmt::tokens).collect())
}
