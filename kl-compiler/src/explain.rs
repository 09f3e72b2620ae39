//! The closed form a query reduced to, in plain math, for `klc explain`.
//!
//! One formula per IR: the root's quantity indexed by its batch dims on the left, the kernel's
//! formula on the right, then the auxiliary definitions it uses, outermost first:
//!
//! ```text
//! KL[b] = Σ_{i<8} ( ½((m1−m2)/s2)² + ½u² − log1pmx(u) ), u = s1/s2 − 1
//! ```
//!
//! Each kernel is written the way `kl-runtime` evaluates it (the stable `log1pmx` forms), so the
//! formula explains the numbers the interpreter and the emitted code produce. Operands that are
//! not a parameter or a literal are given a name (the kernel's slot name, e.g. `s1 = √v`).
//! Broadcasts are implicit, as in the math.

use crate::ir::{fmt_f64, Ir, MvnParam, NodeId, NormalParam, Op};
use crate::shape::Dim;
use std::collections::{HashMap, HashSet};

/// The formula the IR computes, on one line. Total: IRs that still hold distributions or
/// queries (not simplified) are written with their op names.
pub fn formula(ir: &Ir) -> String {
    let Some(root) = ir.root else { return String::new() };
    let mut f = Formula::new(ir);
    let lhs = f.lhs(root);
    let rhs = f.expr(root);
    let mut out = format!("{lhs} = {rhs}");
    // Definitions were recorded innermost first; list them in the order a reader needs them.
    for def in f.defs.iter().rev() {
        out += ", ";
        out += def;
    }
    out
}

struct Formula<'a> {
    ir: &'a Ir,
    /// Names given to compound operands.
    names: HashMap<NodeId, String>,
    /// Every name in use: parameters, indices, definitions.
    taken: HashSet<String>,
    defs: Vec<String>,
}

impl<'a> Formula<'a> {
    fn new(ir: &'a Ir) -> Self {
        let taken = ir.params.keys().chain(ir.shapes.keys()).cloned().collect();
        Formula { ir, names: HashMap::new(), taken, defs: Vec::new() }
    }

    /// A name starting with `base` that nothing else uses yet.
    fn fresh(&mut self, base: &str) -> String {
        let candidates = [base.to_string(), format!("{base}′"), format!("{base}″")];
        let name = candidates
            .into_iter()
            .chain((2..).map(|n| format!("{base}{n}")))
            .find(|c| !self.taken.contains(c))
            .expect("an unbounded sequence of candidates");
        self.taken.insert(name.clone());
        name
    }

    /// A fresh index letter for a sum.
    fn index(&mut self) -> String {
        let base = ["i", "j", "k", "l", "r", "t"].into_iter().find(|c| !self.taken.contains(*c)).unwrap_or("i");
        self.fresh(base)
    }

    /// `KL[b, n]`: the quantity, indexed by the root's dims.
    fn lhs(&mut self, root: NodeId) -> String {
        let quantity = quantity(self.ir);
        let dims = self.ir.ty(root).tensor().map(|s| s.dims().to_vec()).unwrap_or_default();
        if dims.is_empty() {
            return quantity.to_string();
        }
        let idx: Vec<String> = dims
            .iter()
            .map(|d| match d {
                Dim::Symbol(s) => self.fresh(&s.to_lowercase()),
                Dim::Static(_) => self.fresh("n"),
            })
            .collect();
        format!("{quantity}[{}]", idx.join(", "))
    }

    /// Operand `slot` of `id` as an atom: a parameter, a literal, or a defined name.
    fn arg(&mut self, id: NodeId, slot: usize) -> String {
        let o = self.ir.operand(id, slot);
        let hint = self.ir.op(id).operand_names()[slot];
        self.atom(o, hint)
    }

    fn atom(&mut self, id: NodeId, hint: &str) -> String {
        match self.ir.op(id) {
            Op::Param(name) => name.clone(),
            Op::Literal(v) if *v < 0.0 => format!("(−{})", fmt_f64(-v)),
            Op::Literal(v) => fmt_f64(*v),
            Op::BroadcastTo(_) => self.atom(self.ir.operand(id, 0), hint),
            Op::Zeros(_) => "0".into(),
            Op::ScaleFrom(NormalParam::Scale) | Op::TrilFrom(MvnParam::ScaleTril) => self.arg(id, 0),
            _ => {
                if let Some(name) = self.names.get(&id) {
                    return name.clone();
                }
                let e = self.expr(id);
                let name = self.fresh(hint);
                self.defs.push(format!("{name} = {e}"));
                self.names.insert(id, name.clone());
                name
            }
        }
    }

    /// A name for a kernel-local quantity, defined as `body(name)`.
    fn define(&mut self, base: &str, body: impl FnOnce(&str) -> String) -> String {
        let name = self.fresh(base);
        let def = body(&name);
        self.defs.push(def);
        name
    }

    /// The event size `d` of a multivariate kernel: the last dim of operand `slot`.
    fn event_size(&self, id: NodeId, slot: usize) -> String {
        let o = self.ir.operand(id, slot);
        match self.ir.ty(o).tensor().and_then(|s| s.dims().last()) {
            Some(d) => d.to_string(),
            None => "d".into(),
        }
    }

    fn expr(&mut self, id: NodeId) -> String {
        let ir = self.ir;
        match ir.op(id) {
            Op::Param(_) | Op::Literal(_) | Op::Zeros(_) => self.atom(id, "x"),
            Op::BroadcastTo(_) => self.expr(ir.operand(id, 0)),
            Op::Diag => format!("diag({})", self.arg(id, 0)),
            Op::SumLast { k, full } => {
                let inner = self.expr(ir.operand(id, 0));
                if *k == 0 {
                    return inner;
                }
                let bounds: Vec<String> =
                    full.last(*k).dims().iter().map(|d| format!("{}<{d}", self.index())).collect();
                format!("Σ_{{{}}} ( {inner} )", bounds.join(", "))
            }
            Op::ScaleFrom(p) => {
                let v = self.arg(id, 0);
                match p {
                    NormalParam::Scale => v,
                    NormalParam::Var => format!("√{v}"),
                    NormalParam::LogScale => format!("exp({v})"),
                    NormalParam::Precision => format!("1/√{v}"),
                }
            }
            Op::TrilFrom(p) => {
                let m = self.arg(id, 0);
                match p {
                    MvnParam::Covariance => format!("chol({m})"),
                    MvnParam::Precision => format!("chol({m}⁻¹)"),
                    MvnParam::ScaleTril => m,
                }
            }
            Op::LowRankTril => {
                let (w, d) = (self.arg(id, 0), self.arg(id, 1));
                format!("chol({w}{w}ᵀ + diag({d}))")
            }
            // The kernel's own formula, from its descriptor.
            Op::Kernel(k) => {
                let k = *k;
                (k.kernel.formula)(&mut KernelArgs { f: self, id }, k.attrs)
            }
            Op::VectorKernel(k) => (k.formula)(&mut KernelArgs { f: self, id }),
            Op::TrilKl | Op::DiagTrilKl => {
                let (m1, a, m2, l2) = (self.arg(id, 0), self.arg(id, 1), self.arg(id, 2), self.arg(id, 3));
                let d = self.event_size(id, 0);
                let l1 = if *ir.op(id) == Op::DiagTrilKl { format!("diag({a})") } else { a };
                let (i, j) = (self.index(), self.index());
                let m = self.define("M", |m| format!("{m} = {l2}⁻¹{l1}"));
                let u = self.define("u", |u| format!("{u}_{i} = {m}_{i}{i} − 1"));
                format!(
                    "½Σ_{{{i}>{j}}} {m}_{i}{j}² + ½‖{l2}⁻¹({})‖² + Σ_{{{i}<{d}}} ( ½{u}_{i}² − log1pmx({u}_{i}) )",
                    sub(&m2, &m1)
                )
            }
            Op::SpdKl(p) => {
                let (m1, x1, m2, x2) = (self.arg(id, 0), self.arg(id, 1), self.arg(id, 2), self.arg(id, 3));
                let l = self.arg(id, 4);
                let (delta, mean) = match p {
                    MvnParam::Precision => (sub(&x2, &x1), format!("½({})ᵀ{x2}({})", sub(&m2, &m1), sub(&m2, &m1))),
                    _ => (sub(&x1, &x2), format!("½‖{l}⁻¹({})‖²", sub(&m2, &m1))),
                };
                let a = self.define("A", |a| format!("{a} = {l}⁻¹({delta}){l}⁻ᵀ"));
                format!("{mean} + ½(tr {a} − ln det(I + {a}))")
            }
            Op::MixedSpdKl(p) => {
                let (m1, x1, m2, x2) = (self.arg(id, 0), self.arg(id, 1), self.arg(id, 2), self.arg(id, 3));
                let l = self.arg(id, 4);
                let dm = sub(&m2, &m1);
                if *p == MvnParam::Precision {
                    // M = Σ2⁻¹Σ1 = (P1 C2)⁻¹, similar to (I + A)⁻¹ = I + W.
                    let a = self
                        .define("A", |a| format!("{a} = {l}ᵀ({x1}{x2} − I){l}⁻ᵀ, the product in doubled precision"));
                    let w = self.define("W", |w| format!("{w} = −(I + {a})⁻¹{a}"));
                    format!("½‖{l}⁻¹({dm})‖² + ½(tr {w} − ln det(I + {w}))")
                } else {
                    let a =
                        self.define("A", |a| format!("{a} = {l}⁻¹({x2}{x1} − I){l}, the product in doubled precision"));
                    format!("½({dm})ᵀ{x2}({dm}) + ½(tr {a} − ln det(I + {a}))")
                }
            }
            Op::LowRankKl => {
                let (m1, w1, d1) = (self.arg(id, 0), self.arg(id, 1), self.arg(id, 2));
                let (m2, w2, d2, l2) = (self.arg(id, 3), self.arg(id, 4), self.arg(id, 5), self.arg(id, 6));
                let a = self.define("A", |a| {
                    format!("{a} = {l2}⁻¹(({w1}−{w2}){w1}ᵀ + {w2}({w1}−{w2})ᵀ + diag({d1}−{d2})){l2}⁻ᵀ")
                });
                format!("½‖{l2}⁻¹({})‖² + ½(tr {a} − ln det(I + {a}))", sub(&m2, &m1))
            }
            Op::TrilDiagKl => {
                let (m1, l1, m2, s2) = (self.arg(id, 0), self.arg(id, 1), self.arg(id, 2), self.arg(id, 3));
                let d = self.event_size(id, 0);
                let (i, j) = (self.index(), self.index());
                let s2i = at(&s2, &i);
                let u = self.define("u", |u| format!("{u}_{i} = {} − 1", div(&format!("{l1}_{i}{i}"), &s2i)));
                format!(
                    "½Σ_{{{i}>{j}}} ({})² + ½Σ_{{{i}<{d}}} ({})² + Σ_{{{i}<{d}}} ( ½{u}_{i}² − log1pmx({u}_{i}) )",
                    div(&format!("{l1}_{i}{j}"), &s2i),
                    div(&paren(&sub(&at(&m2, &i), &at(&m1, &i))), &s2i)
                )
            }
            Op::TrilLogProb => {
                let (x, m, l) = (self.arg(id, 0), self.arg(id, 1), self.arg(id, 2));
                let d = self.event_size(id, 0);
                let i = self.index();
                format!("−½‖{l}⁻¹({})‖² − Σ_{{{i}<{d}}} ln {l}_{i}{i} − ({d}/2)ln(2π)", sub(&x, &m))
            }
            Op::TrilEntropy => {
                let l = self.arg(id, 0);
                let d = self.event_size(id, 0);
                let i = self.index();
                format!("({d}/2)(1 + ln(2π)) + Σ_{{{i}<{d}}} ln {l}_{i}{i}")
            }
            // Not simplified yet: distributions and queries by name.
            op => {
                let args: Vec<String> = (0..op.operand_names().len()).map(|slot| self.arg(id, slot)).collect();
                format!("{}({})", op.name(), args.join(", "))
            }
        }
    }
}

/// A kernel descriptor's view of the formula being written: its operands as atoms of node `id`.
struct KernelArgs<'f, 'a> {
    f: &'f mut Formula<'a>,
    id: NodeId,
}

impl crate::kernel::Formula for KernelArgs<'_, '_> {
    fn arg(&mut self, slot: usize) -> String {
        self.f.arg(self.id, slot)
    }

    fn define(&mut self, base: &str, body: &dyn Fn(&str) -> String) -> String {
        self.f.define(base, body)
    }
}

/// What the root computes, from the kernels it reduced to.
fn quantity(ir: &Ir) -> &'static str {
    for id in ir.topo_order().into_iter().rev() {
        match ir.op(id) {
            Op::Kl
            | Op::DiagTrilKl
            | Op::TrilDiagKl
            | Op::TrilKl
            | Op::SpdKl(_)
            | Op::MixedSpdKl(_)
            | Op::LowRankKl
            | Op::Zeros(_) => return "KL",
            Op::LogProb | Op::TrilLogProb => return "log_prob",
            Op::Entropy | Op::TrilEntropy => return "H",
            Op::Kernel(k) => return k.kernel.quantity.symbol(),
            Op::VectorKernel(k) => return k.quantity.symbol(),
            _ => {}
        }
    }
    "value"
}

/// `a − b`, dropping a literal zero.
pub(crate) fn sub(a: &str, b: &str) -> String {
    match (a, b) {
        (_, "0") => a.to_string(),
        ("0", _) => format!("−{b}"),
        _ => format!("{a}−{b}"),
    }
}

/// `a/b`, dropping a literal one.
pub(crate) fn div(a: &str, b: &str) -> String {
    if b == "1" {
        a.to_string()
    } else {
        format!("{a}/{b}")
    }
}

/// Parentheses around a compound term (a negated atom needs none before a division).
pub(crate) fn paren(e: &str) -> String {
    if e.trim_start_matches('−').chars().all(|c| c.is_alphanumeric() || "_.′″".contains(c)) {
        e.to_string()
    } else {
        format!("({e})")
    }
}

/// Element `i` of a vector atom; literals are the same for every `i`.
fn at(v: &str, i: &str) -> String {
    if v.starts_with(|c: char| c.is_ascii_digit() || c == '(') {
        v.to_string()
    } else {
        format!("{v}_{i}")
    }
}

/// The variance written from a parameter in its parameterization.
pub(crate) fn variance(p: NormalParam, a: &str) -> String {
    match p {
        NormalParam::Scale => format!("{a}²"),
        NormalParam::Var => a.to_string(),
        NormalParam::LogScale => format!("e^(2{a})"),
        NormalParam::Precision => format!("1/{a}"),
    }
}

#[cfg(test)]
mod tests {
    use super::formula;

    fn f(src: &str) -> String {
        let c = crate::compile(src, &Default::default()).unwrap_or_else(|e| panic!("{}", e.render_plain(src)));
        formula(&c.simplified)
    }

    #[test]
    fn diagonal_kl_is_a_sum_of_the_stable_univariate_form() {
        assert_eq!(
            f("Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [B, 8]"),
            "KL[b] = Σ_{i<8} ( ½((m1−m2)/s2)² + ½u² − log1pmx(u) ), u = s1/s2 − 1"
        );
    }

    #[test]
    fn compound_scales_get_the_slot_name_and_literals_fold() {
        assert_eq!(
            f("Normal(a, var=v) || Normal(0, 2) where a, v: [3]"),
            "KL[n] = ½(a/2)² + ½(ρ − 1) − ½ln ρ, ρ = v/2² (from the parameters as given)"
        );
    }

    #[test]
    fn standard_normal_prior_is_the_vae_form() {
        assert_eq!(
            f("Normal(m, s).to_event(1) || Normal(0, 1).expand([4]).to_event(1) where m, s: [B, 4]"),
            "KL[b] = Σ_{i<4} ( ½m² + ½u² − log1pmx(u) ), u = s − 1"
        );
    }

    #[test]
    fn names_never_collide_with_parameters() {
        assert_eq!(
            f("Normal(u, log_scale=i) || Normal(s1, 3) where u, i, s1: [N]"),
            "KL[n] = ½((u−s1)/3)² + ½(ρ − 1) − ½ln ρ, ρ = e^(2i)/3² (from the parameters as given)"
        );
    }

    #[test]
    fn univariate_log_prob_and_entropy() {
        assert_eq!(f("log_prob(Normal(m, s), x) where m, s, x: [T]"), "log_prob[t] = −½((x−m)/s)² − ln s − ½ln(2π)");
        assert_eq!(f("entropy(Normal(m, 2)) where m: [5]"), "H[n] = ½ + ½ln(2π) + ln 2");
        assert_eq!(f("entropy(Normal(0, precision=p)) where p: []"), "H = ½ + ½ln(2π) + ln s, s = 1/√p");
    }

    #[test]
    fn multivariate_kl_goes_through_lower_factors() {
        assert_eq!(
            f("MultivariateNormal(a, covariance_matrix=C) || MultivariateNormal(b, scale_tril=S) where a, b: [B, 3], C, S: [3, 3]"),
            "KL[b′] = ½Σ_{i>j} M_ij² + ½‖S⁻¹(b−a)‖² + Σ_{i<3} ( ½u_i² − log1pmx(u_i) ), \
             u_i = M_ii − 1, M = S⁻¹L1, L1 = chol(C)"
        );
    }

    #[test]
    fn a_covariance_against_a_precision_goes_through_their_product() {
        assert_eq!(
            f("MultivariateNormal(a, covariance_matrix=C) || MultivariateNormal(b, precision_matrix=P) where a, b: [B, 3], C, P: [3, 3]"),
            "KL[b′] = ½(b−a)ᵀP(b−a) + ½(tr A − ln det(I + A)), A = L⁻¹(PC − I)L, the product in doubled \
             precision, L = chol(P)"
        );
        assert_eq!(
            f("MultivariateNormal(a, precision_matrix=P) || MultivariateNormal(b, covariance_matrix=C) where a, b: [3], C, P: [3, 3]"),
            "KL = ½‖L⁻¹(b−a)‖² + ½(tr W − ln det(I + W)), W = −(I + A)⁻¹A, A = Lᵀ(PC − I)L⁻ᵀ, the product \
             in doubled precision, L = chol(C)"
        );
    }

    #[test]
    fn diagonal_against_full_covariance() {
        let out = f("Normal(a, s).to_event(1) || MultivariateNormal(b, scale_tril=L) where a, s, b: [3], L: [3, 3]");
        assert_eq!(
            out,
            "KL = ½Σ_{i>j} M_ij² + ½‖L⁻¹(b−a)‖² + Σ_{i<3} ( ½u_i² − log1pmx(u_i) ), u_i = M_ii − 1, M = L⁻¹diag(s)"
        );
        let out = f("MultivariateNormal(a, scale_tril=L) || Normal(0, s).to_event(1) where a, s: [3], L: [3, 3]");
        assert_eq!(
            out,
            "KL = ½Σ_{i>j} (L_ij/s_i)² + ½Σ_{i<3} (−a_i/s_i)² + Σ_{i<3} ( ½u_i² − log1pmx(u_i) ), u_i = L_ii/s_i − 1"
        );
    }

    #[test]
    fn multivariate_log_prob_and_low_rank_entropy() {
        assert_eq!(
            f("log_prob(MultivariateNormal(m, scale_tril=L), x) where m, x: [D], L: [D, D]"),
            "log_prob = −½‖L⁻¹(x−m)‖² − Σ_{i<D} ln L_ii − (D/2)ln(2π)"
        );
        assert_eq!(
            f("entropy(LowRankMultivariateNormal(m, cov_factor=W, cov_diag=d)) where m, d: [4], W: [4, 2]"),
            "H = (4/2)(1 + ln(2π)) + Σ_{i<4} ln L_ii, L = chol(WWᵀ + diag(d))"
        );
    }

    #[test]
    fn kl_of_a_distribution_with_itself_is_zero() {
        assert_eq!(f("Normal(m, s) || Normal(m, s) where m, s: [B]"), "KL[b] = 0");
    }

    #[test]
    fn unsimplified_queries_are_written_by_name() {
        let src = "Normal(m, s) || Normal(0, 1) where m, s: [B]";
        let c = crate::compile(src, &Default::default()).unwrap();
        let normal = crate::ir::Op::Dist(crate::family::normal_dist(crate::ir::NormalParam::Scale)).name();
        assert_eq!(formula(&c.lowered), format!("KL[b] = kl(p, q), q = {normal}(0, 1), p = {normal}(m, s)"));
    }
}
