//! The item form `kl_fn!`, which defines named functions with typed signatures for hot loops.

use super::frame;
use super::param::{Elem, Param};
use super::tokens::{extend_source, spanned_error, to_source};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, bracketed, parenthesized, Token};

/// `kl_fn! { #[attrs] pub fn name(mu: [B, 8], s: [B, 8]) -> f32 { Normal(mu, s) || .. } }`
struct ItemFn {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    name: syn::Ident,
    params: Punctuated<ParamDecl, Token![,]>,
    elem: syn::Ident,
    body: TokenStream,
}

struct ParamDecl {
    name: syn::Ident,
    shape: TokenStream,
}

impl Parse for ParamDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = input.parse()?;
        input.parse::<Token![:]>()?;
        let content;
        let bracket = bracketed!(content in input);
        let inner: TokenStream = content.parse()?;
        let mut shape = TokenStream::new();
        proc_macro2::Group::new(proc_macro2::Delimiter::Bracket, inner).to_tokens(&mut shape);
        let _ = bracket;
        Ok(ParamDecl { name, shape })
    }
}

impl Parse for ItemFn {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let vis = input.parse()?;
        input.parse::<Token![fn]>()?;
        let name = input.parse()?;
        let content;
        parenthesized!(content in input);
        let params = content.parse_terminated(ParamDecl::parse, Token![,])?;
        input.parse::<Token![->]>()?;
        let elem: syn::Ident = input.parse()?;
        if elem != "f32" && elem != "f64" {
            return Err(syn::Error::new(elem.span(), "the result type of a `kl_fn!` is `f32` or `f64`"));
        }
        let body;
        braced!(body in input);
        Ok(ItemFn { attrs, vis, name, params, elem, body: body.parse()? })
    }
}

/// Expansion of `kl_fn! { .. }`.
pub fn kl_fn(input: TokenStream) -> TokenStream {
    match expand_item(input) {
        Ok(t) => t,
        Err(e) => e.into_compile_error(),
    }
}

fn expand_item(input: TokenStream) -> syn::Result<TokenStream> {
    let item: ItemFn = syn::parse2(input)?;
    if item.body.is_empty() {
        return Err(syn::Error::new(item.name.span(), "the body of a `kl_fn!` is a kl expression"));
    }
    let (mut src, mut map) = to_source(item.body.clone());
    if src.contains(" where ") || src.starts_with("where ") {
        let (start, end) = map.locate(kl_compiler::Span::new(0, src.len()));
        return Err(spanned_error(
            start,
            end,
            "declare shapes in the parameter list of a `kl_fn!`, not in a `where` clause",
        ));
    }
    // The signature becomes the `where` clause, with the parameters' own spans.
    let mut decl = TokenStream::new();
    quote!(where).to_tokens(&mut decl);
    for (i, p) in item.params.iter().enumerate() {
        if i > 0 {
            quote!(,).to_tokens(&mut decl);
        }
        p.name.to_tokens(&mut decl);
        quote!(:).to_tokens(&mut decl);
        decl.extend(p.shape.clone());
    }
    if !item.params.is_empty() {
        extend_source(&mut src, &mut map, decl);
    }
    let elem = if item.elem == "f32" { Elem::F32 } else { Elem::F64 };
    let into = format_ident!("{}_into", item.name);
    // The function's parameters are the declared ones, in declaration order.
    let declared: Vec<Param> =
        item.params.iter().map(|p| Param { name: p.name.to_string(), span: p.name.span() }).collect();
    let plan = frame::plan(&src, &map, elem, Some(&into), Some(declared))?;
    // The flat-slice functions for hot loops: emitted once, at item level.
    let compiled = kl_compiler::compile(&src, &Default::default()).map_err(|d| super::errors(&d, &src, &map))?;
    let opts = crate::emit::EmitOptions {
        fn_name: into.to_string(),
        runtime_path: "::kl::runtime".into(),
        dtype: Some(if elem == Elem::F32 { crate::emit::Dtype::F32 } else { crate::emit::Dtype::F64 }),
    };
    let emitted = crate::emit::emit_tokens(&compiled.simplified, &opts).map_err(|d| super::errors(&d, &src, &map))?;
    let unchecked = format_ident!("{}_unchecked", into);
    let module = format_ident!("__kl_fn_{}", item.name);
    let ItemFn { attrs, vis, name, .. } = item;
    let doc = format!(" kl: `{}`", src.replace('`', "'"));
    let run = frame::run_fn(&plan, &name, elem, &vis.to_token_stream());
    Ok(quote! {
        #(#attrs)*
        #[doc = ""]
        #[doc = #doc]
        #[doc = ""]
        #[doc = " Returns the batch-shaped values; see also the `_into` form, which writes into a caller's buffer."]
        #run
        #[doc(hidden)]
        #[allow(non_snake_case)]
        mod #module {
            #[allow(unused_imports)]
            use super::*;
            #emitted
        }
        #[allow(unused_imports)]
        #vis use #module::{#into, #unchecked};
    })
}
