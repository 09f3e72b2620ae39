//! The block a `kl!` call expands to: a generic function over the parameters' Rust types,
//! with the compile-time shape checks in an inline `const` block, then either the emitted
//! specialized code (declared shapes) or the interpreter (shapes from types).

use super::declared::emitted_body;
use super::errors;
use super::param::{elem_type, Elem, Param};
use super::tokens::SpanMap;
use kl_compiler::ast::Program;
use kl_compiler::ir::{Ir, Op};
use kl_compiler::shape::{Dim, Shape};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::collections::BTreeMap;

/// Everything the run function needs, from either path.
pub(crate) struct Plan {
    pub params: Vec<Param>,
    /// The const-evaluated shape checks.
    pub checks: TokenStream,
    /// The statements computing the `Result<Tensor<__T>, Error>`.
    pub body: TokenStream,
}

/// `kl!(..)`: parse, choose the path, build the run function and call it.
pub(crate) fn expression(src: &str, map: &SpanMap, elem: Option<Elem>) -> Result<TokenStream, syn::Error> {
    let plan = plan(src, map, elem.unwrap_or(Elem::Generic), None, None)?;
    let params: Vec<TokenStream> = plan
        .params
        .iter()
        .map(|p| {
            let user = syn::Ident::new(&p.name, p.span);
            quote_spanned!(p.span=> &#user)
        })
        .collect();
    let run = run_fn(&plan, &format_ident!("__kl_run"), elem.unwrap_or(Elem::Generic), &quote!());
    Ok(quote! {{
        #run
        __kl_run(#(#params),*)
    }})
}

/// Parse and compile; errors come back under the user's tokens.
/// `callee`: call this already emitted function (the `kl_fn!` item form) instead of nesting
/// a fresh copy of the emitted code in the body.
/// `signature`: the run function's parameters in this order (a `kl_fn!` signature) instead of
/// the order of first use; each must be used and every used name must be in it.
pub(crate) fn plan(
    src: &str,
    map: &SpanMap,
    elem: Elem,
    callee: Option<&syn::Ident>,
    signature: Option<Vec<Param>>,
) -> Result<Plan, syn::Error> {
    let program = kl_compiler::parse::parse(src).map_err(|d| errors(&d.into(), src, map))?;
    let used = used_params(&program, map);
    let params = match signature {
        None => used,
        Some(declared) => {
            if let Some(p) = used.iter().find(|p| !declared.iter().any(|d| d.name == p.name)) {
                return Err(syn::Error::new(p.span, format!("`{}` is not a parameter of this function", p.name)));
            }
            if let Some(d) = declared.iter().find(|d| !used.iter().any(|p| p.name == d.name)) {
                return Err(syn::Error::new(
                    d.span,
                    format!("`{}` is declared but the expression does not use it", d.name),
                ));
            }
            // Everything below (checks, body) indexes the arguments `__a{i}` in this order.
            declared
        }
    };
    let declared: BTreeMap<String, Shape> = program
        .decls
        .iter()
        .flat_map(|d| {
            let shape = d.shape.to_shape();
            d.names.iter().map(move |n| (n.name.clone(), shape.clone()))
        })
        .collect();
    let all_declared = params.iter().all(|p| declared.contains_key(&p.name));
    if all_declared {
        let compiled = kl_compiler::compile_program(program, &Default::default()).map_err(|d| errors(&d, src, map))?;
        let checks = declared_checks(&params, &declared);
        let body = emitted_body(&compiled, &params, &declared, elem, src, map, callee)?;
        Ok(Plan { params, checks, body })
    } else {
        // Structure only: names and parameterizations; shapes come from the types.
        let env = params
            .iter()
            .filter(|p| !declared.contains_key(&p.name))
            .map(|p| (p.name.clone(), Shape::scalar()))
            .collect();
        let lowered = kl_compiler::lower::lower(&program, &env).map_err(|d| errors(&d, src, map))?;
        // Closed forms depend on the families only: an infinite or unsupported pair is a
        // compile error here too.
        kl_compiler::simplify::check_closed_forms(&lowered).map_err(|d| errors(&d, src, map))?;
        let checks = typed_checks(&lowered, &params, &declared, src, map);
        let inputs = inputs_list(&params);
        let body = quote! {
            static __KL_CACHE: ::kl::__private::Cache = ::kl::__private::Cache::new();
            ::kl::__private::eval(#src, &__KL_CACHE, &[#inputs])
        };
        Ok(Plan { params, checks, body })
    }
}

/// `("name", dims, flat values)` for each parameter, as the interpreter takes them.
fn inputs_list(params: &[Param]) -> TokenStream {
    let items = params.iter().enumerate().map(|(i, p)| {
        let name = &p.name;
        let arg = format_ident!("__a{}", i);
        quote! { (#name, ::kl::runtime::dims_of(#arg), ::kl::__private::Param::values(#arg)) }
    });
    quote! { #(#items),* }
}

/// The generic run function: `fn NAME<__T, __P0, ..>(__a0: &__P0, ..) -> Result<Tensor<__T>, Error>`.
pub(crate) fn run_fn(plan: &Plan, name: &syn::Ident, elem: Elem, vis: &TokenStream) -> TokenStream {
    let t = elem_type(elem, plan.params.is_empty());
    let generics: Vec<TokenStream> = plan
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let ty = format_ident!("__P{}", i);
            quote_spanned!(p.span=> #ty: ::kl::runtime::Input + ::kl::__private::Param<#t> + ?::core::marker::Sized)
        })
        .collect();
    let t_param = (elem == Elem::Generic && !plan.params.is_empty()).then(|| quote!(__T: ::kl::runtime::Real,));
    let args = plan.params.iter().enumerate().map(|(i, _)| {
        let a = format_ident!("__a{}", i);
        let ty = format_ident!("__P{}", i);
        quote!(#a: &#ty)
    });
    let (checks, body) = (&plan.checks, &plan.body);
    quote! {
        #[allow(non_snake_case, unused_variables, clippy::all)]
        #vis fn #name<#t_param #(#generics),*>(#(#args),*) -> ::core::result::Result<::kl::Tensor<#t>, ::kl::Error> {
            const { #checks }
            #body
        }
    }
}

/// Parameters in order of first use, each with the span of that use.
fn used_params(program: &Program, map: &SpanMap) -> Vec<Param> {
    program.params().into_iter().map(|i| Param { name: i.name.clone(), span: map.span(i.span) }).collect()
}

/// `CShape::new(&[..])` for a declared shape, symbols as DYN.
fn cshape_lit(shape: &Shape) -> TokenStream {
    let dims = shape.dims().iter().map(|d| match d {
        Dim::Static(n) => quote!(#n),
        Dim::Symbol(_) => quote!(::kl::runtime::DYN),
    });
    quote!(::kl::runtime::cshape::CShape::new(&[#(#dims),*]))
}

/// The shape a parameter has in the const checks: its declared shape when it has one
/// (checked against its type), else its type's.
fn param_shape(i: usize, p: &Param, declared: &BTreeMap<String, Shape>) -> TokenStream {
    let ty = format_ident!("__P{}", i);
    let actual = quote!(::kl::runtime::cshape::CShape::of::<#ty>());
    match declared.get(&p.name) {
        Some(shape) => {
            let lit = cshape_lit(shape);
            quote!(::kl::__private::declared_or_actual(#lit, #actual))
        }
        None => actual,
    }
}

/// Declared shape against the Rust type, for every declared parameter.
fn declared_checks(params: &[Param], declared: &BTreeMap<String, Shape>) -> TokenStream {
    let checks = params.iter().enumerate().filter_map(|(i, p)| {
        let shape = declared.get(&p.name)?;
        let (name, text, lit) = (&p.name, shape.to_string(), cshape_lit(shape));
        let ty = format_ident!("__P{}", i);
        // Under the parameter's use, so the const-eval error points there.
        let call = quote!(::kl::runtime::cshape::check_declared(#name, #lit, #text, ::kl::runtime::cshape::CShape::of::<#ty>()));
        let call = respan(call, p.span, p.span);
        Some(quote! { #call; })
    });
    quote!(#(#checks)*)
}

/// The shape rules over the types' static dims, in the structure of the lowered IR.
fn typed_checks(
    ir: &Ir,
    params: &[Param],
    declared: &BTreeMap<String, Shape>,
    src: &str,
    map: &SpanMap,
) -> TokenStream {
    let mut stmts = vec![declared_checks(params, declared)];
    let order = ir.topo_order();
    let var = |id: kl_compiler::ir::NodeId| format_ident!("__n{}", order.iter().position(|x| *x == id).unwrap_or(0));
    let cs = quote!(::kl::runtime::cshape);
    for &id in &order {
        let node = ir.node(id);
        // A KL node's span is its `||`; the message should quote the whole expression.
        let span = ir.extent(id);
        let text = span.text(src).to_string();
        let ops: Vec<syn::Ident> = ir.operands(id).into_iter().map(var).collect();
        let v = var(id);
        let expr = match &node.op {
            Op::Param(name) => {
                let i = params.iter().position(|p| &p.name == name).unwrap_or(0);
                param_shape(i, &params[i], declared)
            }
            Op::Literal(_) => quote!(#cs::literal()),
            Op::Diag => quote!(#cs::diag(#(#ops),*, #text)),
            // The family's const-fn shape rule, named by its descriptor.
            Op::Dist(d) => {
                let f = format_ident!("{}", d.family.cshape);
                let kw = d.cshape_keywords();
                quote!(#cs::#f(#(#ops),*, #(#kw,)* #text))
            }
            Op::Independent(n) => quote!(#cs::independent(#(#ops),*, #n, #text)),
            Op::Expand(shape) => {
                let lit = cshape_lit(shape);
                quote!(#cs::expand(#(#ops),*, #lit, #text))
            }
            Op::Kl => quote!(#cs::kl(#(#ops),*, #text)),
            Op::LogProb => quote!(#cs::log_prob(#(#ops),*, #text)),
            Op::Entropy => quote!(#cs::entropy(#(#ops),*)),
            // Lowering produces only the ops above.
            _ => continue,
        };
        // The call spans the sub-expression (first token .. last token), so rustc's
        // `evaluation panicked` caret sits under it rather than under the whole macro call.
        let (start, end) = map.locate(span);
        let expr = respan(expr, start, end);
        stmts.push(quote!(let #v = #expr;));
    }
    let all: Vec<syn::Ident> = order.iter().map(|id| var(*id)).collect();
    stmts.push(quote!(let _ = (#(#all),*);));
    quote!(#(#stmts)*)
}

/// `t` with every token at `start`, except a trailing group (a call's argument list) at `end`:
/// rustc then spans the call from `start` to `end`.
fn respan(t: TokenStream, start: Span, end: Span) -> TokenStream {
    fn all(t: TokenStream, sp: Span) -> TokenStream {
        t.into_iter()
            .map(|tt| match tt {
                proc_macro2::TokenTree::Group(g) => {
                    let mut n = proc_macro2::Group::new(g.delimiter(), all(g.stream(), sp));
                    n.set_span(sp);
                    proc_macro2::TokenTree::Group(n)
                }
                mut other => {
                    other.set_span(sp);
                    other
                }
            })
            .collect()
    }
    let mut tokens: Vec<proc_macro2::TokenTree> = all(t, start).into_iter().collect();
    if let Some(proc_macro2::TokenTree::Group(g)) = tokens.last_mut() {
        g.set_span(end);
    }
    tokens.into_iter().collect()
}
