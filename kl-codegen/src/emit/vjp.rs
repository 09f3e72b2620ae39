//! The vector–Jacobian product: the value and `Σ grad_out · ∂result/∂param` for every parameter,
//! in one fused pass.
//!
//! ```text
//! for each output element i:   out[i] = root[i];  backward(root, i, grad_out[i])
//! ```
//!
//! `backward(node, idx, up)` is reverse mode over the simplified IR at one element, written out
//! as code in the loop nest of the forward pass: a broadcast passes `up` to the element it read,
//! `sum_last` passes it to every summand (a loop over the summed dims), a kernel multiplies it by
//! its closed-form partials (the descriptor's [`Adjoint::call`](kl_compiler::kernel::Adjoint)),
//! and a parameter element adds it into the parameter's gradient buffer. Values the backward
//! pass needs are the forward pass's own (cached per element), so the inputs are read once.
//!
//! A parameter read exactly once per element, through no broadcast, has its gradient stored
//! (`grad[off] = ..`): each gradient element is then written once and never read. Every other
//! gradient (a broadcast parameter, one used twice, one the simplified expression no longer
//! reads) is zeroed first and accumulated (`+=`).

use super::gen::{Gen, Res, ROOT};
use super::index::{broadcast_index, offset, Ix, Lin};
use super::signature::{self, Num, Sig};
use super::{constraints, gen, validate, EmitOptions};
use kl_compiler::diag::{Diagnostic, Diagnostics};
use kl_compiler::ir::{Ir, NodeId, NormalParam, Op};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use std::collections::{HashMap, HashSet};

/// The two VJP functions as tokens: `NAME(params.., dims.., grad_out, out, grads..)`, which
/// checks what `emit_tokens`' checked entry checks plus the lengths of `grad_out` and of every
/// gradient buffer, and `NAME_unchecked(..)` with the same arguments.
pub fn emit_vjp_tokens(ir: &Ir, opts: &EmitOptions) -> Result<TokenStream, Diagnostics> {
    let num = Num::new(opts)?;
    let sig = signature::signature(ir)?.with_grads();
    let (mut checks, values) = validate::length_and_value_checks(ir, &sig, &num)?;
    checks.extend(grad_length_checks(&sig, &num)?);
    let joint = constraints::checks(ir, &sig, &num)?;
    // The chunked fast path checks roles only: with joint checks, every value is checked first.
    if joint.is_empty() {
        let unchecked = format_ident!("{}_unchecked", opts.fn_name);
        checks.extend(validate::chunked_vjp(ir, &sig, &num, &unchecked)?);
    }
    checks.extend(values);
    checks.extend(joint);
    let body = body(ir, &sig, num.clone())?;
    Ok(super::items(ir, &sig, &num, opts, checks, body)?)
}

/// The VJP as formatted source.
pub fn emit_vjp_source(ir: &Ir, opts: &EmitOptions) -> Result<String, Diagnostics> {
    super::format(emit_vjp_tokens(ir, opts)?)
}

fn grad_length_checks(sig: &Sig, num: &Num) -> Res<Vec<TokenStream>> {
    let rt = &num.rt;
    let Some(grad) = &sig.grad else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    let (up, len) = (&grad.upstream, super::index::numel(&gen::dims(sig, &sig.result)?).tokens());
    out.push(quote!(#rt::check_len("grad_out", &[], #len, #up.len())?;));
    for (p, g) in sig.params.iter().zip(&grad.params) {
        let len = super::index::numel(&gen::dims(sig, &p.shape)?).tokens();
        let name = format!("grad_{}", p.name);
        out.push(quote!(#rt::check_len(#name, &[], #len, #g.len())?;));
    }
    Ok(out)
}

/// The fused body: the forward loops, each output element followed by its backward pass.
fn body(ir: &Ir, sig: &Sig, num: Num) -> Res<Vec<TokenStream>> {
    let root = ir.root.ok_or_else(|| gen::internal("the IR has no root".into()))?;
    let grad = sig.grad.as_ref().ok_or_else(|| gen::internal("a VJP signature without gradients".into()))?;
    let stored = stored_params(ir, root);
    let mut g = Gen::new(ir, sig, num);
    let result = g.shape(root)?;
    let dims = g.dims(&result)?;
    let (out, upstream) = (sig.out.clone(), grad.upstream.clone());
    g.each_index(ROOT, result.dims(), 1, "i", &mut |g, idx, scope| {
        let v = g.elem(root, idx)?;
        let at: Vec<Lin> = idx.iter().map(|i| g.ix(*i)).collect();
        let off = offset(&dims, &at).tokens();
        g.push(scope, quote!(#out[#off] = #v;));
        let up = g.bind(scope, "up", quote!(#upstream[#off]));
        g.backward(root, idx, up, scope, &stored)
    })?;
    let mut stmts = g.take_root();
    gen::prune(&mut stmts);
    let mut stmts: Vec<TokenStream> = stmts.iter().map(gen::Stmt::tokens).collect();
    // Gradients that are accumulated start at zero; stored ones are written in full.
    let zero = g.num.zero();
    let fills = sig
        .params
        .iter()
        .zip(&grad.params)
        .filter(|(p, _)| !stored.contains(&p.name))
        .map(|(_, gi)| quote!(#gi.fill(#zero);));
    stmts.splice(0..0, fills);
    let unused: Vec<&Ident> = sig
        .params
        .iter()
        .map(|p| &p.ident)
        .chain(sig.dims.iter().map(|(_, i)| i))
        .filter(|i| !g.used.contains(&i.to_string()))
        .collect();
    if !unused.is_empty() {
        stmts.insert(0, quote!(#(let _ = &#unused;)*));
    }
    Ok(stmts)
}

/// The parameters whose gradient can be stored: read exactly once per element of the loop
/// nest (one use, on a path of nodes that each read their operands without broadcasting).
fn stored_params(ir: &Ir, root: NodeId) -> HashSet<String> {
    fn walk(ir: &Ir, id: NodeId, one_to_one: bool, uses: &mut HashMap<String, (usize, bool)>) {
        let shape = ir.ty(id).tensor().cloned();
        let same = |x: NodeId, s: Option<&kl_compiler::shape::Shape>| s.is_some() && ir.ty(x).tensor() == s;
        match ir.op(id) {
            Op::Param(name) => {
                let e = uses.entry(name.clone()).or_insert((0, true));
                e.0 += 1;
                e.1 &= one_to_one;
            }
            Op::SumLast { full, .. } => {
                let x = ir.operand(id, 0);
                walk(ir, x, one_to_one && same(x, Some(full)), uses);
            }
            _ => {
                for x in ir.operands(id) {
                    walk(ir, x, one_to_one && same(x, shape.as_ref()), uses);
                }
            }
        }
    }
    let mut uses = HashMap::new();
    walk(ir, root, true, &mut uses);
    uses.into_iter().filter(|(_, (n, direct))| *n == 1 && *direct).map(|(name, _)| name).collect()
}

impl Gen<'_> {
    /// The backward pass at element `idx` of `id` with upstream gradient `up`, a value valid in
    /// `scope` (which is inside the scope of `idx`): statements that add `up · ∂id[idx]/∂param`
    /// into every parameter's gradient.
    fn backward(&mut self, id: NodeId, idx: &[Ix], up: TokenStream, scope: usize, stored: &HashSet<String>) -> Res<()> {
        let shape = self.shape(id)?;
        let operand = |g: &Self, slot: usize| -> Res<(NodeId, Vec<Ix>)> {
            let x = g.ir.operand(id, slot);
            Ok((x, broadcast_index(idx, &shape, &g.shape(x)?)))
        };
        match self.ir.op(id).clone() {
            Op::Param(name) => {
                let p = self.sig.param(&name).ok_or_else(|| self.internal(id, "parameter is not an argument"))?;
                let pshape = p.shape.clone();
                let gi = self.sig.grad_of(&name).cloned().ok_or_else(|| self.internal(id, "no gradient argument"))?;
                let dims = self.dims(&pshape)?;
                if !stored.contains(&name) {
                    let at: Vec<Lin> = idx.iter().map(|i| self.ix(*i)).collect();
                    let off = offset(&dims, &at).tokens();
                    self.push(scope, quote!(#gi[#off] += #up;));
                    return Ok(());
                }
                // A stored gradient's static trailing dims are written through one fixed-size
                // view per row (as parameters are read, see `param_elem`): one bounds check per
                // row, so that the row's loop vectorizes. Stored means one access per element,
                // so one view of the buffer is live at a time.
                let statics = pshape.dims().iter().rev().take_while(|d| d.as_static().is_some()).count();
                let n: usize = pshape.dims()[pshape.rank() - statics..].iter().filter_map(|d| d.as_static()).product();
                if statics == 0 || n > super::elementwise::VIEW_MAX {
                    let at: Vec<Lin> = idx.iter().map(|i| self.ix(*i)).collect();
                    let off = offset(&dims, &at).tokens();
                    self.push(scope, quote!(#gi[#off] = #up;));
                    return Ok(());
                }
                let split = pshape.rank() - statics;
                let (outer, inner) = idx.split_at(split);
                let key = (gi.to_string(), outer.to_vec());
                let view = match self.views.get(&key) {
                    Some(v) => v.clone(),
                    None => {
                        let at: Vec<Lin> = outer.iter().map(|i| self.ix(*i)).collect();
                        let start = offset(&dims[..split], &at).mul(&Lin::Const(n));
                        let end = start.clone().add(&Lin::Const(n));
                        let (start, end, len, ty) =
                            (start.tokens(), end.tokens(), super::index::lit(n), self.num.ty.clone());
                        let row_scope = self.scope_of(outer);
                        let v = self.bind(
                            row_scope,
                            &format!("{}_row", gi.to_string().trim_start_matches("r#")),
                            quote!(<&mut [#ty; #len]>::try_from(&mut #gi[#start..#end]).unwrap()),
                        );
                        self.views.insert(key, v.clone());
                        v
                    }
                };
                let at: Vec<Lin> = inner.iter().map(|i| self.ix(*i)).collect();
                let off = offset(&dims[split..], &at).tokens();
                self.push(scope, quote!(#view[#off] = #up;));
                Ok(())
            }
            // Not parameters: nothing to propagate.
            Op::Literal(_) | Op::Zeros(_) => Ok(()),
            Op::BroadcastTo(_) => {
                let (x, xi) = operand(self, 0)?;
                self.backward(x, &xi, up, scope, stored)
            }
            Op::ScaleFrom(p) => {
                let (x, xi) = operand(self, 0)?;
                if p == NormalParam::Scale {
                    return self.backward(x, &xi, up, scope, stored);
                }
                let xv = self.elem(x, &xi)?;
                let rt = self.num.rt.clone();
                let variant = format_ident!("{}", p.runtime_name());
                let d = self.bind(scope, "dscale", quote!(#up * #rt::scale_from_grad(#xv, #rt::ScaleParam::#variant)));
                self.backward(x, &xi, d, scope, stored)
            }
            Op::Kernel(k) => {
                let n = k.kernel.operands.len();
                let mut elems = Vec::new();
                let mut at = Vec::new();
                for slot in 0..n {
                    let (x, xi) = operand(self, slot)?;
                    elems.push(self.elem(x, &xi)?);
                    at.push((x, xi));
                }
                // The partials depend on the element only: in the element's own scope.
                let call = self.call(&(k.kernel.adjoint.call)(k.attrs), &elems);
                let partials = self.bind(self.scope_of(idx), "partials", call);
                for (slot, (x, xi)) in at.into_iter().enumerate() {
                    if !self.reads_a_param(x) {
                        continue;
                    }
                    let s = super::index::lit(slot);
                    let u = self.bind(scope, "adj", quote!(#up * #partials[#s]));
                    self.backward(x, &xi, u, scope, stored)?;
                }
                Ok(())
            }
            Op::SumLast { k, full } => {
                let x = self.ir.operand(id, 0);
                let xs = self.shape(x)?;
                let summed = full.dims()[full.rank() - k..].to_vec();
                let prefix = idx.to_vec();
                // Loops, not unrolled statements: the loop vectorizer turns the kernel calls
                // into vector code, where unrolled calls stay scalar.
                self.each_index(scope, &summed, 1, "k", &mut |g, j, inner| {
                    let at: Vec<Ix> = prefix.iter().chain(j).copied().collect();
                    let xi = broadcast_index(&at, &full, &xs);
                    g.backward(x, &xi, up.clone(), inner, stored)
                })
            }
            Op::VectorKernel(k) => self.vector_backward(id, k, idx, up, scope, stored),
            op => match op.block_adjoint() {
                Some(adj) => self.block_backward(id, adj, idx, up, scope, stored),
                None => Err(no_vjp(self.ir, id, &op)),
            },
        }
    }

    /// A row kernel's backward pass at batch element `idx`: its adjoint adds `up ·` the
    /// partials into one gradient row per operand (see [`Gen::grad_targets`]).
    fn vector_backward(
        &mut self,
        id: NodeId,
        k: &'static kl_compiler::kernel::VectorKernel,
        idx: &[Ix],
        up: TokenStream,
        scope: usize,
        stored: &HashSet<String>,
    ) -> Res<()> {
        let rows = self.vector_rows(id, idx)?;
        let (grads, after) = self.grad_targets(id, idx, k.cores, scope)?;
        let (rt, f) = (self.num.rt.clone(), format_ident!("{}", k.adjoint.runtime));
        self.push(scope, quote!(#rt::#f(#(#rows,)* #up, #(#grads),*);));
        self.finish(after, scope, stored)
    }

    /// A multivariate kernel's backward pass at batch element `idx`: its runtime adjoint
    /// ([`Op::block_adjoint`]) on the operands' blocks adds `up ·` the partials into one gradient
    /// block per differentiated operand, with one scratch buffer allocated before the loops.
    fn block_backward(
        &mut self,
        id: NodeId,
        adj: kl_compiler::ir::BlockAdjoint,
        idx: &[Ix],
        up: TokenStream,
        scope: usize,
        stored: &HashSet<String>,
    ) -> Res<()> {
        let op = self.ir.op(id).clone();
        let cores = op.signature().ok_or_else(|| self.internal(id, "no kernel signature"))?.inputs;
        let mut blocks = Vec::new();
        for (slot, &core) in cores.iter().enumerate().take(adj.grads) {
            let (x, b) = self.operand_batch(id, slot, idx)?;
            blocks.push(self.block_slice(x, &b, core)?);
        }
        // The event size: the last dim of the first operand (a vector, or the factor itself).
        let first = self.ir.operand(id, 0);
        let d = self.shape(first)?.last(1);
        let d = self.dims(&d)?.pop().unwrap_or(Lin::Const(1)).tokens();
        let (grads, after) = self.grad_targets(id, idx, &cores[..adj.grads], scope)?;
        let (rt, f) = (self.num.rt.clone(), format_ident!("{}", adj.runtime));
        let call = match adj.scratch {
            Some(len) => {
                let len = format_ident!("{}", len);
                let buf = self.alloc("scratch", &Lin::atom(quote!(#rt::#len(#d))));
                quote!(#rt::#f(#(#blocks,)* #d, #up, [#(#grads),*], &mut #buf[..]);)
            }
            None => quote!(#rt::#f(#(#blocks,)* #d, #up, #(#grads),*);),
        };
        self.push(scope, call);
        self.finish(after, scope, stored)
    }

    /// The gradient blocks a kernel's adjoint adds into, one per operand slot (`cores` trailing
    /// dims each), as `&mut` expressions, and what to do after the call ([`Gen::finish`]). A
    /// parameter (through broadcasts of its batch) gets the block of its gradient. Every other
    /// operand gets a scratch block: added into the parameter's gradient afterwards where the
    /// same call reads the parameter twice (two `&mut` blocks of one buffer cannot coexist),
    /// propagated element by element where the operand is computed from parameters (a scale
    /// from a variance), dropped where it is a literal.
    fn grad_targets(
        &mut self,
        id: NodeId,
        idx: &[Ix],
        cores: &[usize],
        scope: usize,
    ) -> Res<(Vec<TokenStream>, Vec<After>)> {
        let zero = self.num.zero();
        let mut params = Vec::new();
        for (slot, &core) in cores.iter().enumerate() {
            let (x, b) = self.operand_batch(id, slot, idx)?;
            params.push(self.param_row(x, &b, core)?);
        }
        let (mut grads, mut after) = (Vec::new(), Vec::new());
        for (slot, target) in params.iter().enumerate() {
            let core = cores[slot];
            let (x, b) = self.operand_batch(id, slot, idx)?;
            let len = super::index::numel(&self.dims(&self.shape(x)?.last(core))?);
            let shared =
                target.as_ref().is_some_and(|(n, _)| params.iter().flatten().filter(|(m, _)| m == n).count() > 1);
            if let (Some((_, row)), false) = (target, shared) {
                grads.push(quote!(&mut #row));
                continue;
            }
            let buf = self.alloc("grad_scratch", &len);
            self.push(scope, quote!(#buf.fill(#zero);));
            grads.push(quote!(&mut #buf[..]));
            let factor = core == 2 && matches!(self.ir.op(x), Op::TrilFrom(_) | Op::LowRankTril);
            match target {
                Some((_, row)) => after.push(After::Add { row: row.clone(), buf, len }),
                None if factor && self.reads_a_param(x) => after.push(After::Factor { x, batch: b, buf }),
                None if self.reads_a_param(x) => after.push(After::Chain { x, batch: b, core, buf }),
                None => {}
            }
        }
        Ok((grads, after))
    }

    /// The statements after a kernel's adjoint call (see [`Gen::grad_targets`]).
    fn finish(&mut self, after: Vec<After>, scope: usize, stored: &HashSet<String>) -> Res<()> {
        for a in after {
            match a {
                After::Add { row, buf, len } => {
                    let (j, n) = (self.names.fresh("j"), len.tokens());
                    self.push(scope, quote!(for #j in 0..#n { #row[#j] += #buf[#j]; }));
                }
                After::Factor { x, batch, buf } => self.factor_backward(x, &batch, buf, scope, stored)?,
                After::Chain { x, batch, core, buf } => {
                    let shape = self.shape(x)?;
                    let core_dims = shape.last(core).dims().to_vec();
                    let lens = self.dims(&shape.last(core))?;
                    self.each_index(scope, &core_dims, 1, "c", &mut |g, ci, inner| {
                        let at: Vec<Lin> = ci.iter().map(|i| g.ix(*i)).collect();
                        let off = offset(&lens, &at).tokens();
                        let full: Vec<Ix> = batch.iter().chain(ci).copied().collect();
                        g.backward(x, &full, quote!(#buf[#off]), inner, stored)
                    })?;
                }
            }
        }
        Ok(())
    }

    /// The backward pass of a factor op `x` (`L = chol(C)`, `chol(P⁻¹)`, `chol(W Wᵀ + D)`) at
    /// batch element `batch`, given the gradient block `buf` of its lower triangle: its runtime
    /// adjoint ([`Op::factor_adjoint`]) adds into its operands' gradient blocks; a `scale_tril`
    /// passes `buf` on unchanged.
    fn factor_backward(
        &mut self,
        x: NodeId,
        batch: &[Ix],
        buf: Ident,
        scope: usize,
        stored: &HashSet<String>,
    ) -> Res<()> {
        let op = self.ir.op(x).clone();
        let cores = op.signature().ok_or_else(|| self.internal(x, "no kernel signature"))?.inputs;
        let Some(adj) = op.factor_adjoint() else {
            // A scale_tril is its own factor.
            let (y, yb) = self.operand_batch(x, 0, batch)?;
            let len = super::index::numel(&self.dims(&self.shape(y)?.last(2))?);
            let after = match self.param_row(y, &yb, 2)? {
                Some((_, row)) => After::Add { row, buf, len },
                None => After::Chain { x: y, batch: yb, core: 2, buf },
            };
            return self.finish(vec![after], scope, stored);
        };
        let factor = self.block_slice(x, batch, 2)?;
        let mut blocks = Vec::new();
        for (slot, &core) in cores.iter().enumerate() {
            let (y, yb) = self.operand_batch(x, slot, batch)?;
            blocks.push(self.block_slice(y, &yb, core)?);
        }
        let d = self.shape(x)?.last(1);
        let d = self.dims(&d)?.pop().unwrap_or(Lin::Const(1)).tokens();
        let (grads, after) = self.grad_targets(x, batch, cores, scope)?;
        let (rt, f) = (self.num.rt.clone(), format_ident!("{}", adj.runtime));
        let len = format_ident!("{}", adj.scratch.ok_or_else(|| self.internal(x, "no scratch length"))?);
        let scratch = self.alloc("scratch", &Lin::atom(quote!(#rt::#len(#d))));
        self.push(scope, quote!(#rt::#f(#(#blocks,)* #factor, #d, &#buf[..], [#(#grads),*], &mut #scratch[..]);));
        self.finish(after, scope, stored)
    }

    /// The gradient row of the parameter behind operand block `x[b]` (`core` trailing dims), as
    /// a place expression `grad[start..end]`, with the parameter's name; `None` when `x` is not
    /// a parameter seen through batch broadcasts.
    fn param_row(&mut self, x: NodeId, b: &[Ix], core: usize) -> Res<Option<(String, TokenStream)>> {
        let shape = self.shape(x)?;
        match self.ir.op(x).clone() {
            Op::Param(name) => {
                let gi = self.sig.grad_of(&name).cloned().ok_or_else(|| self.internal(x, "no gradient argument"))?;
                let batch_dims = self.dims(&shape.drop_last(core))?;
                let len = super::index::numel(&self.dims(&shape.last(core))?);
                let bi: Vec<Lin> = b.iter().map(|i| self.ix(*i)).collect();
                let start = offset(&batch_dims, &bi).mul(&len);
                let end = start.clone().add(&len);
                let (start, end) = (start.tokens(), end.tokens());
                Ok(Some((name, quote!(#gi[#start..#end]))))
            }
            Op::BroadcastTo(_) => {
                let y = self.ir.operand(x, 0);
                let ys = self.shape(y)?;
                if ys.rank() >= core && ys.last(core) == shape.last(core) {
                    let yb = broadcast_index(b, &shape.drop_last(core), &ys.drop_last(core));
                    return self.param_row(y, &yb, core);
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// Whether any parameter is below `id` (a literal's partial is not needed).
    fn reads_a_param(&self, id: NodeId) -> bool {
        matches!(self.ir.op(id), Op::Param(_)) || self.ir.operands(id).into_iter().any(|x| self.reads_a_param(x))
    }
}

/// What follows a kernel's adjoint call for one operand that has a scratch gradient block.
enum After {
    /// Add the block into a parameter's gradient block.
    Add { row: TokenStream, buf: Ident, len: Lin },
    /// Propagate each element of the block into the operand `x` at batch index `batch`.
    Chain { x: NodeId, batch: Vec<Ix>, core: usize, buf: Ident },
    /// The block is the gradient of the factor op `x` at batch index `batch`: run its adjoint.
    Factor { x: NodeId, batch: Vec<Ix>, buf: Ident },
}

fn no_vjp(ir: &Ir, id: NodeId, op: &Op) -> Diagnostic {
    let node = ir.node(id);
    Diagnostic::new(
        "emit::no_vjp",
        node.span,
        format!("the emitted vector–Jacobian product does not cover `{}` yet", op.name()),
    )
    .label("no emitted gradient")
}
