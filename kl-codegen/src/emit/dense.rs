//! Straight-line dense linear algebra for a static `d <= CHOLESKY_UNROLL_MAX`: one local per
//! matrix entry, no loops, no indexing, so LLVM keeps everything in registers.
//!
//! Each routine repeats the arithmetic of its loop kernel in `kl-runtime` (`dense.rs`,
//! `gaussian.rs`) operation for operation and in the same summation order: inner products are
//! left-associated sums `a0*b0 + a1*b1 + ..` like the runtime's `dot`, and the KL is the
//! runtime's difference form (`x = L2⁻¹ (L1 − L2)` column by column), not the `fixed.rs`
//! variant, so emitted code and interpreter agree to the last bit on the same inputs (up to the
//! sign of zero terms, which no result depends on).
//!
//! Inputs are token grids: `v[i]` for vectors, `t[i][j]` (`j <= i`) for lower triangles; every
//! entry must be a single token (a local or a literal), since entries are used repeatedly.

// Index loops over `0..d` mirror the runtime kernels' formulas line by line.
#![allow(clippy::needless_range_loop)]

use super::signature::{Names, Num};
use proc_macro2::TokenStream;
use quote::quote;

type Tok = TokenStream;
/// A lower triangle: `rows[i][j]` for `j <= i`.
pub(crate) type Tri = Vec<Vec<Tok>>;

/// The left factor of the KL: a dense lower factor, or a diagonal (`L1 = diag(s1)`).
pub(crate) enum Left<'t> {
    Tril(&'t Tri),
    Diag(&'t [Tok]),
}

impl Left<'_> {
    /// `L1[i][j] - L2[i][j]` as the runtime forms it (`zero` when both are the same local,
    /// e.g. `KL(N(a, L) ‖ N(b, L))`: `x - x` is exactly zero for the finite values validated).
    fn minus(&self, i: usize, j: usize, l2: &Tok, zero: &Tok) -> Tok {
        match self {
            Left::Tril(t) if t[i][j].to_string() == l2.to_string() => zero.clone(),
            Left::Tril(t) => {
                let a = &t[i][j];
                quote!((#a - #l2))
            }
            Left::Diag(s) if i == j => {
                let a = &s[i];
                quote!((#a - #l2))
            }
            // `0 - x` and `-x` differ only in the sign of a zero, which is squared away.
            Left::Diag(_) => quote!((-#l2)),
        }
    }

    fn diag(&self, i: usize) -> &Tok {
        match self {
            Left::Tril(t) => &t[i][i],
            Left::Diag(s) => &s[i],
        }
    }
}

pub(crate) struct Dense<'g> {
    pub num: &'g Num,
    pub names: &'g mut Names,
    /// `let` bindings in order: (name, value).
    pub lets: Vec<(proc_macro2::Ident, Tok)>,
}

/// `a0*b0 + a1*b1 + ..`, `None` when empty.
fn dot(pairs: &[(&Tok, &Tok)]) -> Option<Tok> {
    let terms: Vec<Tok> = pairs.iter().map(|(a, b)| quote!(#a * #b)).collect();
    (!terms.is_empty()).then(|| quote!(#(#terms)+*))
}

/// `t0 + t1 + ..` left-associated, or zero.
fn sum(num: &Num, terms: &[Tok]) -> Tok {
    if terms.is_empty() {
        num.zero()
    } else {
        quote!(#(#terms)+*)
    }
}

impl Dense<'_> {
    fn let_(&mut self, hint: &str, expr: Tok) -> Tok {
        let name = self.names.fresh(hint);
        self.lets.push((name.clone(), expr));
        quote!(#name)
    }

    /// Cholesky–Banachiewicz on the lower triangle of `a`, like `cholesky_in_place`. A pivot
    /// that is not `> 0` and finite executes `fail(row)` (a `return Err(..)`).
    pub fn cholesky(&mut self, a: &Tri, hint: &str, fail: &dyn Fn(usize) -> Tok) -> Tri {
        let zero = self.num.zero();
        let mut l: Tri = Vec::new();
        for i in 0..a.len() {
            let mut row = Vec::new();
            for j in 0..i {
                let pairs: Vec<_> = (0..j).map(|k| (&row[k], &l[j][k])).collect();
                let (aij, ljj) = (&a[i][j], &l[j][j]);
                let num = match dot(&pairs) {
                    Some(d) => quote!((#aij - (#d))),
                    None => quote!(#aij),
                };
                row.push(self.let_(&format!("{hint}_{i}_{j}"), quote!(#num / #ljj)));
            }
            let pairs: Vec<_> = (0..i).map(|k| (&row[k], &row[k])).collect();
            let aii = &a[i][i];
            let pivot = match dot(&pairs) {
                Some(d) => quote!(#aii - (#d)),
                None => quote!(#aii),
            };
            let p = self.let_(&format!("pivot_{i}"), pivot);
            let err = fail(i);
            row.push(
                self.let_(
                    &format!("{hint}_{i}_{i}"),
                    quote!(if #p > #zero && #p.is_finite() { #p.sqrt() } else { #err }),
                ),
            );
            l.push(row);
        }
        l
    }

    /// `L` with `L Lᵀ = P⁻¹` by the flip trick, like `precision_to_scale_tril`: Cholesky of
    /// `J P J`, then the inverse of `Uᵀ` column by column. A failure reports row `d-1-pivot`.
    pub fn precision_to_scale_tril(&mut self, p: &Tri, hint: &str, fail: &dyn Fn(usize) -> Tok) -> Tri {
        let d = p.len();
        let flipped: Tri = (0..d).map(|i| (0..=i).map(|j| p[d - 1 - j][d - 1 - i].clone()).collect()).collect();
        let lf = self.cholesky(&flipped, &format!("{hint}_flip"), &|k| fail(d - 1 - k));
        let ut = |i: usize, j: usize| lf[d - 1 - j][d - 1 - i].clone();
        let mut x: Vec<Vec<Option<Tok>>> = vec![vec![None; d]; d];
        for j in 0..d {
            let u = ut(j, j);
            x[j][j] = Some(self.let_(&format!("{hint}_{j}_{j}"), quote!(#u.recip())));
            for i in j + 1..d {
                let terms: Vec<Tok> = (j..i)
                    .map(|k| {
                        let (a, b) = (ut(i, k), x[k][j].clone().unwrap_or_default());
                        quote!(#a * #b)
                    })
                    .collect();
                let (s, uii) = (sum(self.num, &terms), ut(i, i));
                x[i][j] = Some(self.let_(&format!("{hint}_{i}_{j}"), quote!(-(#s) / #uii)));
            }
        }
        (0..d).map(|i| (0..=i).map(|j| x[i][j].clone().unwrap_or_default()).collect()).collect()
    }

    /// `b <- L⁻¹ b` by forward substitution, like `solve_lower`.
    pub fn solve_lower(&mut self, l: &Tri, b: &[Tok], hint: &str) -> Vec<Tok> {
        let mut z: Vec<Tok> = Vec::new();
        for i in 0..b.len() {
            let pairs: Vec<_> = (0..i).map(|k| (&l[i][k], &z[k])).collect();
            let (bi, lii) = (&b[i], &l[i][i]);
            let num = match dot(&pairs) {
                Some(d) => quote!((#bi - (#d))),
                None => quote!(#bi),
            };
            z.push(self.let_(&format!("{hint}_{i}"), quote!(#num / #lii)));
        }
        z
    }

    /// `Σ ln |L_ii|`, like `half_log_det_tril`.
    pub fn half_log_det(&mut self, l: &Tri) -> Tok {
        let terms: Vec<Tok> = (0..l.len())
            .map(|i| {
                let x = &l[i][i];
                quote!(#x.abs().ln())
            })
            .collect();
        let s = sum(self.num, &terms);
        self.let_("half_log_det", s)
    }

    /// `½ (r² − 1) − ln r`, `r = |a| / |b|`: one row's diagonal share of the stable KL, by the
    /// runtime's kernel so that both branches (near and far from `r = 1`) stay in one place.
    fn diag_term(&mut self, a: &Tok, b: &Tok, i: usize) -> Tok {
        let rt = &self.num.rt;
        self.let_(&format!("t_{i}"), quote!(#rt::scale_ratio_term(#a, #b)))
    }

    /// `Σ z_i²` of a vector, in order.
    fn squares(&self, z: &[Tok]) -> Tok {
        let terms: Vec<Tok> = z.iter().map(|x| quote!(#x * #x)).collect();
        sum(self.num, &terms)
    }

    /// KL(N(mu1, L1 L1ᵀ) ‖ N(mu2, L2 L2ᵀ)) in the runtime's difference form (`tril_kl_core`):
    /// `½ (Σ_{i>j} x_ij² + ‖L2⁻¹ (mu2 − mu1)‖²) + Σ_j (½ u_j² − log1pmx(u_j))`.
    pub fn tril_kl(&mut self, mu1: &[Tok], l1: Left<'_>, mu2: &[Tok], l2: &Tri) -> Tok {
        let d = mu1.len();
        let mut off = Vec::new();
        let mut diag = Vec::new();
        for j in 0..d {
            // Column j of M − I = L2⁻¹ (L1 − L2), rows j.. (zero above).
            let mut x: Vec<Tok> = Vec::new();
            let zero = self.num.zero();
            let (l2jj, diff) = (&l2[j][j], l1.minus(j, j, &l2[j][j], &zero));
            x.push(self.let_(&format!("x_{j}_{j}"), quote!(#diff / #l2jj)));
            for i in j + 1..d {
                let pairs: Vec<_> = (j..i).map(|k| (&l2[i][k], &x[k - j])).collect();
                let diff = l1.minus(i, j, &l2[i][j], &zero);
                let num = match dot(&pairs) {
                    Some(dd) => quote!((#diff - (#dd))),
                    None => diff,
                };
                let l2ii = &l2[i][i];
                let xi = self.let_(&format!("x_{i}_{j}"), quote!(#num / #l2ii));
                off.push(quote!(#xi * #xi));
                x.push(xi);
            }
            let a = l1.diag(j).clone();
            diag.push(self.diag_term(&a, &l2[j][j], j));
        }
        let delta: Vec<Tok> = (0..d)
            .map(|i| {
                let (a, b) = (&mu2[i], &mu1[i]);
                let t = quote!(#a - #b);
                self.let_(&format!("dm_{i}"), t)
            })
            .collect();
        let z = self.solve_lower(l2, &delta, "z");
        let (off, maha, diag) = (sum(self.num, &off), self.squares(&z), sum(self.num, &diag));
        let half = self.num.half();
        let off = self.let_("off_diag", off);
        let maha = self.let_("maha", maha);
        let diag = self.let_("diag", diag);
        quote!(#half * (#off + #maha) + #diag)
    }

    /// KL(N(mu1, L1 L1ᵀ) ‖ N(mu2, diag(s2²))), like `tril_diag_kl`: no solve needed.
    pub fn tril_diag_kl(&mut self, mu1: &[Tok], l1: &Tri, mu2: &[Tok], s2: &[Tok]) -> Tok {
        let mut squares = Vec::new();
        let mut diag = Vec::new();
        for i in 0..mu1.len() {
            let pairs: Vec<_> = (0..i).map(|k| (&l1[i][k], &l1[i][k])).collect();
            let si = &s2[i];
            if let Some(row) = dot(&pairs) {
                let inv = self.let_(&format!("inv_{i}"), quote!(#si.recip()));
                squares.push(quote!((#row) * (#inv * #inv)));
            }
            let (a, b) = (&mu2[i], &mu1[i]);
            let z = self.let_(&format!("z_{i}"), quote!((#a - #b) / #si));
            squares.push(quote!(#z * #z));
            let lii = l1[i][i].clone();
            diag.push(self.diag_term(&lii, si, i));
        }
        let (half, squares, diag) = (self.num.half(), sum(self.num, &squares), sum(self.num, &diag));
        let squares = self.let_("squares", squares);
        let diag = self.let_("diag", diag);
        quote!(#half * #squares + #diag)
    }

    /// log N(x; mu, L Lᵀ), like `mvn_log_prob_tril`.
    pub fn tril_log_prob(&mut self, x: &[Tok], mu: &[Tok], l: &Tri) -> Tok {
        let d = x.len();
        let delta: Vec<Tok> = (0..d)
            .map(|i| {
                let (a, b) = (&x[i], &mu[i]);
                self.let_(&format!("dx_{i}"), quote!(#a - #b))
            })
            .collect();
        let z = self.solve_lower(l, &delta, "z");
        let sq = self.squares(&z);
        let sq = self.let_("maha", sq);
        let hld = self.half_log_det(l);
        let (half, ln2pi, dd) = (self.num.half(), self.num.k("LN_2PI"), self.num.count(super::index::lit(d)));
        quote!(-#half * #sq - #hld - #half * #dd * #ln2pi)
    }

    /// Entropy of N(mu, L Lᵀ), like `mvn_entropy_tril`.
    pub fn tril_entropy(&mut self, l: &Tri) -> Tok {
        let hld = self.half_log_det(l);
        let (half, one, ln2pi) = (self.num.half(), self.num.k("ONE"), self.num.k("LN_2PI"));
        let dd = self.num.count(super::index::lit(l.len()));
        quote!(#half * #dd * (#one + #ln2pi) + #hld)
    }
}
