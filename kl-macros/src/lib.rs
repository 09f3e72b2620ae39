//! The `kl!` and `kl_fn!` macros: a thin doorway. Tokens go to `kl-codegen`, which parses, checks,
//! simplifies and emits; errors come back as `compile_error!`s under the offending tokens.
//! Use them through the `kl` crate (`use kl::kl;`), which the expansions refer to.

use proc_macro::TokenStream;

/// Evaluate a distribution expression: `kl!(Normal(mu1,s1).to_event(1) || Normal(mu2,s2).to_event(1))`.
/// See the `kl` crate for the language and the result type.
#[proc_macro]
pub fn kl(input: TokenStream) -> TokenStream {
    kl_codegen::expand::kl(input.into()).into()
}

/// Define named functions for one expression with declared shapes:
/// `kl_fn! { pub fn diag_kl(m1: [B, 8], s1: [B, 8], m2: [B, 8], s2: [B, 8]) -> f32 { .. } }`.
#[proc_macro]
pub fn kl_fn(input: TokenStream) -> TokenStream {
    kl_codegen::expand::kl_fn(input.into()).into()
}
