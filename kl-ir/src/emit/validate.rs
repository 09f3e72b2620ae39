//! The checked entry point's checks, in the interpreter's order: every slice length against
//! its declared shape (parameters in argument order, then `out`), then every parameter value
//! against the rules of its roles exactly as `interp::validate` applies them (roles by
//! parameter name, each role over all elements or matrix blocks in row-major order), so both
//! report the same first error with the same parameter name and batch index.

use super::gen::Res;
use super::index::{lit, numel, Lin};
use super::signature::{Names, Num, Sig};
use crate::ir::{Ir, Role};
use crate::shape::{Dim, Shape};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

type Tok = TokenStream;

fn dims(sig: &Sig, s: &Shape) -> Res<Vec<Lin>> {
    s.dims()
        .iter()
        .map(|d| match d {
            Dim::Static(n) => Ok(Lin::Const(*n)),
            Dim::Symbol(s) => {
                let id =
                    sig.dim(s).ok_or_else(|| super::gen::internal(format!("shape symbol `{s}` is not an argument")))?;
                Ok(Lin::atom(quote!(#id)))
            }
        })
        .collect()
}

/// The multi-index of flat position `n` in a row-major block of `dims`: the comma-separated
/// items, for `vec![..]` or `&[..]`.
fn unravel(n: &Ident, dims: &[Lin]) -> Tok {
    let mut items = Vec::new();
    for k in 0..dims.len() {
        let stride = numel(&dims[k + 1..]);
        let q = match stride {
            Lin::Const(1) => quote!(#n),
            s => {
                // Parenthesized even when a product: `n / (t * 4)`, not `n / t * 4`.
                let s = match s {
                    Lin::Expr { tokens, .. } => quote!((#tokens)),
                    s => s.tokens(),
                };
                quote!(#n / #s)
            }
        };
        items.push(if dims[k] == Lin::Const(1) {
            super::index::lit(0)
        } else if k == 0 {
            q
        } else {
            let d = dims[k].tokens();
            quote!(#q % #d)
        });
    }
    quote!(#(#items),*)
}

pub(crate) fn checks(ir: &Ir, sig: &Sig, num: &Num) -> Res<Vec<Tok>> {
    let rt = &num.rt;
    // Locals that cannot shadow an argument.
    let mut names = Names::new(sig.taken());
    let (n, v, e) = (names.fresh("n"), names.fresh("v"), names.fresh("e"));
    let (scratch, tol) = (names.fresh("scratch"), names.fresh("tol"));
    let mut out = Vec::new();
    for p in &sig.params {
        let (name, ident) = (&p.name, &p.ident);
        let len = numel(&dims(sig, &p.shape)?).tokens();
        out.push(quote!(#rt::check_len(#name, &[], #len, #ident.len())?;));
    }
    let (o, len) = (&sig.out, numel(&dims(sig, &sig.result)?).tokens());
    out.push(quote!(#rt::check_len("out", &[], #len, #o.len())?;));
    for (name, roles) in &ir.roles {
        let Some(p) = sig.param(name) else { continue };
        let (ident, shape) = (&p.ident, &p.shape);
        let all = dims(sig, shape)?;
        let mut seen = Vec::new();
        for role in roles {
            // A repeated role cannot fail before its first occurrence did.
            if seen.contains(role) {
                continue;
            }
            seen.push(*role);
            out.push(match role {
                Role::Real | Role::Positive | Role::PositiveDiag => {
                    let f = if *role == Role::Real { quote!(check_finite) } else { quote!(check_positive) };
                    let index = unravel(&n, &all);
                    quote! {
                        for (#n, &#v) in #ident.iter().enumerate() {
                            #rt::#f(#name, &[], #v).map_err(|#e| #rt::Error { index: vec![#index], ..#e })?;
                        }
                    }
                }
                Role::SpdMatrix | Role::ScaleTril => {
                    let k = shape.rank().saturating_sub(2);
                    let (batch, d) = (&all[..k], all.last().cloned().unwrap_or(Lin::Const(1)));
                    let dd = d.clone().mul(&d);
                    let count = numel(batch).tokens();
                    let index = unravel(&n, batch);
                    let (dt, ddt) = (d.tokens(), dd.tokens());
                    // Offsets through `Lin`, which folds the `* 1` of a 1x1 matrix away.
                    let at = |k: Lin| k.mul(&dd).tokens();
                    let (start, end) = (at(Lin::atom(quote!(#n))), at(Lin::atom(quote!(#n)).add(&Lin::Const(1))));
                    let block = quote!(&#ident[#start..#end]);
                    if *role == Role::ScaleTril {
                        quote! {
                            for #n in 0..#count {
                                #rt::check_scale_tril(#name, &[#index], #block, #dt)?;
                            }
                        }
                    } else {
                        let zero = num.zero();
                        let alloc = match &dd {
                            Lin::Const(c) if *c <= 4096 => {
                                let c = lit(*c);
                                quote!(let mut #scratch = [#zero; #c];)
                            }
                            _ => quote!(let mut #scratch = vec![#zero; #ddt];),
                        };
                        let (eps, from) = (num.k("EPSILON"), num.lit(1e-8));
                        let sixty_four = num.lit(64.0);
                        quote! {{
                            #alloc
                            let #tol = (#from).max(#eps * #sixty_four);
                            for #n in 0..#count {
                                #rt::check_spd(#name, &[#index], #block, #dt, #tol, &mut #scratch[..])?;
                            }
                        }}
                    }
                }
            });
        }
    }
    Ok(out)
}
