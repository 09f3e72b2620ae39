//! What both expansion paths share: the element type and the parameters as the user wrote them.

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// The element type of a generated function: generic, or fixed by `kl_fn!`'s `-> f32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Elem {
    Generic,
    F32,
    F64,
}

/// A parameter as the user wrote it: name and the span of its first use.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub name: String,
    pub span: Span,
}

pub(crate) fn elem_type(elem: Elem, no_params: bool) -> TokenStream {
    match elem {
        Elem::F32 => quote!(f32),
        Elem::F64 => quote!(f64),
        // Nothing to infer the type from: literals only.
        Elem::Generic if no_params => quote!(f64),
        Elem::Generic => quote!(__T),
    }
}
