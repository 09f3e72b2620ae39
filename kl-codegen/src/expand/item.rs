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
    let vjp = vjp_items(&compiled, &plan, &src, &name, &module, elem, &vis.to_token_stream());
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
        #vjp
    })
}

/// The gradient items of a `kl_fn!` named `name`, when the emitter covers the expression's
/// vector–Jacobian product (nothing otherwise):
/// * `name_vjp_into(params.., dims.., grad_out, out, grads..)` and its `_unchecked` twin, the
///   emitted VJP, which writes the value and `Σ grad_out · ∂out/∂param` for every parameter;
/// * `name_vjp(params.., grad_out)` and `name_value_and_grad(params..)` (the gradient of the
///   sum), which return the value and a `NameGrad` struct with one field per parameter.
fn vjp_items(
    compiled: &kl_compiler::Compiled,
    plan: &frame::Plan,
    src: &str,
    name: &syn::Ident,
    module: &syn::Ident,
    elem: Elem,
    vis: &TokenStream,
) -> TokenStream {
    let (ir, declared, checks) = (&compiled.simplified, &plan.params[..], &plan.checks);
    let into = format_ident!("{}_vjp_into", name);
    let module_vjp = format_ident!("{}_vjp", module);
    let opts = crate::emit::EmitOptions {
        fn_name: into.to_string(),
        runtime_path: "::kl::runtime".into(),
        dtype: Some(if elem == Elem::F32 { crate::emit::Dtype::F32 } else { crate::emit::Dtype::F64 }),
    };
    let Ok(emitted) = crate::emit::emit_vjp_tokens(ir, &opts) else { return quote!() };
    let unchecked = format_ident!("{}_unchecked", into);
    let b = super::declared::binding(ir, declared, &ir.shapes);
    let t = if elem == Elem::F32 { quote!(f32) } else { quote!(f64) };
    let grad_ty = format_ident!("{}Grad", camel_case(&name.to_string()));
    let fields: Vec<syn::Ident> = declared.iter().map(|p| syn::Ident::new(&p.name, p.span)).collect();
    let bufs: Vec<syn::Ident> = (0..declared.len()).map(|i| format_ident!("__g{}", i)).collect();
    // The emitted VJP takes its gradients in its own parameter order.
    let live = crate::emit::arguments(ir).0;
    let call_grads: Vec<TokenStream> = live
        .iter()
        .map(|n| {
            let i = declared.iter().position(|p| &p.name == n).unwrap_or(0);
            let g = &bufs[i];
            quote!(&mut #g)
        })
        .collect();
    let field_docs: Vec<String> =
        declared.iter().map(|p| format!(" `Σ grad_out · ∂out/∂{}`, in the shape of `{}`.", p.name, p.name)).collect();
    let (prelude, call_params, call_dims, out_dims, param_dims) =
        (&b.prelude, &b.params, &b.dims, &b.out_dims, &b.param_dims);
    let grad_shapes = param_dims.iter().map(|d| quote!(::std::vec![#(#d),*]));
    let generics: Vec<TokenStream> = (0..declared.len())
        .map(|i| {
            let ty = format_ident!("__P{}", i);
            quote!(#ty: ::kl::runtime::Input + ::kl::__private::Param<#t> + ?::core::marker::Sized)
        })
        .collect();
    let args: Vec<TokenStream> = (0..declared.len())
        .map(|i| {
            let (a, ty) = (format_ident!("__a{}", i), format_ident!("__P{}", i));
            quote!(#a: &#ty)
        })
        .collect();
    let arg_names: Vec<syn::Ident> = (0..declared.len()).map(|i| format_ident!("__a{}", i)).collect();
    let flats: Vec<syn::Ident> = (0..declared.len()).map(|i| format_ident!("__f{}", i)).collect();
    let (vjp, value_and_grad) = (format_ident!("{}_vjp", name), format_ident!("{}_value_and_grad", name));
    let struct_doc =
        format!(" The gradients of [`{vjp}`] and [`{value_and_grad}`], one field per parameter of `{name}`.");
    let vjp_doc = format!(
        " The value of [`{name}`] and its vector–Jacobian product for the upstream gradient `grad_out` (the \
         result's shape, row-major), in one fused pass from closed-form derivatives. Validates like \
         [`{name}`]; see also `{into}`, which writes into your buffers."
    );
    let vg_doc = format!(
        " The value of [`{name}`] and the gradient of the sum of its elements with respect to every parameter."
    );
    let kl_doc = format!(" kl: `{}`", src.replace('`', "'"));
    quote! {
        #[doc = #struct_doc]
        #[derive(Clone, Debug, PartialEq)]
        #[allow(non_snake_case)]
        #vis struct #grad_ty {
            #(#[doc = #field_docs] pub #fields: ::kl::Tensor<#t>,)*
        }

        #[doc = #vjp_doc]
        #[doc = ""]
        #[doc = #kl_doc]
        #[allow(non_snake_case, unused_variables, clippy::all)]
        #vis fn #vjp<#(#generics),*>(#(#args,)* grad_out: &[#t]) -> ::core::result::Result<(::kl::Tensor<#t>, #grad_ty), ::kl::Error> {
            const { #checks }
            #prelude
            let __shape: ::std::vec::Vec<usize> = ::std::vec![#(#out_dims),*];
            let mut __out = ::std::vec![<#t as ::kl::runtime::Real>::ZERO; __shape.iter().product::<usize>()];
            #(let mut #bufs = ::std::vec![<#t as ::kl::runtime::Real>::ZERO; #flats.len()];)*
            #into(#(#call_params,)* #(#call_dims,)* grad_out, &mut __out #(, #call_grads)*)?;
            ::core::result::Result::Ok((
                ::kl::Tensor { shape: __shape, data: __out },
                #grad_ty { #(#fields: ::kl::Tensor { shape: #grad_shapes, data: #bufs },)* },
            ))
        }

        #[doc = #vg_doc]
        #[allow(non_snake_case, unused_variables, clippy::all)]
        #vis fn #value_and_grad<#(#generics),*>(#(#args),*) -> ::core::result::Result<(::kl::Tensor<#t>, #grad_ty), ::kl::Error> {
            let __dims: ::std::vec::Vec<usize> = {
                #prelude
                ::std::vec![#(#out_dims),*]
            };
            let __ones = ::std::vec![<#t as ::kl::runtime::Real>::ONE; __dims.iter().product::<usize>()];
            #vjp(#(#arg_names,)* &__ones)
        }

        #[doc(hidden)]
        #[allow(non_snake_case)]
        mod #module_vjp {
            #[allow(unused_imports)]
            use super::*;
            #emitted
        }
        #[allow(unused_imports)]
        #vis use #module_vjp::{#into, #unchecked};
    }
}

/// `diag_kl` -> `DiagKl`.
fn camel_case(s: &str) -> String {
    s.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}
