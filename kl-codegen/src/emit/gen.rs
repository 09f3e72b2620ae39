//! The generator state: a tree of scopes (the function body and every loop body), loop
//! variables, and caches, so that every value is computed once, in the outermost scope where
//! all of its indices are bound.
//!
//! That placement rule is the whole optimization story: an element is requested with an index
//! vector; the deepest loop variable in it names the scope where its statements go. A Cholesky
//! of a matrix shared by the batch has no loop variable in its index and lands before the loops;
//! an operand broadcast along a summed dim is read outside the summing loop. Loop variables are
//! never reused, so a cache entry can never be seen outside the loop that defines it.

use super::index::{lit, static_positions, unrolled_suffix, Ix, Lin};
use super::signature::{Names, Num, Sig};
use kl_compiler::diag::Diagnostic;
use kl_compiler::ir::{Ir, NodeId};
use kl_compiler::shape::{Dim, Shape};
use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::quote;
use std::collections::{HashMap, HashSet};

pub(crate) type Res<T> = Result<T, Diagnostic>;

/// A visitor of indices: gets the generator, the index and the innermost scope.
pub(crate) type IndexFn<'f, 'a> = dyn FnMut(&mut Gen<'a>, &[Ix], usize) -> Res<()> + 'f;

/// The function body's scope.
pub(crate) const ROOT: usize = 0;

struct Scope {
    depth: usize,
    stmts: Vec<Stmt>,
}

/// A generated statement, kept structured until the end so that unused locals can be dropped
/// (straight-line kernels compute every entry of a factor; a consumer may read only some).
pub(crate) enum Stmt {
    /// `let name = ..;`; `pure` when dropping it cannot change behavior (no `return`).
    Let {
        name: String,
        tokens: TokenStream,
        pure: bool,
    },
    Other(TokenStream),
    Loop {
        head: TokenStream,
        body: Vec<Stmt>,
    },
}

impl Stmt {
    pub fn tokens(&self) -> TokenStream {
        match self {
            Stmt::Let { tokens, .. } | Stmt::Other(tokens) => tokens.clone(),
            Stmt::Loop { head, body } => {
                let body = body.iter().map(Stmt::tokens);
                quote!(#head { #(#body)* })
            }
        }
    }
}

/// Count identifier occurrences.
fn count_idents(tokens: TokenStream, counts: &mut HashMap<String, usize>) {
    for t in tokens {
        match t {
            TokenTree::Ident(i) => *counts.entry(i.to_string()).or_default() += 1,
            TokenTree::Group(g) => count_idents(g.stream(), counts),
            _ => {}
        }
    }
}

fn has_return(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == "return",
        TokenTree::Punct(p) => p.as_char() == '?',
        TokenTree::Group(g) => has_return(&g.stream()),
        _ => false,
    })
}

/// Drop pure `let`s whose name is never read, and loops left empty, until nothing changes.
pub(crate) fn prune(stmts: &mut Vec<Stmt>) {
    loop {
        let mut counts = HashMap::new();
        for s in stmts.iter() {
            count_idents(s.tokens(), &mut counts);
        }
        if !prune_once(stmts, &counts) {
            return;
        }
    }
}

fn prune_once(stmts: &mut Vec<Stmt>, counts: &HashMap<String, usize>) -> bool {
    let before = stmts.len();
    let mut changed = false;
    stmts.retain_mut(|s| match s {
        Stmt::Let { name, pure: true, .. } => counts.get(name.as_str()).copied().unwrap_or(0) > 1,
        Stmt::Loop { body, .. } => {
            changed |= prune_once(body, counts);
            !body.is_empty()
        }
        _ => true,
    });
    changed || stmts.len() != before
}

pub(crate) struct Var {
    pub ident: Ident,
    pub scope: usize,
}

/// A square `d x d` block of a factor, as the generated code holds it.
#[derive(Clone)]
pub(crate) enum Block {
    /// Straight-line code: one local per lower-triangle entry (`rows[i][j]`, `j <= i`); the
    /// upper triangle is zero.
    Grid(Vec<Vec<TokenStream>>),
    /// A row-major buffer of `d * d` entries.
    Buf { ident: Ident, d: Lin },
}

pub(crate) struct Gen<'a> {
    pub ir: &'a Ir,
    pub sig: &'a Sig,
    pub num: Num,
    pub names: Names,
    scopes: Vec<Scope>,
    pub vars: Vec<Var>,
    /// Scalar values by (node, index).
    pub values: HashMap<(NodeId, Vec<Ix>), TokenStream>,
    /// Factor blocks by (node, batch index).
    pub blocks: HashMap<(NodeId, Vec<Ix>), Block>,
    /// Materialized operand blocks (`&[T]` expressions) by (node, batch index).
    pub slices: HashMap<(NodeId, Vec<Ix>), TokenStream>,
    /// Fixed-size views of parameter rows (`&[T; N]`) by (parameter, index of the row).
    pub views: HashMap<(String, Vec<Ix>), TokenStream>,
    pub used: HashSet<String>,
}

impl<'a> Gen<'a> {
    pub fn new(ir: &'a Ir, sig: &'a Sig, num: Num) -> Self {
        Gen {
            ir,
            sig,
            num,
            names: Names::new(sig.taken()),
            scopes: vec![Scope { depth: 0, stmts: Vec::new() }],
            vars: Vec::new(),
            values: HashMap::new(),
            blocks: HashMap::new(),
            slices: HashMap::new(),
            views: HashMap::new(),
            used: HashSet::new(),
        }
    }

    /// The function body's statements (call once, at the end).
    pub fn take_root(&mut self) -> Vec<Stmt> {
        std::mem::take(&mut self.scopes[ROOT].stmts)
    }

    /// The scope where a value with this index lives: that of its deepest loop variable.
    pub fn scope_of(&self, idx: &[Ix]) -> usize {
        idx.iter()
            .filter_map(|i| match i {
                Ix::Var(v) | Ix::Lane { lane: v, .. } => Some(self.vars[*v].scope),
                Ix::Const(_) => None,
            })
            .max_by_key(|s| self.scopes[*s].depth)
            .unwrap_or(ROOT)
    }

    pub fn push(&mut self, scope: usize, stmt: TokenStream) {
        self.scopes[scope].stmts.push(Stmt::Other(stmt));
    }

    /// `let name = expr;` in `scope`.
    pub fn push_let(&mut self, scope: usize, name: &Ident, expr: TokenStream) {
        let pure = !has_return(&expr);
        let tokens = quote!(let #name = #expr;);
        self.scopes[scope].stmts.push(Stmt::Let { name: name.to_string(), tokens, pure });
    }

    /// `let name = expr;` in `scope`; returns the name.
    pub fn bind(&mut self, scope: usize, hint: &str, expr: TokenStream) -> TokenStream {
        let name = self.names.fresh(hint);
        self.push_let(scope, &name, expr);
        quote!(#name)
    }

    /// `expr` if it is a single token (a name or a literal), else a fresh local bound to it.
    pub fn atom(&mut self, scope: usize, hint: &str, expr: TokenStream) -> TokenStream {
        if expr.clone().into_iter().count() == 1
            && !matches!(expr.clone().into_iter().next(), Some(TokenTree::Group(_)))
        {
            expr
        } else {
            self.bind(scope, hint, expr)
        }
    }

    pub fn ix(&self, i: Ix) -> Lin {
        match i {
            Ix::Const(n) => Lin::Const(n),
            Ix::Var(v) => {
                let id = &self.vars[v].ident;
                Lin::atom(quote!(#id))
            }
            Ix::Lane { var, lanes, lane } => {
                let (id, l) = (&self.vars[var].ident, &self.vars[lane].ident);
                Lin::atom(quote!(#id)).mul(&Lin::Const(lanes)).add(&Lin::atom(quote!(#l)))
            }
        }
    }

    pub fn ix_tokens(&self, idx: &[Ix]) -> TokenStream {
        let items = idx.iter().map(|i| self.ix(*i).tokens());
        quote!(&[#(#items),*])
    }

    pub fn dim(&mut self, d: &Dim) -> Res<Lin> {
        match d {
            Dim::Static(n) => Ok(Lin::Const(*n)),
            Dim::Symbol(s) => {
                let id = self
                    .sig
                    .dim(s)
                    .cloned()
                    .ok_or_else(|| internal(format!("shape symbol `{s}` is not an argument")))?;
                self.used.insert(id.to_string());
                Ok(Lin::atom(quote!(#id)))
            }
        }
    }

    pub fn dims(&mut self, s: &Shape) -> Res<Vec<Lin>> {
        s.dims().iter().map(|d| self.dim(d)).collect()
    }

    pub fn shape(&self, id: NodeId) -> Res<Shape> {
        self.ir.ty(id).tensor().cloned().ok_or_else(|| self.internal(id, "node without a tensor type"))
    }

    pub fn internal(&self, id: NodeId, msg: &str) -> Diagnostic {
        let node = self.ir.node(id);
        Diagnostic::new("emit::unsupported", node.span, format!("cannot emit `{}`: {msg}", node.op.name()))
            .label("not emittable")
    }

    /// A loop `for v in 0..bound { body }` appended to `parent`; `body` gets the new variable and
    /// the loop's scope.
    pub fn for_loop(
        &mut self,
        parent: usize,
        bound: Lin,
        hint: &str,
        body: &mut dyn FnMut(&mut Self, Ix, usize) -> Res<()>,
    ) -> Res<()> {
        let depth = self.scopes[parent].depth + 1;
        self.scopes.push(Scope { depth, stmts: Vec::new() });
        let scope = self.scopes.len() - 1;
        let ident = self.names.fresh(hint);
        self.vars.push(Var { ident: ident.clone(), scope });
        body(self, Ix::Var(self.vars.len() - 1), scope)?;
        let body = std::mem::take(&mut self.scopes[scope].stmts);
        let bound = bound.tokens();
        self.scopes[parent].stmts.push(Stmt::Loop { head: quote!(for #ident in 0..#bound), body });
        Ok(())
    }

    /// Visit every index of `dims` under `parent`, row-major: loops for the outer dims, unrolled
    /// constants for the longest static suffix with at most `unroll` elements. `f` gets the index
    /// and the innermost scope.
    pub fn each_index(
        &mut self,
        parent: usize,
        dims: &[Dim],
        unroll: usize,
        hint: &str,
        f: &mut IndexFn<'_, 'a>,
    ) -> Res<()> {
        let k = unrolled_suffix(dims, unroll);
        let (looped, unrolled) = dims.split_at(dims.len() - k);
        let unrolled: Vec<usize> = unrolled.iter().filter_map(Dim::as_static).collect();
        self.nest(parent, looped, &unrolled, hint, &mut Vec::new(), f)
    }

    fn nest(
        &mut self,
        scope: usize,
        looped: &[Dim],
        unrolled: &[usize],
        hint: &str,
        prefix: &mut Vec<Ix>,
        f: &mut IndexFn<'_, 'a>,
    ) -> Res<()> {
        match looped.split_first() {
            Some((d, rest)) => {
                let bound = self.dim(d)?;
                let name = format!("{hint}{}", prefix.len());
                self.for_loop(scope, bound, &name, &mut |g, v, inner| {
                    prefix.push(v);
                    let r = g.nest(inner, rest, unrolled, hint, prefix, f);
                    prefix.pop();
                    r
                })
            }
            None => {
                for pos in static_positions(unrolled) {
                    let mut idx = prefix.clone();
                    idx.extend(pos.into_iter().map(Ix::Const));
                    f(self, &idx, scope)?;
                }
                Ok(())
            }
        }
    }

    /// `Σ term(idx)` over `dims` (row-major, the interpreter's order), as a local in `scope`.
    /// Fully unrolled sums are one expression; otherwise an accumulator and loops.
    pub fn reduce(
        &mut self,
        scope: usize,
        dims: &[Dim],
        unroll: usize,
        hint: &str,
        term: &mut dyn FnMut(&mut Self, &[Ix]) -> Res<TokenStream>,
    ) -> Res<TokenStream> {
        let zero = self.num.zero();
        if unrolled_suffix(dims, unroll) == dims.len() {
            let dims: Vec<usize> = dims.iter().filter_map(Dim::as_static).collect();
            let mut terms = Vec::new();
            for pos in static_positions(&dims) {
                let idx: Vec<Ix> = pos.into_iter().map(Ix::Const).collect();
                terms.push(term(self, &idx)?);
            }
            let sum = if terms.is_empty() { zero } else { quote!(#(#terms)+*) };
            return Ok(self.atom(scope, hint, sum));
        }
        if let [Dim::Static(n)] = dims {
            if n % LANES == 0 {
                return self.reduce_lanes(scope, *n, hint, term);
            }
        }
        let acc = self.names.fresh(hint);
        self.push(scope, quote!(let mut #acc = #zero;));
        self.each_index(scope, dims, unroll, "j", &mut |g, idx, inner| {
            let t = term(g, idx)?;
            g.push(inner, quote!(#acc += #t;));
            Ok(())
        })?;
        Ok(quote!(#acc))
    }

    /// `Σ term(j)` over a static `0..n` small enough to unroll, for terms that are costly
    /// elementwise kernels: the terms go into a local array in a loop `for l in 0..n`, which the
    /// loop vectorizer computes `n` lanes at a time (unrolled calls were left scalar), and are
    /// then added in the interpreter's sequential order, so the result is bit for bit that of
    /// the unrolled sum.
    pub fn reduce_array(
        &mut self,
        scope: usize,
        n: usize,
        hint: &str,
        term: &mut dyn FnMut(&mut Self, &[Ix]) -> Res<TokenStream>,
    ) -> Res<TokenStream> {
        let zero = self.num.zero();
        let terms = self.names.fresh(&format!("{hint}_terms"));
        let len = lit(n);
        self.push(scope, quote!(let mut #terms = [#zero; #len];));
        self.for_loop(scope, Lin::Const(n), "l", &mut |g, l, inner| {
            let t = term(g, &[l])?;
            let l = g.ix(l).tokens();
            g.push(inner, quote!(#terms[#l] = #t;));
            Ok(())
        })?;
        let parts = (0..n).map(|l| {
            let l = lit(l);
            quote!(#terms[#l])
        });
        Ok(self.bind(scope, hint, quote!(#(#parts)+*)))
    }

    /// `Σ term(j)` over a static `0..n` with `n` a multiple of [`LANES`]: one accumulator per
    /// lane (`acc[l]` sums the terms `j ≡ l mod LANES`), added pairwise at the end. A single
    /// accumulator is a chain of dependent additions that LLVM may not reorder, so the loop
    /// would run one term at a time; with lanes, each iteration is `LANES` independent terms
    /// over consecutive elements. The lanes are an inner loop `for l in 0..LANES`, not `LANES`
    /// unrolled statements: LLVM's loop vectorizer turns that loop into one vector operation per
    /// step (branch-free kernels become selects), while the unrolled statements were left to the
    /// SLP vectorizer, which gave up on the kernels and ran them scalar. (The order of the
    /// additions differs from the interpreter's sequential sum, by rounding only.)
    fn reduce_lanes(
        &mut self,
        scope: usize,
        n: usize,
        hint: &str,
        term: &mut dyn FnMut(&mut Self, &[Ix]) -> Res<TokenStream>,
    ) -> Res<TokenStream> {
        let zero = self.num.zero();
        let acc = self.names.fresh(&format!("{hint}_lanes"));
        let lanes = lit(LANES);
        self.push(scope, quote!(let mut #acc = [#zero; #lanes];));
        self.for_loop(scope, Lin::Const(n / LANES), "j", &mut |g, v, inner| {
            let Ix::Var(var) = v else { return Err(internal("a loop variable is not a variable".into())) };
            g.for_loop(inner, Lin::Const(LANES), "l", &mut |g, l, lane_scope| {
                let Ix::Var(lane) = l else { return Err(internal("a loop variable is not a variable".into())) };
                let t = term(g, &[Ix::Lane { var, lanes: LANES, lane }])?;
                let l = &g.vars[lane].ident;
                let l = quote!(#l);
                g.push(lane_scope, quote!(#acc[#l] += #t;));
                Ok(())
            })
        })?;
        let mut parts: Vec<TokenStream> = (0..LANES)
            .map(|l| {
                let l = lit(l);
                quote!(#acc[#l])
            })
            .collect();
        // A balanced tree of pairwise sums; the outermost pair needs no parentheses.
        while parts.len() > 2 {
            parts = parts
                .chunks(2)
                .map(|p| {
                    let (a, b) = (&p[0], &p[1]);
                    quote!((#a + #b))
                })
                .collect();
        }
        let total = match parts.as_slice() {
            [a, b] => quote!(#a + #b),
            [a] => quote!(#a),
            _ => unreachable!("a reduction over at least one lane"),
        };
        Ok(self.bind(scope, hint, total))
    }

    /// A buffer of `len` zeros, allocated once at the top of the function (a stack array when
    /// the length is static and small, else a `Vec`), so no loop ever allocates.
    pub fn alloc(&mut self, hint: &str, len: &Lin) -> Ident {
        let name = self.names.fresh(hint);
        let zero = self.num.zero();
        let stmt = match len {
            Lin::Const(n) if *n <= STACK_MAX => {
                let n = lit(*n);
                quote!(let mut #name = [#zero; #n];)
            }
            len => {
                let len = len.tokens();
                quote!(let mut #name = vec![#zero; #len];)
            }
        };
        self.push(ROOT, stmt);
        name
    }
}

/// Accumulators of a lane-wise reduction: 8 fills one AVX2 register of `f32` (two of `f64`).
const LANES: usize = 8;

/// Largest scratch buffer kept on the stack (elements): a 64 x 64 matrix of f64 is 32 KiB.
const STACK_MAX: usize = 4096;

pub(crate) fn internal(msg: String) -> Diagnostic {
    Diagnostic::new("emit::internal", Default::default(), format!("internal emitter error: {msg}"))
}

/// The dims of `s` as index expressions: static sizes, or the shape symbol's argument.
pub(crate) fn dims(sig: &Sig, s: &Shape) -> Res<Vec<Lin>> {
    s.dims()
        .iter()
        .map(|d| match d {
            Dim::Static(n) => Ok(Lin::Const(*n)),
            Dim::Symbol(s) => {
                let id = sig.dim(s).ok_or_else(|| internal(format!("shape symbol `{s}` is not an argument")))?;
                Ok(Lin::atom(quote!(#id)))
            }
        })
        .collect()
}
