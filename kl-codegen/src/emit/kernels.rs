//! Multivariate kernels per batch element: the factor nodes (`tril_from_*`, `tril_from_low_rank`)
//! and the scalar ones (`tril_kl`, `diag_tril_kl`, `tril_diag_kl`, `tril_log_prob`,
//! `tril_entropy`).
//!
//! A static event size `d <= CHOLESKY_UNROLL_MAX` is emitted as straight-line code (`dense.rs`)
//! over one local per entry. Anything else calls the runtime's loop kernels on slices: blocks
//! of parameters are passed in place, computed operands are written once per batch element into
//! scratch buffers allocated before the loops.

use super::dense::{Dense, Left, Tri};
use super::gen::{Block, Gen, Res};
use super::index::{broadcast_index, numel, offset, Ix, Lin};
use super::{CHOLESKY_UNROLL_MAX, UNROLL_MAX};
use kl_compiler::ir::{CoreOut, MvnParam, NodeId, Op};
use kl_compiler::shape::{Dim, Shape};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

type Tok = TokenStream;

impl Gen<'_> {
    /// The event size `d` of a kernel node; every operand's core dims must be `d` (the checker
    /// only guarantees ranks). For `tril_from_low_rank` also the rank `r` of the factor.
    fn event_dims(&self, id: NodeId) -> Res<(Dim, Option<Dim>)> {
        let op = self.ir.op(id);
        let sig = op.signature().ok_or_else(|| self.internal(id, "no kernel signature"))?;
        let ops = self.ir.operands(id);
        if matches!(op, Op::LowRankTril | Op::LowRankKl) {
            // The factors are [.., d, r]: the event size and the rank.
            let (w_slot, d_slot) = if *op == Op::LowRankTril { (0, 1) } else { (1, 2) };
            let w = self.shape(ops[w_slot])?;
            let (d, r) = (w.dims()[w.rank() - 2].clone(), w.dims()[w.rank() - 1].clone());
            let dg = self.shape(ops[d_slot])?;
            if dg.last(1).dims() != [d.clone()] {
                return Err(self.internal(id, &format!("cov_diag {dg} does not end in d = {d}")));
            }
            return Ok((d, Some(r)));
        }
        let mut d = None;
        for (&x, &c) in ops.iter().zip(sig.inputs) {
            let s = self.shape(x)?;
            for dim in s.last(c).dims() {
                match &d {
                    None => d = Some(dim.clone()),
                    Some(e) if e == dim => {}
                    Some(e) => return Err(self.internal(id, &format!("operand core dims {dim} and {e} differ"))),
                }
            }
        }
        Ok((d.unwrap_or(Dim::Static(1)), None))
    }

    fn small(d: &Dim) -> Option<usize> {
        d.as_static().filter(|&n| n <= CHOLESKY_UNROLL_MAX)
    }

    /// The batch index of operand `slot` of kernel `id` at the kernel's batch index `batch`.
    pub(crate) fn operand_batch(&self, id: NodeId, slot: usize, batch: &[Ix]) -> Res<(NodeId, Vec<Ix>)> {
        let sig = self.ir.op(id).signature().ok_or_else(|| self.internal(id, "no kernel signature"))?;
        let out_core = match sig.output {
            CoreOut::Scalar => 0,
            CoreOut::Square { .. } => 2,
        };
        let node_batch = self.shape(id)?.drop_last(out_core);
        let x = self.ir.operand(id, slot);
        let xb = self.shape(x)?.drop_last(sig.inputs[slot]);
        Ok((x, broadcast_index(batch, &node_batch, &xb)))
    }

    /// `name` of the parameter in operand `slot`, or the keyword, for error messages.
    fn operand_name(&self, id: NodeId, slot: usize, fallback: &str) -> String {
        match self.ir.op(self.ir.operand(id, slot)) {
            Op::Param(n) => n.clone(),
            _ => fallback.to_string(),
        }
    }

    fn hint(&self, x: NodeId, fallback: &str) -> String {
        match self.ir.op(x) {
            Op::Param(n) => n.to_lowercase(),
            _ => fallback.to_string(),
        }
    }

    /// Entries of a length-`d` vector operand as single tokens.
    fn vector(&mut self, x: NodeId, b: &[Ix], d: usize, scope: usize, hint: &str) -> Res<Vec<Tok>> {
        let hint = self.hint(x, hint);
        (0..d)
            .map(|i| {
                let idx: Vec<Ix> = b.iter().copied().chain([Ix::Const(i)]).collect();
                let e = self.elem(x, &idx)?;
                Ok(self.atom(scope, &format!("{hint}_{i}"), e))
            })
            .collect()
    }

    /// The lower triangle of a `d x d` operand as single tokens.
    fn lower(&mut self, x: NodeId, b: &[Ix], d: usize, scope: usize, hint: &str) -> Res<Tri> {
        if matches!(self.ir.op(x), Op::TrilFrom(_) | Op::LowRankTril) {
            if let Block::Grid(rows) = self.factor_block(x, b)? {
                return Ok(rows);
            }
        }
        let hint = self.hint(x, hint);
        let mut rows = Vec::new();
        for i in 0..d {
            let mut row = Vec::new();
            for j in 0..=i {
                let idx: Vec<Ix> = b.iter().copied().chain([Ix::Const(i), Ix::Const(j)]).collect();
                let e = self.elem(x, &idx)?;
                row.push(self.atom(scope, &format!("{hint}_{i}_{j}"), e));
            }
            rows.push(row);
        }
        Ok(rows)
    }

    /// `return Err(..)` for a factorization of kernel `id` at `batch` failing at `pivot`,
    /// naming the parameter as the interpreter does.
    fn pd_error(&self, id: NodeId, batch: &[Ix], fallback: &str) -> impl Fn(usize) -> Tok {
        let (rt, name, idx) = (self.num.rt.clone(), self.operand_name(id, 0, fallback), self.ix_tokens(batch));
        move |pivot| {
            let p = super::index::lit(pivot);
            quote!(return Err(#rt::Error::new(#name, #idx, #rt::Rule::NotPositiveDefinite { pivot: #p })))
        }
    }

    /// A scalar multivariate kernel at batch index `idx`.
    pub fn scalar_kernel(&mut self, id: NodeId, idx: &[Ix]) -> Res<Tok> {
        let op = self.ir.op(id).clone();
        let (d, _) = self.event_dims(id)?;
        let scope = self.scope_of(idx);
        let b = |g: &Self, slot| g.operand_batch(id, slot, idx);
        // The difference form (`SpdKl`) always calls the runtime kernel: accuracy first.
        let small = Self::small(&d).filter(|_| !matches!(op, Op::SpdKl(_) | Op::MixedSpdKl(_) | Op::LowRankKl));
        let Some(n) = small else { return self.scalar_kernel_loop(id, idx, &d) };
        let value = match op {
            Op::TrilKl | Op::DiagTrilKl => {
                let ((m1, b0), (p1, b1), (m2, b2), (l2, b3)) = (b(self, 0)?, b(self, 1)?, b(self, 2)?, b(self, 3)?);
                let m1 = self.vector(m1, &b0, n, scope, "m1")?;
                let m2 = self.vector(m2, &b2, n, scope, "m2")?;
                let l2 = self.lower(l2, &b3, n, scope, "l2")?;
                if op == Op::TrilKl {
                    let l1 = self.lower(p1, &b1, n, scope, "l1")?;
                    self.dense(scope, |g| g.tril_kl(&m1, Left::Tril(&l1), &m2, &l2))
                } else {
                    let s1 = self.vector(p1, &b1, n, scope, "s1")?;
                    self.dense(scope, |g| g.tril_kl(&m1, Left::Diag(&s1), &m2, &l2))
                }
            }
            Op::TrilDiagKl => {
                let ((m1, b0), (l1, b1), (m2, b2), (s2, b3)) = (b(self, 0)?, b(self, 1)?, b(self, 2)?, b(self, 3)?);
                let m1 = self.vector(m1, &b0, n, scope, "m1")?;
                let l1 = self.lower(l1, &b1, n, scope, "l1")?;
                let m2 = self.vector(m2, &b2, n, scope, "m2")?;
                let s2 = self.vector(s2, &b3, n, scope, "s2")?;
                self.dense(scope, |g| g.tril_diag_kl(&m1, &l1, &m2, &s2))
            }
            Op::TrilLogProb => {
                let ((x, b0), (m, b1), (l, b2)) = (b(self, 0)?, b(self, 1)?, b(self, 2)?);
                let x = self.vector(x, &b0, n, scope, "x")?;
                let m = self.vector(m, &b1, n, scope, "m")?;
                let l = self.lower(l, &b2, n, scope, "l")?;
                self.dense(scope, |g| g.tril_log_prob(&x, &m, &l))
            }
            Op::TrilEntropy => {
                let (l, b0) = b(self, 0)?;
                let l = self.lower(l, &b0, n, scope, "l")?;
                self.dense(scope, |g| g.tril_entropy(&l))
            }
            _ => return Err(self.internal(id, "not a scalar kernel")),
        };
        let hint = value_hint(&op);
        Ok(self.bind(scope, hint, value))
    }

    /// Run straight-line code built by `f` in `scope`.
    fn dense<R>(&mut self, scope: usize, f: impl FnOnce(&mut Dense<'_>) -> R) -> R {
        let mut dense = Dense { num: &self.num, names: &mut self.names, lets: Vec::new() };
        let r = f(&mut dense);
        let lets = std::mem::take(&mut dense.lets);
        for (name, expr) in lets {
            self.push_let(scope, &name, expr);
        }
        r
    }

    /// The runtime loop kernels, on slices, with scratch from before the loops.
    fn scalar_kernel_loop(&mut self, id: NodeId, idx: &[Ix], d: &Dim) -> Res<Tok> {
        let op = self.ir.op(id).clone();
        let sig = op.signature().ok_or_else(|| self.internal(id, "no kernel signature"))?;
        let scope = self.scope_of(idx);
        let mut args = Vec::new();
        for (slot, &core) in sig.inputs.iter().enumerate() {
            let (x, b) = self.operand_batch(id, slot, idx)?;
            args.push(self.block_slice(x, &b, core)?);
        }
        let dl = self.dim(d)?;
        let dt = dl.tokens();
        let rt = self.num.rt.clone();
        let mut scratch = || {
            let s = self.alloc("scratch", &dl);
            quote!(&mut #s[..])
        };
        let call = match op {
            Op::TrilKl => {
                let s = scratch();
                quote!(#rt::mvn_kl_tril(#(#args,)* #dt, #s))
            }
            Op::DiagTrilKl => {
                let s = scratch();
                quote!(#rt::diag_tril_kl(#(#args,)* #dt, #s))
            }
            Op::TrilDiagKl => quote!(#rt::tril_diag_kl(#(#args,)* #dt)),
            Op::TrilLogProb => {
                let s = scratch();
                quote!(#rt::mvn_log_prob_tril(#(#args,)* #dt, #s))
            }
            Op::TrilEntropy => quote!(#rt::mvn_entropy_tril(#(#args,)* #dt)),
            Op::LowRankKl => {
                let len = dl.clone().mul(&dl).add(&dl);
                let s = self.alloc("scratch", &len);
                let r = match self.event_dims(id)?.1 {
                    Some(r) => self.dim(&r)?.tokens(),
                    None => return Err(self.internal(id, "low-rank KL without a rank")),
                };
                let name = self.operand_name(id, 1, "cov_factor");
                let batch = self.ix_tokens(idx);
                quote!(#rt::low_rank_kl(#(#args,)* #dt, #r, &mut #s[..])
                    .map_err(|e| #rt::Error::new(#name, #batch, e.into()))?)
            }
            Op::SpdKl(p) => {
                let len = dl.clone().mul(&dl).add(&dl);
                let s = self.alloc("scratch", &len);
                let (f, slot) = match p {
                    MvnParam::Precision => (quote!(precision_kl), 3),
                    _ => (quote!(cov_kl), 1),
                };
                let name = self.operand_name(id, slot, p.keyword());
                let batch = self.ix_tokens(&idx[..idx.len()]);
                quote!(#rt::#f(#(#args,)* #dt, &mut #s[..])
                    .map_err(|e| #rt::Error::new(#name, #batch, e.into()))?)
            }
            Op::MixedSpdKl(p) => {
                let len = dl.clone().mul(&dl).mul(&Lin::Const(3)).add(&dl);
                let s = self.alloc("scratch", &len);
                let f = match p {
                    MvnParam::Precision => quote!(precision_cov_kl),
                    _ => quote!(cov_precision_kl),
                };
                let name = self.operand_name(id, 1, p.keyword());
                let batch = self.ix_tokens(&idx[..idx.len()]);
                quote!(#rt::#f(#(#args,)* #dt, &mut #s[..])
                    .map_err(|e| #rt::Error::new(#name, #batch, e.into()))?)
            }
            _ => return Err(self.internal(id, "not a scalar kernel")),
        };
        let hint = value_hint(&op);
        Ok(self.bind(scope, hint, call))
    }

    /// A row kernel at batch index `idx`: its runtime function on the operands' rows, each a
    /// slice (of a parameter in place, or of a scratch row filled here).
    pub fn vector_kernel(&mut self, id: NodeId, idx: &[Ix]) -> Res<Tok> {
        let Op::VectorKernel(k) = self.ir.op(id).clone() else { return Err(self.internal(id, "not a row kernel")) };
        let rows = self.vector_rows(id, idx)?;
        let (rt, f) = (self.num.rt.clone(), format_ident!("{}", k.runtime));
        let scope = self.scope_of(idx);
        Ok(self.bind(scope, k.hint, quote!(#rt::#f(#(#rows),*))))
    }

    /// The rows (or single elements, as slices) a row kernel reads at batch index `idx`.
    pub fn vector_rows(&mut self, id: NodeId, idx: &[Ix]) -> Res<Vec<Tok>> {
        let sig = self.ir.op(id).signature().ok_or_else(|| self.internal(id, "no kernel signature"))?;
        let mut rows = Vec::new();
        for (slot, &core) in sig.inputs.iter().enumerate() {
            let (x, b) = self.operand_batch(id, slot, idx)?;
            rows.push(self.block_slice(x, &b, core)?);
        }
        Ok(rows)
    }

    /// An entry of a factor node (`[.., d, d]`) at `idx`.
    pub fn factor_elem(&mut self, id: NodeId, idx: &[Ix]) -> Res<Tok> {
        let n = idx.len();
        let (i, j) = (idx[n - 2], idx[n - 1]);
        match (self.factor_block(id, &idx[..n - 2])?, i, j) {
            (Block::Grid(rows), Ix::Const(i), Ix::Const(j)) => {
                Ok(if j <= i { rows[i][j].clone() } else { self.num.zero() })
            }
            (block, i, j) => {
                let (buf, d) = self.as_buffer(id, &idx[..n - 2], block)?;
                let off = offset(&[d.clone(), d], &[self.ix(i), self.ix(j)]).tokens();
                Ok(quote!(#buf[#off]))
            }
        }
    }

    /// A factor block as a buffer: a straight-line grid is copied into a local array (only when
    /// something indexes it by a loop variable, which the simplifier never produces today).
    fn as_buffer(&mut self, id: NodeId, batch: &[Ix], block: Block) -> Res<(Tok, Lin)> {
        match block {
            Block::Buf { ident, d } => Ok((quote!(#ident), d)),
            Block::Grid(rows) => {
                let key = (id, batch.to_vec());
                let d = rows.len();
                if let Some(s) = self.slices.get(&key) {
                    return Ok((s.clone(), Lin::Const(d)));
                }
                let zero = self.num.zero();
                let items = (0..d).flat_map(|i| (0..d).map(move |j| (i, j))).map(|(i, j)| {
                    if j <= i {
                        rows[i][j].clone()
                    } else {
                        zero.clone()
                    }
                });
                let scope = self.scope_of(batch);
                let arr = self.bind(scope, "factor", quote!([#(#items),*]));
                self.slices.insert(key, arr.clone());
                Ok((arr, Lin::Const(d)))
            }
        }
    }

    /// The lower factor of a factor node at its batch index `batch`, computed once.
    pub fn factor_block(&mut self, id: NodeId, batch: &[Ix]) -> Res<Block> {
        let key = (id, batch.to_vec());
        if let Some(b) = self.blocks.get(&key) {
            return Ok(b.clone());
        }
        let op = self.ir.op(id).clone();
        let (d, r) = self.event_dims(id)?;
        let scope = self.scope_of(batch);
        let (x, xb) = self.operand_batch(id, 0, batch)?;
        let block = match (Self::small(&d), op) {
            (Some(n), Op::TrilFrom(MvnParam::ScaleTril)) => Block::Grid(self.lower(x, &xb, n, scope, "l")?),
            (Some(n), Op::TrilFrom(MvnParam::Covariance)) => {
                let a = self.lower(x, &xb, n, scope, "c")?;
                let fail = self.pd_error(id, batch, "covariance_matrix");
                Block::Grid(self.dense(scope, |g| g.cholesky(&a, "l", &fail)))
            }
            (Some(n), Op::TrilFrom(MvnParam::Precision)) => {
                let p = self.lower(x, &xb, n, scope, "p")?;
                let fail = self.pd_error(id, batch, "precision_matrix");
                Block::Grid(self.dense(scope, |g| g.precision_to_scale_tril(&p, "l", &fail)))
            }
            (Some(n), Op::LowRankTril) => {
                let (dg, db) = self.operand_batch(id, 1, batch)?;
                let r = r.unwrap_or(Dim::Static(0));
                let mut c: Tri = Vec::new();
                for i in 0..n {
                    let mut row = Vec::new();
                    for j in 0..=i {
                        // C_ij = Σ_k W_ik W_jk (+ D_i on the diagonal), like `lowrank_covariance`.
                        let s = self.reduce(
                            scope,
                            std::slice::from_ref(&r),
                            UNROLL_MAX,
                            &format!("ww_{i}_{j}"),
                            &mut |g, k| {
                                let wi: Vec<Ix> = xb.iter().copied().chain([Ix::Const(i), k[0]]).collect();
                                let wj: Vec<Ix> = xb.iter().copied().chain([Ix::Const(j), k[0]]).collect();
                                let (a, b) = (g.elem(x, &wi)?, g.elem(x, &wj)?);
                                Ok(quote!(#a * #b))
                            },
                        )?;
                        let entry = if i == j {
                            let di: Vec<Ix> = db.iter().copied().chain([Ix::Const(i)]).collect();
                            let dv = self.elem(dg, &di)?;
                            self.bind(scope, &format!("c_{i}_{i}"), quote!(#s + #dv))
                        } else {
                            s
                        };
                        row.push(entry);
                    }
                    c.push(row);
                }
                let fail = self.pd_error(id, batch, "cov_factor");
                Block::Grid(self.dense(scope, |g| g.cholesky(&c, "l", &fail)))
            }
            (None, op) => self.factor_block_loop(id, batch, &op, &d, r.as_ref())?,
            (Some(_), _) => return Err(self.internal(id, "not a factor node")),
        };
        self.blocks.insert(key, block.clone());
        Ok(block)
    }

    fn factor_block_loop(&mut self, id: NodeId, batch: &[Ix], op: &Op, d: &Dim, r: Option<&Dim>) -> Res<Block> {
        let scope = self.scope_of(batch);
        let dl = self.dim(d)?;
        let dd = dl.clone().mul(&dl);
        let out = self.alloc("factor", &dd);
        let dt = dl.tokens();
        let rt = self.num.rt.clone();
        let (x, xb) = self.operand_batch(id, 0, batch)?;
        let (name, fallback) = match op {
            Op::TrilFrom(MvnParam::Precision) => (self.operand_name(id, 0, "precision_matrix"), "precision_matrix"),
            Op::LowRankTril => (self.operand_name(id, 0, "cov_factor"), "cov_factor"),
            _ => (self.operand_name(id, 0, "covariance_matrix"), "covariance_matrix"),
        };
        let _ = fallback;
        let idx = self.ix_tokens(batch);
        let err = quote!(.map_err(|e| #rt::Error::new(#name, #idx, e.into()))?);
        let stmt = match op {
            Op::TrilFrom(MvnParam::ScaleTril) => {
                let a = self.block_slice(x, &xb, 2)?;
                quote!(#out.copy_from_slice(#a);)
            }
            Op::TrilFrom(MvnParam::Covariance) => {
                let a = self.block_slice(x, &xb, 2)?;
                quote!(#rt::cholesky(#a, #dt, &mut #out[..]) #err;)
            }
            Op::TrilFrom(MvnParam::Precision) => {
                let a = self.block_slice(x, &xb, 2)?;
                let s = self.alloc("scratch", &dd);
                quote!(#rt::precision_to_scale_tril(#a, #dt, &mut #out[..], &mut #s[..]) #err;)
            }
            Op::LowRankTril => {
                let w = self.block_slice(x, &xb, 2)?;
                let (dg, db) = self.operand_batch(id, 1, batch)?;
                let diag = self.block_slice(dg, &db, 1)?;
                let r = self.dim(r.unwrap_or(&Dim::Static(0)))?.tokens();
                let cov = self.alloc("cov", &dd);
                quote!(
                    #rt::lowrank_covariance(#w, #diag, #dt, #r, &mut #cov[..]);
                    #rt::cholesky(&#cov[..], #dt, &mut #out[..]) #err;
                )
            }
            _ => return Err(self.internal(id, "not a factor node")),
        };
        self.push(scope, stmt);
        Ok(Block::Buf { ident: out, d: dl })
    }

    /// The block of the last `core` dims of `x` at its batch index `b`, as a `&[T]` expression:
    /// a sub-slice of a parameter when the block is stored contiguously (also through
    /// broadcasts that leave the core dims alone), the buffer of a factor, or else a scratch
    /// buffer filled here, once per batch element.
    pub fn block_slice(&mut self, x: NodeId, b: &[Ix], core: usize) -> Res<Tok> {
        let shape = self.shape(x)?;
        match self.ir.op(x).clone() {
            Op::Param(name) => {
                let p = self.sig.param(&name).ok_or_else(|| self.internal(x, "parameter is not an argument"))?;
                let ident = p.ident.clone();
                self.used.insert(ident.to_string());
                let batch_dims = self.dims(&shape.drop_last(core))?;
                let len = numel(&self.dims(&shape.last(core))?);
                let bi: Vec<Lin> = b.iter().map(|i| self.ix(*i)).collect();
                let start = offset(&batch_dims, &bi).mul(&len);
                let end = start.clone().add(&len);
                let (start, end) = (start.tokens(), end.tokens());
                return Ok(quote!(&#ident[#start..#end]));
            }
            Op::BroadcastTo(_) => {
                let y = self.ir.operand(x, 0);
                let ys = self.shape(y)?;
                if ys.rank() >= core && ys.last(core) == shape.last(core) {
                    let yb = broadcast_index(b, &shape.drop_last(core), &ys.drop_last(core));
                    return self.block_slice(y, &yb, core);
                }
            }
            Op::TrilFrom(_) | Op::LowRankTril if core == 2 => {
                let block = self.factor_block(x, b)?;
                let (buf, _) = self.as_buffer(x, b, block)?;
                return Ok(quote!(&#buf[..]));
            }
            _ => {}
        }
        let key = (x, b.to_vec());
        if let Some(s) = self.slices.get(&key) {
            return Ok(s.clone());
        }
        let core_dims: Vec<Dim> = shape.last(core).dims().to_vec();
        let lens = self.dims(&Shape(core_dims.clone()))?;
        let buf = self.alloc("block", &numel(&lens));
        let scope = self.scope_of(b);
        self.each_index(scope, &core_dims, UNROLL_MAX, "k", &mut |g, ci, inner| {
            let idx: Vec<Ix> = b.iter().chain(ci).copied().collect();
            let v = g.elem(x, &idx)?;
            let ci: Vec<Lin> = ci.iter().map(|i| g.ix(*i)).collect();
            let off = offset(&lens, &ci).tokens();
            g.push(inner, quote!(#buf[#off] = #v;));
            Ok(())
        })?;
        let s = quote!(&#buf[..]);
        self.slices.insert(key, s.clone());
        Ok(s)
    }
}

/// The local name a scalar kernel's value gets in the emitted code.
fn value_hint(op: &Op) -> &'static str {
    match op {
        Op::TrilLogProb => "log_p",
        Op::TrilEntropy => "h",
        _ => "kl",
    }
}
