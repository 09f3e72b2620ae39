//! The declared-shapes path (`kl!` with a `where` clause for every parameter, and `kl_fn!`):
//! the body that binds symbolic dims from the inputs, runs the emitted function and wraps its
//! output.

use super::param::{elem_type, Elem, Param};
use super::tokens::SpanMap;
use kl_compiler::shape::{Dim, Shape};
use kl_compiler::Compiled;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::BTreeMap;

/// The statements that bind symbolic dims from the inputs, run the emitted function and wrap
/// its output: the body of the run function on the declared path.
pub(crate) fn emitted_body(
    c: &Compiled,
    params: &[Param],
    declared: &BTreeMap<String, Shape>,
    elem: Elem,
    src: &str,
    map: &SpanMap,
    callee: Option<&syn::Ident>,
) -> Result<TokenStream, syn::Error> {
    let ir = &c.simplified;
    let opts = crate::emit::EmitOptions {
        fn_name: "__kl_expr".into(),
        runtime_path: "::kl::runtime".into(),
        dtype: match elem {
            Elem::F32 => Some(crate::emit::Dtype::F32),
            Elem::F64 => Some(crate::emit::Dtype::F64),
            Elem::Generic if params.is_empty() => Some(crate::emit::Dtype::F64),
            Elem::Generic => None,
        },
    };
    let (emitted, callee) = match callee {
        Some(f) => (quote!(), quote!(#f)),
        None => (crate::emit::emit_tokens(ir, &opts).map_err(|d| super::errors(&d, src, map))?, quote!(__kl_expr)),
    };
    let Binding { prelude, params: call_params, dims: call_dims, out_dims, .. } = binding(ir, params, declared);
    let t = elem_type(elem, params.is_empty());
    Ok(quote! {
        #emitted
        #prelude
        let __shape: ::std::vec::Vec<usize> = ::std::vec![#(#out_dims),*];
        let mut __out = ::std::vec![<#t as ::kl::runtime::Real>::ZERO; __shape.iter().product::<usize>()];
        #callee(#(#call_params,)* #(#call_dims,)* &mut __out)?;
        ::core::result::Result::Ok(::kl::Tensor { shape: __shape, data: __out })
    })
}

/// How a declared-path body calls an emitted function.
pub(crate) struct Binding {
    /// Binds `__dims` (the shape symbols' sizes, from the inputs) and `__f{i}` (each input's
    /// values, flat).
    pub prelude: TokenStream,
    /// The emitted function's parameter arguments, in its order.
    pub params: Vec<TokenStream>,
    /// Its shape-symbol arguments, in its order.
    pub dims: Vec<TokenStream>,
    /// The result's dims, as `usize` expressions.
    pub out_dims: Vec<TokenStream>,
    /// Each parameter's declared dims (symbols bound), in `params`' (the run function's) order.
    pub param_dims: Vec<Vec<TokenStream>>,
}

pub(crate) fn binding(ir: &kl_compiler::Ir, params: &[Param], declared: &BTreeMap<String, Shape>) -> Binding {
    let symbols = crate::emit::arguments(ir).1;
    let mut all_symbols: Vec<String> = symbols.clone();
    for shape in declared.values() {
        for d in shape.dims() {
            if let Dim::Symbol(s) = d {
                if !all_symbols.contains(s) {
                    all_symbols.push(s.clone());
                }
            }
        }
    }
    let sym_index = |s: &str| all_symbols.iter().position(|x| x == s).unwrap_or(0);
    let decls = params.iter().enumerate().map(|(i, p)| {
        let name = &p.name;
        let arg = format_ident!("__a{}", i);
        let dims = declared[&p.name].dims().iter().map(|d| match d {
            Dim::Static(n) => quote!(::kl::__private::D::S(#n)),
            Dim::Symbol(s) => {
                let k = sym_index(s);
                quote!(::kl::__private::D::Sym(#k))
            }
        });
        quote!((#name, &[#(#dims),*][..], ::kl::runtime::dims_of(#arg)))
    });
    let names = &all_symbols;
    let flats = params.iter().enumerate().map(|(i, _)| {
        let (arg, f) = (format_ident!("__a{}", i), format_ident!("__f{}", i));
        quote!(let #f = ::kl::__private::Param::values(#arg);)
    });
    let prelude = quote! {
        let __dims: ::std::vec::Vec<usize> = ::kl::__private::bind(&[#(#decls),*], &[#(#names),*])?;
        #(#flats)*
    };
    // Arguments of the emitted function: parameters, then symbols, in `emit::arguments` order.
    let live: Vec<String> = crate::emit::arguments(ir).0;
    let call_params = live
        .iter()
        .map(|name| {
            let i = params.iter().position(|p| &p.name == name).unwrap_or(0);
            let f = format_ident!("__f{}", i);
            quote!(&#f)
        })
        .collect();
    let call_dims = symbols
        .iter()
        .map(|s| {
            let k = sym_index(s);
            quote!(__dims[#k])
        })
        .collect();
    let dims_of = |shape: &Shape| -> Vec<TokenStream> {
        shape
            .dims()
            .iter()
            .map(|d| match d {
                Dim::Static(n) => quote!(#n),
                Dim::Symbol(s) => {
                    let k = sym_index(s);
                    quote!(__dims[#k])
                }
            })
            .collect()
    };
    let out_dims = dims_of(&ir.result_shape().cloned().unwrap_or_default());
    let param_dims = params.iter().map(|p| dims_of(&declared[&p.name])).collect();
    Binding { prelude, params: call_params, dims: call_dims, out_dims, param_dims }
}
