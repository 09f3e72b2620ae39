//! The checked entry point's checks, in the interpreter's order: every slice length against
//! its declared shape (parameters in argument order, then `out`), then every parameter value
//! against the rules of its roles exactly as `interp::validate` applies them (parameters in
//! argument order, each role over all elements or matrix blocks in row-major order), so both
//! report the same first error with the same parameter name and batch index.

use super::gen::{dims, Res};
use super::index::{lit, numel, Lin};
use super::rows::RowsKernel;
use super::signature::{Names, Num, Sig};
use kl_compiler::ir::{Ir, Role};
use kl_compiler::shape::{Dim, Shape};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

type Tok = TokenStream;

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

/// The checked entry's statements: the length checks, then (see [`chunked`]) the fast path
/// over chunks of the batch, then the interpreter-ordered value checks.
pub(crate) fn checks(ir: &Ir, sig: &Sig, num: &Num, unchecked: &Ident, rows: Option<&RowsKernel>) -> Res<Vec<Tok>> {
    let (mut out, values) = length_and_value_checks(ir, sig, num)?;
    let joint = super::constraints::checks(ir, sig, num)?;
    // The chunked fast path checks roles only: with joint checks, every value is checked first.
    if joint.is_empty() {
        out.extend(chunked(ir, sig, num, unchecked, rows)?);
    }
    out.extend(values);
    out.extend(joint);
    Ok(out)
}

pub(crate) fn length_and_value_checks(ir: &Ir, sig: &Sig, num: &Num) -> Res<(Vec<Tok>, Vec<Tok>)> {
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
    let lengths = std::mem::take(&mut out);
    for (name, roles) in ir.roles_in_order() {
        let name = &name;
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
            out.push(match role.element_rule() {
                Some(rule) => {
                    let f = format_ident!("{}", rule.check);
                    let index = unravel(&n, &all);
                    quote! {
                        for (#n, &#v) in #ident.iter().enumerate() {
                            #rt::#f(#name, &[], #v).map_err(|#e| #rt::Error { index: vec![#index], ..#e })?;
                        }
                    }
                }
                None => {
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
    Ok((lengths, out))
}

/// Matrices up to this size are checked by `spd_ok_n` on the fast path.
const SPD_FIXED_MAX: usize = super::CHOLESKY_UNROLL_MAX;

/// Factors up to this size are checked by `scale_tril_ok_n` on the fast path (a 64 x 64
/// factor is still a short unrolled-free loop over a fixed-size block).
const TRIL_FIXED_MAX: usize = 64;

/// How a parameter's slice follows a chunk of the leading batch dim.
enum Part {
    /// `[B, ..]`: rows of this many elements.
    Rows(Lin),
    /// No `B`: the whole slice in every chunk.
    Shared,
}

/// The fast path of the checked entry, when the result's leading dim is a symbol `B` that every
/// parameter either leads with or does not use: over chunks of rows (about
/// [`CHUNK_BYTES`](kl_runtime) of input), check the chunk's values (all-valid only, branch-free)
/// and compute it right away with the unchecked function, so that the inputs are read from
/// memory once instead of once per pass. Any failure (an invalid value, or an error of the
/// computation) falls through to the interpreter-ordered checks and a whole-batch computation,
/// which report exactly the interpreter's first error. The chunks may run on several threads
/// (`kl_runtime::for_each_chunk`, `rayon` feature).
///
/// When a batched row kernel computes the root ([`super::rows`]), each chunk is one call of it
/// with `check = true`: validation and computation in the same pass.
fn chunked(ir: &Ir, sig: &Sig, num: &Num, unchecked: &Ident, kernel: Option<&RowsKernel>) -> Res<Option<Tok>> {
    let Some(Dim::Symbol(bsym)) = sig.result.dims().first() else { return Ok(None) };
    let uses_b = |s: &Shape| s.dims().iter().filter(|d| matches!(d, Dim::Symbol(x) if x == bsym)).count();
    if uses_b(&sig.result) != 1 {
        return Ok(None);
    }
    let Some(bid) = sig.dim(bsym) else { return Ok(None) };
    let mut parts = Vec::new();
    for p in &sig.params {
        parts.push(match uses_b(&p.shape) {
            0 => Part::Shared,
            1 if matches!(p.shape.dims().first(), Some(Dim::Symbol(x)) if x == bsym) => {
                Part::Rows(numel(&dims(sig, &Shape(p.shape.dims()[1..].to_vec()))?))
            }
            _ => return Ok(None),
        });
    }
    let (rt, ty) = (&num.rt, &num.ty);
    let mut names = Names::new(sig.taken());
    let (lo, hi, o, rows, c, m) = (
        names.fresh("lo"),
        names.fresh("hi"),
        names.fresh("o"),
        names.fresh("rows"),
        names.fresh("c"),
        names.fresh("m"),
    );
    let (scratch, tol) = (names.fresh("scratch"), names.fresh("tol"));
    let locals = Locals { c: c.clone(), m: m.clone(), scratch: scratch.clone(), tol: tol.clone() };
    let ok = |name: &str, shape: &Shape| value_ok(ir, sig, num, &locals, name, shape);
    let (mut shared, mut batched, mut args, mut row_elems) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut slices = std::collections::HashMap::new();
    for (p, part) in sig.params.iter().zip(&parts) {
        let ident = &p.ident;
        let check = ok(&p.name, &p.shape)?;
        match part {
            Part::Shared => {
                shared.push(quote!({ let #c: &[#ty] = #ident; #check }));
                args.push(quote!(#ident));
            }
            Part::Rows(row) => {
                // Through `Lin`, so that rows of one element read `lo..hi`.
                let (start, end) = (Lin::atom(quote!(#lo)).mul(row).tokens(), Lin::atom(quote!(#hi)).mul(row).tokens());
                let slice = quote!(&#ident[#start..#end]);
                batched.push(quote!({ let #c: &[#ty] = #slice; #check }));
                slices.insert(p.name.clone(), slice.clone());
                args.push(slice);
                row_elems.push(row.clone());
            }
        }
    }
    for (sym, id) in &sig.dims {
        args.push(if sym == bsym { quote!(#hi - #lo) } else { quote!(#id) });
    }
    args.push(quote!(#o));
    let out_row = numel(&dims(sig, &Shape(sig.result.dims()[1..].to_vec()))?).tokens();
    // Bytes per row of all batched inputs (one input of one element: no `(1) * size_of`).
    let size = quote!(::core::mem::size_of::<#ty>());
    let row_bytes = match &row_elems[..] {
        [] => quote!(1),
        [Lin::Const(1)] => size,
        rows => {
            let rows = rows.iter().map(|row| match row {
                Lin::Expr { atomic: false, tokens } => quote!((#tokens)),
                _ => row.tokens(),
            });
            quote!((#(#rows)+*) * #size)
        }
    };
    let out = &sig.out;
    let batched = if batched.is_empty() { quote!() } else { quote!(#(#batched)&&* &&) };
    let mut chunk_rows = quote!(#rt::chunk_rows);
    let chunk = match kernel {
        // Every input of a row kernel leads with `B` (it has the result's shape plus the row).
        Some(k) if k.inputs.iter().all(|n| slices.contains_key(n)) => {
            chunk_rows = quote!(#rt::kernel_chunk_rows);
            k.call(num, |n| slices[n].clone(), quote!(#o), true)
        }
        _ => quote!((#batched #unchecked(#(#args),*).is_ok())),
    };
    // Shared parameters are checked once; an invalid one skips the fast path.
    let (label, shared) = if shared.is_empty() {
        (quote!(), quote!())
    } else {
        (quote!('fast:), quote!(if !(#(#shared)&&*) { break 'fast; }))
    };
    Ok(Some(quote! {
        #label {
            #shared
            let #rows = #chunk_rows(#row_bytes);
            if #rt::for_each_chunk(#bid, #rows, #out, #out_row, |#lo: usize, #hi: usize, #o: &mut [#ty]| {
                #chunk
            }) {
                return Ok(());
            }
        }
    }))
}

/// Fresh locals of the fast path's checks.
struct Locals {
    c: Ident,
    m: Ident,
    scratch: Ident,
    tol: Ident,
}

/// The value checks of one slice `c` of parameter `name` (of `shape`), as a `bool` expression.
fn value_ok(ir: &Ir, sig: &Sig, num: &Num, l: &Locals, name: &str, shape: &Shape) -> Res<Tok> {
    let (rt, ty) = (&num.rt, &num.ty);
    let Locals { c, m, scratch, tol } = l;
    let mut all = Vec::new();
    let roles = ir.roles.iter().filter(|(n, _)| n.as_str() == name).flat_map(|(_, r)| r.iter().copied());
    let mut seen = Vec::new();
    for role in roles {
        if seen.contains(&role) {
            continue;
        }
        seen.push(role);
        all.push(match role.element_rule() {
            Some(rule) => {
                let f = format_ident!("{}", rule.all);
                quote!(#rt::#f(#c))
            }
            None => {
                let d = dims(sig, shape)?.last().cloned().unwrap_or(Lin::Const(1));
                let dd = d.clone().mul(&d);
                let (dt, ddt) = (d.tokens(), dd.tokens());
                // `chunks_exact` panics on 0; a `d = 0` batch has no values to check.
                let step = match &dd {
                    Lin::Const(k) => lit((*k).max(1)),
                    _ => quote!((#ddt).max(1)),
                };
                if let (Role::ScaleTril, Lin::Const(n @ 1..=TRIL_FIXED_MAX)) = (role, &d) {
                    let n = lit(*n);
                    quote!(#c.chunks_exact(#step).all(#rt::scale_tril_ok_n::<#ty, #n>))
                } else if role == Role::ScaleTril {
                    quote!(#c.chunks_exact(#step).all(|#m| #rt::check_scale_tril(#name, &[], #m, #dt).is_ok()))
                } else {
                    let zero = num.zero();
                    let alloc = match &dd {
                        Lin::Const(k) if *k <= 4096 => {
                            let k = lit(*k);
                            quote!(let mut #scratch = [#zero; #k];)
                        }
                        _ => quote!(let mut #scratch = vec![#zero; #ddt];),
                    };
                    let (eps, from, sixty_four) = (num.k("EPSILON"), num.lit(1e-8), num.lit(64.0));
                    if let Lin::Const(n @ 1..=SPD_FIXED_MAX) = d {
                        // The fixed-size twin of `check_spd`: unrolled, no scratch.
                        let n = lit(n);
                        quote!({
                            let #tol = (#from).max(#eps * #sixty_four);
                            #c.chunks_exact(#step).all(|#m| #rt::spd_ok_n::<#ty, #n>(#m, #tol))
                        })
                    } else {
                        quote!({
                            #alloc
                            let #tol = (#from).max(#eps * #sixty_four);
                            #c.chunks_exact(#step)
                                .all(|#m| #rt::check_spd(#name, &[], #m, #dt, #tol, &mut #scratch[..]).is_ok())
                        })
                    }
                }
            }
        });
    }
    Ok(if all.is_empty() { quote!(true) } else { quote!(#(#all)&&*) })
}

/// The VJP's fast path: when every parameter leads with the result's first dim `B` (so that
/// each gradient row belongs to one row of the batch), chunks of rows that pass the value
/// checks (with the chunk still in cache) go straight to `unchecked`; the first chunk that
/// fails, or whose Cholesky factorization fails, leaves the rest to the interpreter-ordered
/// checks after it, which report the first error with its full batch index.
pub(crate) fn chunked_vjp(ir: &Ir, sig: &Sig, num: &Num, unchecked: &Ident) -> Res<Option<Tok>> {
    let Some(grad) = &sig.grad else { return Ok(None) };
    let Some(Dim::Symbol(bsym)) = sig.result.dims().first() else { return Ok(None) };
    let uses_b = |s: &Shape| s.dims().iter().filter(|d| matches!(d, Dim::Symbol(x) if x == bsym)).count();
    let leads = |s: &Shape| uses_b(s) == 1 && matches!(s.dims().first(), Some(Dim::Symbol(x)) if x == bsym);
    if !leads(&sig.result) || !sig.params.iter().all(|p| leads(&p.shape)) {
        return Ok(None);
    }
    let Some(bid) = sig.dim(bsym) else { return Ok(None) };
    let (rt, ty) = (&num.rt, &num.ty);
    let mut names = Names::new(sig.taken());
    let (lo, hi, rows) = (names.fresh("lo"), names.fresh("hi"), names.fresh("rows"));
    let locals =
        Locals { c: names.fresh("c"), m: names.fresh("m"), scratch: names.fresh("scratch"), tol: names.fresh("tol") };
    let c = &locals.c;
    let row_of = |s: &Shape| -> Res<Lin> { Ok(numel(&dims(sig, &Shape(s.dims()[1..].to_vec()))?)) };
    let chunk = |ident: &Ident, row: &Lin, mutable: bool| {
        let (start, end) = (Lin::atom(quote!(#lo)).mul(row).tokens(), Lin::atom(quote!(#hi)).mul(row).tokens());
        if mutable {
            quote!(&mut #ident[#start..#end])
        } else {
            quote!(&#ident[#start..#end])
        }
    };
    let (mut checks, mut args, mut row_elems) = (Vec::new(), Vec::new(), Vec::new());
    for p in &sig.params {
        let row = row_of(&p.shape)?;
        let slice = chunk(&p.ident, &row, false);
        let ok = value_ok(ir, sig, num, &locals, &p.name, &p.shape)?;
        checks.push(quote!({ let #c: &[#ty] = #slice; #ok }));
        args.push(slice);
        row_elems.push(row);
    }
    for (sym, id) in &sig.dims {
        args.push(if sym == bsym { quote!(#hi - #lo) } else { quote!(#id) });
    }
    let out_row = row_of(&sig.result)?;
    args.push(chunk(&grad.upstream, &out_row, false));
    args.push(chunk(&sig.out, &out_row, true));
    for (p, g) in sig.params.iter().zip(&grad.params) {
        args.push(chunk(g, &row_of(&p.shape)?, true));
    }
    // Bytes per row read (inputs) and written (their gradients).
    let size = quote!(::core::mem::size_of::<#ty>());
    let rows_sum = row_elems.iter().map(|row| match row {
        Lin::Expr { atomic: false, tokens } => quote!((#tokens)),
        _ => row.tokens(),
    });
    let checks = if checks.is_empty() { quote!() } else { quote!(#(#checks)&&* &&) };
    Ok(Some(quote! {
        {
            let #rows = #rt::chunk_rows(2 * (#(#rows_sum)+*) * #size);
            let mut #lo = 0usize;
            while #lo < #bid {
                let #hi = #lo + #rows.min(#bid - #lo);
                if !(#checks #unchecked(#(#args),*).is_ok()) {
                    break;
                }
                #lo = #hi;
            }
            if #lo == #bid {
                return Ok(());
            }
        }
    }))
}
