//! Elements of value nodes: parameters, literals, broadcasts, `diag`, the elementwise normal
//! kernels (called through the runtime's `#[inline]` functions, so the formulas are the
//! interpreter's) and `sum_last` reductions.

use super::gen::{Gen, Res};
use super::index::{broadcast_index, lit, offset, Ix, Lin};
use super::UNROLL_MAX;
use kl_compiler::ir::{NodeId, NormalParam, Op};
use kl_compiler::kernel::{Call, CallArg};
use kl_compiler::shape::Dim;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

impl Gen<'_> {
    /// The element of `id` at `idx` (one index per dim of the node's shape), as an expression
    /// valid in the scope of `idx` and every scope inside it.
    pub fn elem(&mut self, id: NodeId, idx: &[Ix]) -> Res<TokenStream> {
        if let Some(v) = self.values.get(&(id, idx.to_vec())) {
            return Ok(v.clone());
        }
        let shape = self.shape(id)?;
        if idx.len() != shape.rank() {
            return Err(self.internal(id, &format!("indexed with {} indices, shape {shape}", idx.len())));
        }
        let op = self.ir.op(id).clone();
        let operand = |g: &Self, slot: usize| -> Res<(NodeId, Vec<Ix>)> {
            let x = g.ir.operand(id, slot);
            Ok((x, broadcast_index(idx, &shape, &g.shape(x)?)))
        };
        let scope = self.scope_of(idx);
        let value = match op {
            // Reads and constants are cheap: not cached, inlined where used.
            Op::Param(name) => return self.param_elem(id, &name, idx),
            Op::Literal(v) => return Ok(self.num.lit(v)),
            Op::Zeros(_) => return Ok(self.num.zero()),
            Op::BroadcastTo(_) => {
                let (x, xi) = operand(self, 0)?;
                return self.elem(x, &xi);
            }
            Op::Diag => {
                let v = self.ir.operand(id, 0);
                let n = idx.len();
                let (i, j) = (idx[n - 2], idx[n - 1]);
                match (i, j) {
                    (Ix::Const(a), Ix::Const(b)) if a != b => return Ok(self.num.zero()),
                    (Ix::Const(_), Ix::Const(_)) => return self.elem(v, &idx[..n - 1]),
                    _ => {
                        let on = self.elem(v, &idx[..n - 1])?;
                        let (a, b, zero) = (self.ix(i).tokens(), self.ix(j).tokens(), self.num.zero());
                        self.bind(scope, "diag", quote!(if #a == #b { #on } else { #zero }))
                    }
                }
            }
            Op::ScaleFrom(p) => {
                let (x, xi) = operand(self, 0)?;
                let x = self.elem(x, &xi)?;
                let expr = match p {
                    NormalParam::Scale => return Ok(x),
                    NormalParam::Var => quote!(#x.sqrt()),
                    NormalParam::LogScale => quote!(#x.exp()),
                    NormalParam::Precision => quote!(#x.sqrt().recip()),
                };
                self.bind(scope, "scale", expr)
            }
            // A descriptor's runtime function on the operands' elements.
            Op::Kernel(k) => {
                let mut elems = Vec::new();
                for slot in 0..k.kernel.operands.len() {
                    let (x, xi) = operand(self, slot)?;
                    elems.push(self.elem(x, &xi)?);
                }
                let call = self.call(&(k.kernel.call)(k.attrs), &elems);
                self.bind(scope, k.kernel.hint, call)
            }
            Op::SumLast { k, full } => {
                let x = self.ir.operand(id, 0);
                let xs = self.shape(x)?;
                let summed = full.dims()[full.rank() - k..].to_vec();
                let prefix = idx.to_vec();
                let small = match &summed[..] {
                    [Dim::Static(n)] if (2..=UNROLL_MAX).contains(n) && self.is_elementwise_kernel(x) => Some(*n),
                    _ => None,
                };
                let mut term = |g: &mut Self, j: &[Ix]| {
                    let at: Vec<Ix> = prefix.iter().chain(j).copied().collect();
                    let xi = broadcast_index(&at, &full, &xs);
                    g.elem(x, &xi)
                };
                match small {
                    Some(n) => self.reduce_array(scope, n, "sum", &mut term)?,
                    None => self.reduce(scope, &summed, UNROLL_MAX, "sum", &mut term)?,
                }
            }
            Op::DiagTrilKl
            | Op::TrilDiagKl
            | Op::TrilKl
            | Op::SpdKl(_)
            | Op::MixedSpdKl(_)
            | Op::LowRankKl
            | Op::TrilLogProb
            | Op::TrilEntropy => self.scalar_kernel(id, idx)?,
            Op::TrilFrom(_) | Op::LowRankTril => self.factor_elem(id, idx)?,
            Op::VectorKernel(_) => self.vector_kernel(id, idx)?,
            _ => return Err(self.internal(id, "not a node of a simplified IR")),
        };
        self.values.insert((id, idx.to_vec()), value.clone());
        Ok(value)
    }

    /// `kl_runtime::{runtime}(args..)` of a descriptor's [`Call`] on the operands' elements.
    pub fn call(&self, call: &Call, elems: &[TokenStream]) -> TokenStream {
        let rt = &self.num.rt;
        let args = call.args.iter().map(|a| match a {
            CallArg::Operand(slot) => elems[*slot].clone(),
            CallArg::ScaleParam(v) => {
                let v = format_ident!("{}", v);
                quote!(#rt::ScaleParam::#v)
            }
            CallArg::Zero => self.num.zero(),
            CallArg::One => self.num.lit(1.0),
        });
        let f = format_ident!("{}", call.runtime);
        quote!(#rt::#f(#(#args),*))
    }

    /// A univariate normal kernel (through broadcasts): costly enough per element that
    /// computing it in a vectorizable loop pays off.
    fn is_elementwise_kernel(&self, id: NodeId) -> bool {
        match self.ir.op(id) {
            Op::Kernel(_) => true,
            Op::BroadcastTo(_) => self.is_elementwise_kernel(self.ir.operand(id, 0)),
            _ => false,
        }
    }

    /// A parameter element. The static trailing dims of a parameter (its event or matrix block)
    /// are read through one fixed-size view per row, `let row: &[T; N] = p[a..a + N]
    /// .try_into().unwrap();`, so that the row costs one bounds check and the reads inside it
    /// none: indexing a slice at `i * 8 + 3` keeps a check per element that LLVM cannot remove
    /// (the multiplication may wrap, as far as it knows), and those checks keep it from
    /// vectorizing the row.
    fn param_elem(&mut self, id: NodeId, name: &str, idx: &[Ix]) -> Res<TokenStream> {
        let p = self.sig.param(name).ok_or_else(|| self.internal(id, "parameter is not an argument"))?;
        let (ident, shape) = (p.ident.clone(), p.shape.clone());
        self.used.insert(ident.to_string());
        let dims = self.dims(&shape)?;
        let statics = shape.dims().iter().rev().take_while(|d| d.as_static().is_some()).count();
        let n: usize = shape.dims()[shape.rank() - statics..].iter().filter_map(|d| d.as_static()).product();
        if statics == 0 || n > VIEW_MAX {
            let idx: Vec<_> = idx.iter().map(|i| self.ix(*i)).collect();
            let off = offset(&dims, &idx).tokens();
            return Ok(quote!(#ident[#off]));
        }
        let split = shape.rank() - statics;
        let (outer, inner) = idx.split_at(split);
        let key = (ident.to_string(), outer.to_vec());
        let view = match self.views.get(&key) {
            Some(v) => v.clone(),
            None => {
                let at: Vec<Lin> = outer.iter().map(|i| self.ix(*i)).collect();
                let start = offset(&dims[..split], &at).mul(&Lin::Const(n));
                let end = start.clone().add(&Lin::Const(n));
                let (start, end, len, ty) = (start.tokens(), end.tokens(), lit(n), self.num.ty.clone());
                let scope = self.scope_of(outer);
                let v = self.bind(
                    scope,
                    &format!("{}_row", ident.to_string().trim_start_matches("r#")),
                    quote!(<&[#ty; #len]>::try_from(&#ident[#start..#end]).unwrap()),
                );
                self.views.insert(key, v.clone());
                v
            }
        };
        // A lane of a lane-wise reduction over the last dim: a view of the `lanes` consecutive
        // elements, bound once per block, so that the lanes need no checks either.
        if let Some(&Ix::Lane { var, lanes, lane }) = inner.last() {
            let key = (ident.to_string(), idx.to_vec());
            let block = match self.views.get(&key) {
                Some(v) => v.clone(),
                None => {
                    let mut at: Vec<Lin> = inner.iter().map(|i| self.ix(*i)).collect();
                    let block_var = &self.vars[var].ident;
                    *at.last_mut().unwrap() = Lin::atom(quote!(#block_var)).mul(&Lin::Const(lanes));
                    let start = offset(&dims[split..], &at);
                    let end = start.clone().add(&Lin::Const(lanes));
                    let (start, end, len, ty) = (start.tokens(), end.tokens(), lit(lanes), self.num.ty.clone());
                    // Bound once per block, outside the lane loop.
                    let scope = self.vars[var].scope;
                    let v = self.bind(
                        scope,
                        &format!("{}_lanes", ident.to_string().trim_start_matches("r#")),
                        quote!(<&[#ty; #len]>::try_from(&#view[#start..#end]).unwrap()),
                    );
                    self.views.insert(key, v.clone());
                    v
                }
            };
            let l = &self.vars[lane].ident;
            return Ok(quote!(#block[#l]));
        }
        let at: Vec<Lin> = inner.iter().map(|i| self.ix(*i)).collect();
        let off = offset(&dims[split..], &at).tokens();
        Ok(quote!(#view[#off]))
    }
}

/// Rows longer than this are indexed as slices: a view is a reference, but its length is a type
/// parameter, and 4096 covers a 64 x 64 matrix.
pub(crate) const VIEW_MAX: usize = 4096;
