//! Emission: a simplified, checked IR becomes the Rust source of one specialized function.
//!
//! ```text
//! signature (args from params and shape symbols) -> checks (lengths, roles) -> body (fused loops)
//! ```
//!
//! Two functions are generated:
//!
//! * `NAME(params.., dims.., out) -> Result<(), Error>` checks every slice length against the
//!   declared shapes (`Rule::LengthMismatch`) and every value against its roles exactly like
//!   [`kl_compiler::interp::validate`], then calls
//! * `NAME_unchecked(..)` with the same arguments: the bare computation, for hot loops whose
//!   inputs are known to be valid. It does no validation; wrong slice lengths panic at an index,
//!   invalid values give NaN or infinities. It still returns `Err(NotPositiveDefinite)` when a
//!   Cholesky factorization inside fails, since that is data the caller cannot check cheaply.
//!
//! The body is one fused pass: nested loops over the output dims compute each output element
//! straight from the inputs, with no intermediate full-size tensors. Each value is computed in
//! the outermost loop where its indices are bound (a Cholesky of a matrix shared by the batch
//! runs once, before the loops). Static summed dims (e.g. the event dim of `to_event(1)`) are
//! unrolled up to [`UNROLL_MAX`] elements; multivariate kernels with a static `d <=`
//! [`CHOLESKY_UNROLL_MAX`] become straight-line code; larger or dynamic sizes call the
//! runtime's loop kernels with scratch buffers allocated once before the loops.
//!
//! ```
//! let c = kl_compiler::compile("Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [B, 8]", &Default::default()).unwrap();
//! let src = kl_codegen::emit::emit_source(&c.simplified, &kl_codegen::emit::EmitOptions::default()).unwrap();
//! assert!(src.contains("pub fn kl<T: ::kl_runtime::Real>("));
//! assert!(src.contains("pub fn kl_unchecked<T: ::kl_runtime::Real>("));
//! ```

mod constraints;
mod dense;
mod elementwise;
mod gen;
mod index;
mod kernels;
mod rows;
mod signature;
mod validate;
mod vjp;

pub use signature::{arguments, dims, params};
pub use vjp::{emit_vjp_source, emit_vjp_tokens};

use gen::{Gen, Res, ROOT};
use index::{offset, Lin};
use kl_compiler::diag::{Diagnostic, Diagnostics};
use kl_compiler::ir::{fmt_f64, Ir, NodeId, Op};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use signature::{Num, Sig};

/// Static summed dims with at most this many elements in total are unrolled; longer or dynamic
/// ones become loops. 16 covers the common event sizes (up to 16 latents, a 4x4 event) with
/// code that still reads as one short block per output element, and 16 f64 terms fill two
/// AVX-512 or four AVX2 registers: beyond that, a loop vectorizes as well and keeps the source
/// (and compile times of `kl!` users) small.
pub const UNROLL_MAX: usize = 16;

/// Multivariate kernels with a static event size up to this are emitted as straight-line code
/// (one local per matrix entry): 8x8 is 36 lower-triangle entries and a few hundred flops, still
/// all in registers; beyond that the runtime's loops are as fast and the source stays short.
pub const CHOLESKY_UNROLL_MAX: usize = 8;

/// The numeric type of a non-generic function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    F32,
    F64,
}

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmitOptions {
    /// Name of the checked function; the unchecked one is `{fn_name}_unchecked`.
    pub fn_name: String,
    /// Path of the runtime crate in the generated code: `::kl_runtime`, or `::kl::runtime`
    /// through the facade.
    pub runtime_path: String,
    /// `None`: generic over `T: Real`; else this concrete type.
    pub dtype: Option<Dtype>,
}

impl Default for EmitOptions {
    fn default() -> Self {
        EmitOptions { fn_name: "kl".into(), runtime_path: "::kl_runtime".into(), dtype: None }
    }
}

/// The two functions as tokens (for the `kl!` macro).
pub fn emit_tokens(ir: &Ir, opts: &EmitOptions) -> Result<TokenStream, Diagnostics> {
    let num = Num::new(opts)?;
    let sig = signature::signature(ir)?;
    let unchecked = format_ident!("{}_unchecked", opts.fn_name);
    let rows = rows::rows_kernel(ir, &sig)?;
    let checks = validate::checks(ir, &sig, &num, &unchecked, rows.as_ref())?;
    let mut body = body(ir, &sig, num.clone())?;
    if let Some(k) = &rows {
        // The batched row kernel; its `false` (wrong lengths) leaves them to the loops below.
        let call = k.call(
            &num,
            |n| sig.param(n).map(|p| &p.ident).map(|i| quote!(#i)).unwrap_or_default(),
            {
                let o = &sig.out;
                quote!(#o)
            },
            false,
        );
        body.insert(0, quote!(if #call { return Ok(()); }));
    }
    Ok(items(ir, &sig, &num, opts, checks, body)?)
}

/// The two functions as formatted source (with `prettyplease`), for files and snapshots.
pub fn emit_source(ir: &Ir, opts: &EmitOptions) -> Result<String, Diagnostics> {
    format(emit_tokens(ir, opts)?)
}

/// Generated tokens as formatted source.
fn format(tokens: TokenStream) -> Result<String, Diagnostics> {
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| Diagnostics::from(gen::internal(format!("the generated code does not parse: {e}"))))?;
    Ok(prettyplease::unparse(&file))
}

/// The unchecked body: loops over the output dims writing `out[..] = root[..]`.
fn body(ir: &Ir, sig: &Sig, num: Num) -> Res<Vec<TokenStream>> {
    let root = ir.root.ok_or_else(|| gen::internal("the IR has no root".into()))?;
    let mut g = Gen::new(ir, sig, num);
    let result = g.shape(root)?;
    let out = sig.out.clone();
    let dims = g.dims(&result)?;
    // Output dims are loops (a size-1 dim is the constant 0); unrolling is for summed dims.
    g.each_index(ROOT, result.dims(), 1, "i", &mut |g, idx, scope| {
        let v = g.elem(root, idx)?;
        let at: Vec<Lin> = idx.iter().map(|i| g.ix(*i)).collect();
        let off = offset(&dims, &at).tokens();
        g.push(scope, quote!(#out[#off] = #v;));
        Ok(())
    })?;
    let mut stmts = g.take_root();
    gen::prune(&mut stmts);
    let mut stmts: Vec<TokenStream> = stmts.iter().map(gen::Stmt::tokens).collect();
    // Arguments the computation does not read (a dim only the checks need) are still taken.
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

fn items(
    ir: &Ir,
    sig: &Sig,
    num: &Num,
    opts: &EmitOptions,
    checks: Vec<TokenStream>,
    body: Vec<TokenStream>,
) -> Res<TokenStream> {
    if syn::parse_str::<syn::Ident>(&opts.fn_name).is_err() {
        return Err(Diagnostic::new(
            "emit::fn_name",
            Default::default(),
            format!("`{}` is not a Rust function name", opts.fn_name),
        ));
    }
    let name = Ident::new(&opts.fn_name, Span::call_site());
    let unchecked = format_ident!("{}_unchecked", opts.fn_name);
    let (ty, rt) = (&num.ty, &num.rt);
    let generics = if num.dtype.is_none() { quote!(<T: #rt::Real>) } else { quote!() };
    let (args, call) = sig.args(ty);
    let doc = header(ir, sig, &opts.fn_name);
    let turbofish = if num.dtype.is_none() { quote!(::<T>) } else { quote!() };
    let unchecked_doc = format!(
        " [`{}`] without its checks, for hot loops over inputs known to be valid: slice lengths and \
         values are not validated (wrong lengths panic, invalid values give NaN or infinities). \
         Still returns `Err` when a Cholesky factorization fails.",
        opts.fn_name
    );
    // Style lints only: generated argument lists are long and user parameter names may be
    // upper case (`L`, `C`); index loops mirror the formulas. A parameter the simplified
    // expression no longer reads (`P || P`) is validated by the checked entry and unused by
    // the unchecked one.
    let allow =
        quote!(#[allow(clippy::too_many_arguments, clippy::needless_range_loop, non_snake_case, unused_variables)]);
    let dispatch = dispatch(rt, &generics, &args, &call, &turbofish, &allow);
    Ok(quote! {
        #(#[doc = #doc])*
        #allow
        pub fn #name #generics(#args) -> Result<(), #rt::Error> {
            #(#checks)*
            #unchecked(#call)
        }

        #[doc = #unchecked_doc]
        #allow
        pub fn #unchecked #generics(#args) -> Result<(), #rt::Error> {
            #[inline(always)]
            #allow
            fn run #generics(#args) -> Result<(), #rt::Error> {
                #(#body)*
                Ok(())
            }
            #dispatch
            run #turbofish(#call)
        }
    })
}

/// Runtime CPU-feature dispatch: on x86-64 with AVX2 and FMA, the same body compiled for them
/// (the runtime's kernels are `#[inline]`, so they are compiled into it too). The body is
/// branch-free arithmetic over fixed-size rows, which LLVM vectorizes 8 `f32` (4 `f64`) lanes
/// wide there instead of the baseline's 4 (2). No instruction is contracted into an FMA (Rust
/// never does that implicitly), so both versions give the same bits.
fn dispatch(
    rt: &TokenStream,
    generics: &TokenStream,
    args: &TokenStream,
    call: &TokenStream,
    turbofish: &TokenStream,
    allow: &TokenStream,
) -> TokenStream {
    quote! {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2,fma")]
            #allow
            unsafe fn run_avx2 #generics(#args) -> Result<(), #rt::Error> {
                run #turbofish(#call)
            }
            if ::std::is_x86_feature_detected!("avx2") && ::std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has the features `run_avx2` is compiled for.
                return unsafe { run_avx2 #turbofish(#call) };
            }
        }
    }
}

/// The doc header: what is computed, the argument shapes and the result shape.
fn header(ir: &Ir, sig: &Sig, name: &str) -> Vec<String> {
    let what = if sig.grad.is_some() {
        "the value and the vector–Jacobian product (reverse-mode gradient), generated by kl from the \
         simplified expression"
    } else {
        "generated by kl from the simplified expression"
    };
    let mut lines = vec![format!(" `{name}`: {what}"), String::new()];
    if let Some(root) = ir.root {
        lines.push(format!(" ```text\n {}\n ```", describe(ir, root)));
    }
    lines.push(String::new());
    lines.push(" Arguments:".into());
    for p in &sig.params {
        lines.push(format!(" * `{}`: shape `{}`, row-major", p.ident, p.shape));
    }
    for (sym, id) in &sig.dims {
        lines.push(format!(" * `{id}`: the size of `{sym}`"));
    }
    if let Some(g) = &sig.grad {
        lines.push(format!(
            " * `{}`: the upstream gradient, shape `{}` (all ones for the gradient of the sum)",
            g.upstream, sig.result
        ));
    }
    lines.push(format!(" * `{}`: the result, shape `{}`", sig.out, sig.result));
    if let Some(g) = &sig.grad {
        for (p, gi) in sig.params.iter().zip(&g.params) {
            lines.push(format!(
                " * `{gi}`: overwritten with `Σ {} · ∂{}/∂{}`, shape `{}`",
                g.upstream, sig.out, p.ident, p.shape
            ));
        }
    }
    lines.push(String::new());
    lines.push(if sig.grad.is_some() {
        " Checks every slice length and every parameter value as the interpreter does (the first \
         error in the interpreter's order), then computes the value and every gradient in one fused \
         pass from closed-form partial derivatives. A parameter the simplified expression does not \
         read (`P || P`) gets gradient 0; a literal is not a parameter."
            .into()
    } else {
        " Checks every slice length (`Rule::LengthMismatch`) and every parameter value as the \
         interpreter does (the first error in the interpreter's order), then runs the fused \
         computation. Large batches are validated and computed chunk by chunk, so after an \
         error `out` may hold the results of the rows before the failing chunk."
            .into()
    });
    lines
}

/// The simplified IR as one nested expression, e.g. `sum_last[1](normal_kl(m1, s1, m2, s2))`.
pub fn describe(ir: &Ir, id: NodeId) -> String {
    let args: Vec<String> = ir.operands(id).into_iter().map(|o| describe(ir, o)).collect();
    match ir.op(id) {
        Op::Param(n) => n.clone(),
        Op::Literal(v) => fmt_f64(*v),
        Op::SumLast { k, .. } => format!("sum_last[{k}]({})", args.join(", ")),
        Op::BroadcastTo(s) => format!("broadcast_to({}, {s})", args.join(", ")),
        op if args.is_empty() => op.name(),
        op => format!("{}({})", op.name(), args.join(", ")),
    }
}
