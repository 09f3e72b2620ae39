//! What the `kl!` and `kl_fn!` macros expand to. The proc-macro crate only hands tokens in and
//! takes tokens out; everything here is plain library code that unit tests can call.
//!
//! Two paths:
//! - **declared shapes** (every parameter appears in a `where` clause, or the `kl_fn!` item
//!   form): the expression is compiled at expansion time; every shape rule is a compile error
//!   under the offending tokens; the emitted specialized function does the work.
//! - **shapes from Rust types** (some parameter undeclared): structural rules (names,
//!   parameterizations) are checked at expansion; the shape rules run as `const fn`s over the
//!   types' static dims inside an inline `const` block, so a violation is still a compile error
//!   naming both shapes; the value is computed by the interpreter with the run-time shapes.

mod declared;
mod frame;
mod item;
mod param;
pub mod tokens;

use kl_compiler::diag::Diagnostics;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use tokens::{to_source, to_syn_error, SpanMap};

pub use item::kl_fn;

/// Expansion of `kl!(..)`.
pub fn kl(input: TokenStream) -> TokenStream {
    if input.is_empty() {
        let err = syn::Error::new(
            Span::call_site(),
            "`kl!` needs an expression, e.g. `kl!(Normal(mu1, s1).to_event(1) || Normal(mu2, s2).to_event(1))`",
        );
        return fallback(err);
    }
    let (src, map) = to_source(input);
    match frame::expression(&src, &map, None) {
        Ok(tokens) => tokens,
        Err(err) => fallback(err),
    }
}

/// Every diagnostic as one combined `syn::Error` under the user's tokens.
pub(crate) fn errors(d: &Diagnostics, src: &str, map: &SpanMap) -> syn::Error {
    let mut iter = d.iter().map(|d| to_syn_error(d, src, map));
    let mut first = iter.next().unwrap_or_else(|| syn::Error::new(Span::call_site(), "kl: unknown error"));
    for e in iter {
        first.combine(e);
    }
    first
}

/// The errors, plus a value of type `!` so that rustc does not pile secondary errors on ours.
fn fallback(err: syn::Error) -> TokenStream {
    let err = err.into_compile_error();
    quote! {{ #err; ::core::unreachable!() }}
}
