//! Indices, offsets and broadcasting for the fused loop nest.
//!
//! Every tensor element the generated code touches is named by an index vector: one entry per
//! dim of the node's own shape, each a compile-time constant (an unrolled position, or `0` where
//! a dim of size 1 is broadcast) or a loop variable. Offsets into the row-major parameter slices
//! are built in Horner form (`(i0 * 8 + i1) * 3 + 2`), folding constants so the emitted source
//! stays readable and identity factors (`* 1`, `+ 0`) never appear.

use kl_compiler::shape::{Dim, Shape};
use proc_macro2::TokenStream;
use quote::quote;

/// One index of an element: a constant, or the loop variable with this id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Ix {
    Const(usize),
    Var(usize),
    /// `var * lanes + lane` (both loop variables, `lane` in `0..lanes`): element `lane` of a
    /// block of `lanes` consecutive ones, where a reduction keeps one accumulator per lane (see
    /// `Gen::reduce`).
    Lane {
        var: usize,
        lanes: usize,
        lane: usize,
    },
}

/// A `usize` expression under construction, folded while it stays constant.
#[derive(Clone, Debug)]
pub(crate) enum Lin {
    Const(usize),
    /// An expression; `atomic` when it needs no parentheses as a factor.
    Expr {
        tokens: TokenStream,
        atomic: bool,
    },
}

impl PartialEq for Lin {
    fn eq(&self, other: &Lin) -> bool {
        self.tokens().to_string() == other.tokens().to_string()
    }
}

impl Lin {
    pub fn atom(tokens: TokenStream) -> Lin {
        Lin::Expr { tokens, atomic: true }
    }

    pub fn tokens(&self) -> TokenStream {
        match self {
            Lin::Const(n) => lit(*n),
            Lin::Expr { tokens, .. } => tokens.clone(),
        }
    }

    fn factor(&self) -> TokenStream {
        match self {
            Lin::Expr { tokens, atomic: false } => quote!((#tokens)),
            other => other.tokens(),
        }
    }

    pub fn mul(self, other: &Lin) -> Lin {
        match (&self, other) {
            (Lin::Const(a), Lin::Const(b)) => Lin::Const(a * b),
            (Lin::Const(0), _) | (_, Lin::Const(0)) => Lin::Const(0),
            (Lin::Const(1), x) | (x, Lin::Const(1)) => x.clone(),
            (a, b) => {
                let (a, b) = (a.factor(), b.factor());
                Lin::atom(quote!(#a * #b))
            }
        }
    }

    pub fn add(self, other: &Lin) -> Lin {
        match (&self, other) {
            (Lin::Const(a), Lin::Const(b)) => Lin::Const(a + b),
            (Lin::Const(0), x) | (x, Lin::Const(0)) => x.clone(),
            (a, b) => {
                let (a, b) = (a.tokens(), b.tokens());
                Lin::Expr { tokens: quote!(#a + #b), atomic: false }
            }
        }
    }
}

/// An unsuffixed `usize` literal (`8`, not `8usize`).
pub(crate) fn lit(n: usize) -> TokenStream {
    let l = proc_macro2::Literal::usize_unsuffixed(n);
    quote!(#l)
}

/// The row-major offset of `idx` in a tensor with dims `dims` (Horner form).
pub(crate) fn offset(dims: &[Lin], idx: &[Lin]) -> Lin {
    debug_assert_eq!(dims.len(), idx.len());
    let mut off = Lin::Const(0);
    for (d, i) in dims.iter().zip(idx) {
        off = off.mul(d).add(i);
    }
    off
}

/// The product of `dims` (the element count).
pub(crate) fn numel(dims: &[Lin]) -> Lin {
    dims.iter().fold(Lin::Const(1), |acc, d| acc.mul(d))
}

/// The index of an operand of shape `from` that is broadcast to a node of shape `to`, at the
/// node's index `idx`: NumPy rules, right-aligned; a dim of size 1 that broadcasts reads at 0.
/// (The checker guaranteed that `from` broadcasts to `to`.)
pub(crate) fn broadcast_index(idx: &[Ix], to: &Shape, from: &Shape) -> Vec<Ix> {
    debug_assert_eq!(idx.len(), to.rank());
    let skip = to.rank() - from.rank();
    from.dims()
        .iter()
        .enumerate()
        .map(|(k, d)| if *d == Dim::Static(1) { Ix::Const(0) } else { idx[skip + k] })
        .collect()
}

/// Every index of a block of static dims, in row-major order.
pub(crate) fn static_positions(dims: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for &d in dims {
        out = out.into_iter().flat_map(|p| (0..d).map(move |i| p.iter().copied().chain([i]).collect())).collect();
    }
    out
}

/// How many trailing dims of `dims` to unroll: the longest static suffix whose element count
/// stays within `max`. The rest become loops.
pub(crate) fn unrolled_suffix(dims: &[Dim], max: usize) -> usize {
    let mut count = 1usize;
    let mut k = 0;
    for d in dims.iter().rev() {
        match d.as_static() {
            Some(n) if count.saturating_mul(n) <= max => {
                count *= n;
                k += 1;
            }
            _ => break,
        }
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lin(s: &str) -> Lin {
        match s.parse() {
            Ok(n) => Lin::Const(n),
            Err(_) => Lin::atom(s.parse().unwrap()),
        }
    }

    #[test]
    fn offsets_fold_constants_and_identities() {
        let dims = [lin("b"), lin("8")];
        assert_eq!(offset(&dims, &[lin("i0"), lin("3")]).tokens().to_string(), "i0 * 8 + 3");
        assert_eq!(offset(&dims, &[lin("0"), lin("j")]).tokens().to_string(), "j");
        assert_eq!(offset(&[lin("3"), lin("3")], &[lin("2"), lin("1")]).tokens().to_string(), "7");
        let three = [lin("t"), lin("b"), lin("4")];
        assert_eq!(offset(&three, &[lin("i"), lin("j"), lin("k")]).tokens().to_string(), "(i * b + j) * 4 + k");
    }

    #[test]
    fn broadcast_reads_size_one_dims_at_zero() {
        let to = Shape(vec![Dim::Symbol("B".into()), Dim::Static(8)]);
        let from = Shape::of(&[1, 8]);
        assert_eq!(broadcast_index(&[Ix::Var(0), Ix::Var(1)], &to, &from), vec![Ix::Const(0), Ix::Var(1)]);
        assert_eq!(broadcast_index(&[Ix::Var(0), Ix::Const(5)], &to, &Shape::of(&[8])), vec![Ix::Const(5)]);
    }

    #[test]
    fn unrolling_stops_at_the_threshold_or_a_symbol() {
        let s = |v: &[&str]| -> Vec<Dim> {
            v.iter().map(|d| d.parse().map(Dim::Static).unwrap_or_else(|_| Dim::Symbol(d.to_string()))).collect()
        };
        assert_eq!(unrolled_suffix(&s(&["4", "4"]), 16), 2);
        assert_eq!(unrolled_suffix(&s(&["4", "8"]), 16), 1);
        assert_eq!(unrolled_suffix(&s(&["T", "3"]), 16), 1);
        assert_eq!(unrolled_suffix(&s(&["64"]), 16), 0);
        assert_eq!(static_positions(&[2, 2]), vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]]);
    }
}
