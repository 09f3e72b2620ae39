//! The generated function's signature: argument names, the numeric type, fresh local names.
//!
//! Arguments: one `&[T]` per parameter in the user's order ([`Ir::order`]: `where` declaration
//! order, then first appearance), one `usize` per shape symbol in order of first appearance in
//! those parameters' shapes (snake case: `B` -> `b`), then `out: &mut [T]`. Names that are not
//! Rust identifiers (keywords) become raw identifiers or get a `_` suffix; a dim or `out` that
//! would collide with a parameter gets a `_` suffix too. Callers pass arguments by position, so
//! these renames never change how the function is called.

use super::{Dtype, EmitOptions};
use kl_compiler::diag::Diagnostic;
use kl_compiler::ir::{Ir, Op};
use kl_compiler::shape::{Dim, Shape};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::HashSet;

/// A parameter argument.
pub(crate) struct ParamArg {
    pub name: String,
    pub ident: Ident,
    pub shape: Shape,
}

/// The arguments of both generated functions.
pub(crate) struct Sig {
    pub params: Vec<ParamArg>,
    /// (symbol, argument)
    pub dims: Vec<(String, Ident)>,
    pub out: Ident,
    pub result: Shape,
    /// The gradient arguments of a VJP ([`Sig::with_grads`]).
    pub grad: Option<GradArgs>,
}

/// The arguments a VJP adds: the upstream gradient (the result's shape) after the shape
/// symbols, and one gradient buffer per parameter (its shape) after `out`.
pub(crate) struct GradArgs {
    pub upstream: Ident,
    /// Parallel to [`Sig::params`].
    pub params: Vec<Ident>,
}

impl Sig {
    pub fn param(&self, name: &str) -> Option<&ParamArg> {
        self.params.iter().find(|p| p.name == name)
    }

    pub fn dim(&self, symbol: &str) -> Option<&Ident> {
        self.dims.iter().find(|(s, _)| s == symbol).map(|(_, i)| i)
    }

    /// Every argument name, for keeping generated locals apart from them.
    pub fn taken(&self) -> HashSet<String> {
        let mut t: HashSet<String> = self.params.iter().map(|p| p.ident.to_string()).collect();
        t.extend(self.dims.iter().map(|(_, i)| i.to_string()));
        t.insert(self.out.to_string());
        if let Some(g) = &self.grad {
            t.insert(g.upstream.to_string());
            t.extend(g.params.iter().map(Ident::to_string));
        }
        t
    }

    /// The same arguments plus a VJP's: `grad_out` and `grad_{param}` for every parameter
    /// (with a `_` suffix where that collides with another argument).
    pub fn with_grads(mut self) -> Sig {
        let mut taken = self.taken();
        let mut unique = |base: String| {
            let mut s = base;
            while taken.contains(&s) {
                s.push('_');
            }
            taken.insert(s.clone());
            rust_ident(&s)
        };
        let upstream = unique("grad_out".into());
        let params = self
            .params
            .iter()
            .map(|p| unique(format!("grad_{}", p.ident.to_string().trim_start_matches("r#"))))
            .collect();
        self.grad = Some(GradArgs { upstream, params });
        self
    }

    /// The gradient buffer of parameter `name`, in a VJP.
    pub fn grad_of(&self, name: &str) -> Option<&Ident> {
        let i = self.params.iter().position(|p| p.name == name)?;
        self.grad.as_ref().map(|g| &g.params[i])
    }

    /// The argument list `(params.., dims.., [grad_out,] out[, grads..])` with element type
    /// `ty`, and the same names as a call's arguments.
    pub fn args(&self, ty: &TokenStream) -> (TokenStream, TokenStream) {
        let params: Vec<&Ident> = self.params.iter().map(|p| &p.ident).collect();
        let dims: Vec<&Ident> = self.dims.iter().map(|(_, i)| i).collect();
        let out = &self.out;
        match &self.grad {
            None => {
                (quote!(#(#params: &[#ty],)* #(#dims: usize,)* #out: &mut [#ty]), quote!(#(#params,)* #(#dims,)* #out))
            }
            Some(GradArgs { upstream, params: grads }) => (
                quote!(#(#params: &[#ty],)* #(#dims: usize,)* #upstream: &[#ty], #out: &mut [#ty] #(, #grads: &mut [#ty])*),
                quote!(#(#params,)* #(#dims,)* #upstream, #out #(, #grads)*),
            ),
        }
    }
}

/// The parameters of the expression in the user's order (the argument order).
pub fn params(ir: &Ir) -> Vec<String> {
    // Every parameter of the expression, also those simplification made dead (`P || P` reads
    // none, an entropy does not read `loc`): the checked entry still validates them, as the
    // interpreter does.
    ir.param_names()
}

/// The shape symbols the generated function takes as `usize` arguments, in order of first
/// appearance: in the parameters' shapes (in argument order), then in the IR.
pub fn dims(ir: &Ir) -> Vec<String> {
    let mut syms: Vec<String> = Vec::new();
    let mut add = |s: &Shape| {
        for d in s.dims() {
            if let Dim::Symbol(n) = d {
                if !syms.contains(n) {
                    syms.push(n.clone());
                }
            }
        }
    };
    for name in params(ir) {
        if let Some(s) = ir.shapes.get(&name) {
            add(s);
        }
    }
    for id in ir.topo_order() {
        if let Some(s) = ir.ty(id).tensor() {
            add(s);
        }
        match ir.op(id) {
            Op::BroadcastTo(s) | Op::Zeros(s) | Op::Expand(s) | Op::SumLast { full: s, .. } => add(s),
            _ => {}
        }
    }
    syms
}

/// The generated function's arguments before `out`: (parameters, shape symbols), in order.
pub fn arguments(ir: &Ir) -> (Vec<String>, Vec<String>) {
    (params(ir), dims(ir))
}

/// `NumSamples` -> `num_samples`, `B` -> `b`.
pub(crate) fn snake_case(s: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower = i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if i > 0 && !out.ends_with('_') && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `name` as a Rust identifier: itself, a raw identifier for a keyword, or `name_` for the
/// words that cannot be raw.
pub(crate) fn rust_ident(name: &str) -> Ident {
    if syn::parse_str::<syn::Ident>(name).is_ok() {
        return Ident::new(name, Span::call_site());
    }
    match name {
        "_" | "self" | "Self" | "super" | "crate" => format_ident!("{name}_"),
        _ => Ident::new_raw(name, Span::call_site()),
    }
}

pub(crate) fn signature(ir: &Ir) -> Result<Sig, Diagnostic> {
    let mut taken = HashSet::new();
    let mut args = Vec::new();
    for name in params(ir) {
        let shape = ir.shapes.get(&name).cloned().ok_or_else(|| {
            Diagnostic::new("emit::internal", Default::default(), format!("parameter `{name}` has no shape"))
        })?;
        let ident = rust_ident(&name);
        taken.insert(ident.to_string());
        args.push(ParamArg { name, ident, shape });
    }
    let mut unique = |base: String| {
        let mut s = base;
        while taken.contains(&s) {
            s.push('_');
        }
        taken.insert(s.clone());
        rust_ident(&s)
    };
    let dims = dims(ir).into_iter().map(|s| (s.clone(), unique(snake_case(&s)))).collect();
    let out = unique("out".into());
    let result = ir.result_shape().cloned().ok_or_else(|| {
        Diagnostic::new("emit::internal", Default::default(), "the IR is not checked: the root has no tensor type")
    })?;
    Ok(Sig { params: args, dims, out, result, grad: None })
}

/// Hands out local names that collide neither with arguments nor with each other.
pub(crate) struct Names {
    used: HashSet<String>,
}

impl Names {
    pub fn new(taken: HashSet<String>) -> Self {
        Names { used: taken }
    }

    /// A fresh identifier from `hint` (lowercased, so locals stay snake case).
    pub fn fresh(&mut self, hint: &str) -> Ident {
        let base: String = hint
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '_' })
            .collect();
        let base =
            if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) { format!("v{base}") } else { base };
        let mut name = base.clone();
        let mut k = 1;
        while self.used.contains(&name) || syn::parse_str::<syn::Ident>(&name).is_err() {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.used.insert(name.clone());
        Ident::new(&name, Span::call_site())
    }
}

/// The numeric type of the generated code and the runtime path, as tokens.
#[derive(Clone)]
pub(crate) struct Num {
    /// `T`, `f32` or `f64`.
    pub ty: TokenStream,
    pub rt: TokenStream,
    pub dtype: Option<Dtype>,
}

impl Num {
    pub fn new(opts: &EmitOptions) -> Result<Num, Diagnostic> {
        let path: syn::Path = syn::parse_str(&opts.runtime_path).map_err(|e| {
            Diagnostic::new(
                "emit::runtime_path",
                Default::default(),
                format!("`{}` is not a Rust path: {e}", opts.runtime_path),
            )
        })?;
        let ty = match opts.dtype {
            None => quote!(T),
            Some(Dtype::F32) => quote!(f32),
            Some(Dtype::F64) => quote!(f64),
        };
        Ok(Num { ty, rt: quote!(#path), dtype: opts.dtype })
    }

    /// An associated constant of `Real`: `T::HALF`, or `<f64 as rt::Real>::HALF`.
    pub fn k(&self, name: &str) -> TokenStream {
        let name = Ident::new(name, Span::call_site());
        let (ty, rt) = (&self.ty, &self.rt);
        match self.dtype {
            None => quote!(T::#name),
            Some(_) => quote!(<#ty as #rt::Real>::#name),
        }
    }

    pub fn zero(&self) -> TokenStream {
        self.k("ZERO")
    }

    pub fn half(&self) -> TokenStream {
        self.k("HALF")
    }

    /// A literal as the interpreter rounds it: `T::from_f64(v)`.
    pub fn lit(&self, v: f64) -> TokenStream {
        let x = if v.is_nan() {
            quote!(f64::NAN)
        } else if v.is_infinite() {
            if v > 0.0 {
                quote!(f64::INFINITY)
            } else {
                quote!(f64::NEG_INFINITY)
            }
        } else {
            let a = proc_macro2::Literal::f64_suffixed(v.abs());
            if v.is_sign_negative() {
                quote!(-#a)
            } else {
                quote!(#a)
            }
        };
        match self.dtype {
            None => quote!(T::from_f64(#x)),
            Some(Dtype::F64) => x,
            Some(Dtype::F32) => quote!((#x) as f32),
        }
    }

    /// `count as T`, for the `d` in `½ d ln 2π`.
    pub fn count(&self, n: TokenStream) -> TokenStream {
        let (ty, rt) = (&self.ty, &self.rt);
        match self.dtype {
            None => quote!(T::from_usize(#n)),
            Some(_) => quote!(<#ty as #rt::Real>::from_usize(#n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_become_snake_case() {
        assert_eq!(snake_case("B"), "b");
        assert_eq!(snake_case("NumSamples"), "num_samples");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("T2"), "t2");
    }

    #[test]
    fn keywords_and_clashes_get_other_names() {
        assert_eq!(rust_ident("type").to_string(), "r#type");
        assert_eq!(rust_ident("self").to_string(), "self_");
        let c = kl_compiler::compile("Normal(b, out) || Normal(0, 1) where b, out: [B]", &Default::default()).unwrap();
        let sig = signature(&c.simplified).unwrap();
        assert_eq!(sig.dims[0].1.to_string(), "b_");
        assert_eq!(sig.out.to_string(), "out_");
    }

    fn args(src: &str, env: &[(&str, usize)]) -> (Vec<String>, Vec<String>) {
        let env = env.iter().map(|(n, k)| (n.to_string(), Shape::of(&[*k]))).collect();
        arguments(&kl_compiler::compile(src, &env).unwrap().simplified)
    }

    #[test]
    fn arguments_follow_the_where_clause_then_first_appearance() {
        // Declared order wins, whatever the alphabet or the order of use says.
        let (p, d) = args("Normal(zeta, alpha) || Normal(mu, beta) where mu: [T, B], zeta, alpha, beta: [T, B]", &[]);
        assert_eq!(p, ["mu", "zeta", "alpha", "beta"]);
        assert_eq!(d, ["T", "B"]);
        // Without declarations (shapes from data, as `klc eval`): order of first appearance.
        let (p, d) =
            args("Normal(zeta, alpha) || Normal(mu, beta)", &[("alpha", 4), ("beta", 4), ("mu", 4), ("zeta", 4)]);
        assert_eq!(p, ["zeta", "alpha", "mu", "beta"]);
        assert!(d.is_empty());
        // Partly declared: the declared ones first, then the rest as they appear.
        let (p, _) = args("Normal(s2, m1) || Normal(a, b) where b: [3]", &[("s2", 3), ("m1", 3), ("a", 3)]);
        assert_eq!(p, ["b", "s2", "m1", "a"]);
        // A parameter simplification makes dead (`P || P` reads nothing) keeps its place.
        let (p, _) = args("Normal(z, y) || Normal(z, y) where z, y: [2]", &[]);
        assert_eq!(p, ["z", "y"]);
    }

    #[test]
    fn fresh_names_avoid_arguments() {
        let mut n = Names::new(["v3".to_string()].into_iter().collect());
        assert_eq!(n.fresh("v3").to_string(), "v3_1");
        assert_eq!(n.fresh("L2").to_string(), "l2");
        assert_eq!(n.fresh("l2").to_string(), "l2_1");
        assert_eq!(n.fresh("loop").to_string(), "loop_1");
    }
}
