//! Distribution families as data. A family is one file here holding one [`Family`]: its name,
//! its parameters and their parameterizations (positional or keyword, "exactly one of"), each
//! parameter's role (how its values are validated), its shape rule, its event rank, its
//! support and its structure. Registering it is one line in [`FAMILIES`].
//!
//! Lowering (argument binding, "did you mean", parameterization errors), shape checking, the
//! compile-time shape checks of `kl!` (the named `kl_runtime::cshape` function), pretty
//! printing and the structural simplification passes read these descriptors instead of
//! matching on family names.

pub mod bernoulli;
pub mod beta;
pub mod binomial;
pub mod categorical;
pub mod cauchy;
pub mod continuous_bernoulli;
pub mod cross;
pub mod dirichlet;
pub mod exponential;
pub mod gamma;
pub mod geometric;
pub mod gumbel;
pub mod half_normal;
pub mod laplace;
pub mod lognormal;
pub mod low_rank;
pub mod mvn;
pub mod normal;
mod normal_kernels;
pub mod pareto;
pub mod poisson;
pub mod student_t;
pub mod uniform;
pub mod von_mises;

pub use bernoulli::BERNOULLI;
pub use beta::BETA;
pub use binomial::BINOMIAL;
pub use categorical::{CATEGORICAL, ONE_HOT_CATEGORICAL};
pub use cauchy::CAUCHY;
pub use continuous_bernoulli::CONTINUOUS_BERNOULLI;
pub use dirichlet::DIRICHLET;
pub use exponential::EXPONENTIAL;
pub use gamma::{CHI2, GAMMA};
pub use geometric::GEOMETRIC;
pub use gumbel::{GUMBEL, WEIBULL};
pub use half_normal::HALF_NORMAL;
pub use laplace::LAPLACE;
pub use lognormal::LOG_NORMAL;
pub use low_rank::LOW_RANK;
pub use mvn::{param as mvn_param, MVN};
pub use normal::{dist as normal_dist, param as normal_param, NORMAL};
pub use pareto::PARETO;
pub use poisson::POISSON;
pub use student_t::STUDENT_T;
pub use uniform::UNIFORM;
pub use von_mises::VON_MISES;

use crate::diag::Diagnostic;
use crate::ir::{Ir, NodeId, Op, Role};
use crate::kernel::Kernel;
use crate::shape::{Dim, Shape};
use crate::span::Span;
use std::fmt;

/// Every family kl knows, in the order "did you mean" and the help texts list them.
pub const FAMILIES: &[&Family] = &[
    &NORMAL,
    &MVN,
    &LOW_RANK,
    &LAPLACE,
    &CAUCHY,
    &LOG_NORMAL,
    &EXPONENTIAL,
    &HALF_NORMAL,
    &UNIFORM,
    &PARETO,
    &GAMMA,
    &CHI2,
    &BETA,
    &CONTINUOUS_BERNOULLI,
    &DIRICHLET,
    &GUMBEL,
    &WEIBULL,
    &STUDENT_T,
    &VON_MISES,
    &BERNOULLI,
    &BINOMIAL,
    &GEOMETRIC,
    &POISSON,
    &CATEGORICAL,
    &ONE_HOT_CATEGORICAL,
];

/// The family called `name`.
pub fn lookup(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().copied().find(|f| f.name == name)
}

/// One distribution family.
#[derive(Debug)]
pub struct Family {
    /// The torch.distributions name.
    pub name: &'static str,
    /// The IR operand names, one per slot, in slot order.
    pub operands: &'static [&'static str],
    /// The parameters in torch's positional order, one slot per IR operand.
    pub slots: &'static [Slot],
    /// How many trailing dims of the parameters are the event (0 for scalar families).
    pub event_rank: usize,
    pub support: Support,
    /// What the structural passes may assume about the family.
    pub structure: Structure,
    /// The shape rule: batch and event shape from the operands' shapes, or the diagnostic.
    pub shape: fn(&ShapeCx) -> Result<(Shape, Shape), Diagnostic>,
    /// The `kl_runtime::cshape` const fn that applies the same rule to the static dims of Rust
    /// types (`kl!` with shapes from types). It takes the operands' shapes, then the keywords
    /// the slots in `cshape_keywords` were given with, then the source text.
    pub cshape: &'static str,
    pub cshape_keywords: &'static [usize],
    /// Whether its parameters obey a rule that only its kernels' checks state (between them,
    /// `Uniform`'s `high > low`; or beyond a role, `ContinuousBernoulli`'s `probs` in `(0, 1)`):
    /// rewrites that would drop every kernel (`P || P = 0`) keep them.
    pub joint_check: bool,
}

// Families are singletons: two are the same family when their names are.
impl PartialEq for Family {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// One parameter of a family: given one way (`loc`), or exactly one of several ways (`scale=`,
/// `var=`, `log_scale=`, `precision=`).
#[derive(Debug)]
pub struct Slot {
    /// The ways to give it; the first is the positional meaning when `positional`.
    pub alternatives: &'static [Alt],
    /// Whether it may be passed by position (slots that may form a prefix of the slot list).
    pub positional: bool,
    /// How a missing slot with several alternatives is reported (single-alternative slots say
    /// "`Family` needs `key`").
    pub missing: Option<Missing>,
    /// When set, a positional argument landing on this slot is this error (a parameter that
    /// must be named because its parameterizations are easy to confuse).
    pub keyword_only: Option<Message>,
    /// The value a slot not given takes (`StudentT`'s `loc = 0`, `scale = 1`), as torch's
    /// default arguments; `None`: the slot must be given.
    pub default: Option<f64>,
}

/// One way of giving a slot.
#[derive(Debug)]
pub struct Alt {
    pub keyword: &'static str,
    /// How a parameter passed here is validated.
    pub role: Role,
    /// The role when the value is written `diag(v)`, if different.
    pub diag_role: Option<Role>,
}

/// The diagnostic for a slot given none of its ways: "`{family}` needs {what}".
#[derive(Debug)]
pub struct Missing {
    /// `a scale`.
    pub what: &'static str,
    /// `no scale given`.
    pub label: &'static str,
    pub help: &'static str,
}

/// A fixed diagnostic text.
#[derive(Debug)]
pub struct Message {
    pub code: &'static str,
    pub message: &'static str,
    pub label: &'static str,
    pub help: &'static str,
}

/// The set a family's samples lie in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// (−∞, ∞) for each element.
    Real,
    /// ℝ^d: vectors of the event size.
    RealVector,
    /// (0, ∞).
    Positive,
    /// [0, ∞).
    NonNegative,
    /// [0, 1].
    UnitInterval,
    /// `[lo, hi]` between two parameters (any finite values), `Uniform`'s.
    Between { lo: &'static str, hi: &'static str },
    /// `[lo, ∞)` from a parameter `> 0`, `Pareto`'s.
    AtLeast { lo: &'static str },
    /// The simplex: vectors of the event size in `[0, 1]` that sum to 1 (`Dirichlet`'s).
    Simplex,
    /// `{0, 1}` (`Bernoulli`'s).
    Binary,
    /// `{0, 1, 2, ..}` (`Poisson`'s).
    Counts,
    /// `{0, 1, .., K − 1}`, `K` the last dim of the parameter (`Categorical`'s).
    Categories,
    /// One-hot vectors of the event size `K` (`OneHotCategorical`'s).
    OneHot,
}

/// One end of a support: a fixed value, or a parameter that may take any value in the open
/// range `(min, max)`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    At(f64),
    Param { min: f64, max: f64 },
}

impl End {
    /// Whether this end can be `<=` the end `other` for some values of the parameters.
    fn can_be_below(self, other: End) -> bool {
        match (self, other) {
            (End::At(a), End::At(b)) => a <= b,
            (End::Param { min, .. }, End::At(b)) => min < b,
            (End::At(a), End::Param { max, .. }) => a < max,
            (End::Param { min, .. }, End::Param { max, .. }) => min < max,
        }
    }
}

impl Support {
    /// The support as an interval of each element (`lo`, `hi`; ends open or closed do not
    /// matter here).
    fn interval(self) -> (End, End) {
        const ANY: End = End::Param { min: f64::NEG_INFINITY, max: f64::INFINITY };
        match self {
            Support::Real | Support::RealVector => (End::At(f64::NEG_INFINITY), End::At(f64::INFINITY)),
            Support::Positive | Support::NonNegative => (End::At(0.0), End::At(f64::INFINITY)),
            Support::UnitInterval | Support::Simplex | Support::Binary => (End::At(0.0), End::At(1.0)),
            Support::Counts | Support::Categories => (End::At(0.0), End::At(f64::INFINITY)),
            Support::OneHot => (End::At(0.0), End::At(1.0)),
            Support::Between { .. } => (ANY, ANY),
            Support::AtLeast { .. } => (End::Param { min: 0.0, max: f64::INFINITY }, End::At(f64::INFINITY)),
        }
    }

    /// Whether this support can lie in `other` up to a set of measure zero, for some values of
    /// the parameters of either, so that a density on it can have a finite KL against one on
    /// `other`. When it cannot, `KL(P ‖ Q)` is infinite for every parameter value; when it
    /// can only for some values (`Uniform ‖ Uniform`), the KL kernel returns `+∞` for the
    /// others.
    pub fn within(self, other: Support) -> bool {
        let ((a, b), (c, d)) = (self.interval(), other.interval());
        c.can_be_below(a) && b.can_be_below(d)
    }

    /// Whether the support is a set of points (a distribution on it has a mass function, not a
    /// density): a KL between a discrete and a continuous distribution is infinite in both
    /// directions, whatever the intervals.
    pub fn is_discrete(self) -> bool {
        matches!(self, Support::Binary | Support::Counts | Support::Categories | Support::OneHot)
    }

    /// How a `log_prob` value is validated on its own: it must lie in the support, or, where
    /// the support depends on the parameters, in the set every such support lies in (the
    /// kernel's check compares it with the parameters).
    pub fn value_role(self) -> Role {
        match self {
            Support::Real | Support::RealVector | Support::Between { .. } => Role::Real,
            Support::Positive | Support::AtLeast { .. } => Role::Positive,
            Support::NonNegative => Role::NonNegative,
            Support::UnitInterval | Support::Simplex => Role::UnitInterval,
            Support::Binary | Support::OneHot => Role::Binary,
            Support::Counts | Support::Categories => Role::Count,
        }
    }
}

impl fmt::Display for Support {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Support::Real => f.write_str("(−∞, ∞)"),
            Support::RealVector => f.write_str("ℝ^d"),
            Support::Positive => f.write_str("(0, ∞)"),
            Support::NonNegative => f.write_str("[0, ∞)"),
            Support::UnitInterval => f.write_str("[0, 1]"),
            Support::Between { lo, hi } => write!(f, "[{lo}, {hi}]"),
            Support::AtLeast { lo } => write!(f, "[{lo}, ∞)"),
            Support::Simplex => f.write_str("the simplex"),
            Support::Binary => f.write_str("{0, 1}"),
            Support::Counts => f.write_str("{0, 1, 2, ..}"),
            Support::Categories => f.write_str("{0, 1, .., K − 1}"),
            Support::OneHot => f.write_str("the one-hot vectors"),
        }
    }
}

/// Builds a tensor node from a distribution node (its standard deviation, its lower factor).
pub type Part = fn(&mut Ir, NodeId) -> NodeId;

/// Structural facts the simplification passes use, so that none of them has to know family
/// names: what a Gaussian family's covariance is, and how to get at it.
#[derive(Clone, Copy, Debug)]
pub enum Structure {
    /// Independent univariate normals (`to_event(1)` of it is a diagonal Gaussian), with the
    /// standard deviation of a node.
    DiagonalGaussian { scale: Part },
    /// A multivariate normal with a dense covariance, with the lower factor L (Σ = L Lᵀ) of a
    /// node.
    DenseGaussian { tril: Part },
    /// Nothing the Gaussian rewrites can use.
    Other,
}

impl Family {
    /// The standard-deviation accessor of a diagonal Gaussian family.
    pub fn diagonal_scale(&self) -> Option<Part> {
        match self.structure {
            Structure::DiagonalGaussian { scale } => Some(scale),
            _ => None,
        }
    }

    /// The lower-factor accessor of a dense Gaussian family.
    pub fn dense_tril(&self) -> Option<Part> {
        match self.structure {
            Structure::DenseGaussian { tril } => Some(tril),
            _ => None,
        }
    }
}

/// What a shape rule sees: the operands' shapes, spans and the chosen keyword of each slot.
pub struct ShapeCx<'a> {
    pub shapes: &'a [Shape],
    pub spans: &'a [Span],
    pub keywords: &'a [&'static str],
    /// The span of the distribution expression.
    pub span: Span,
}

impl Family {
    /// The slot with several alternatives, if any (its chosen index is `Dist::choice`).
    pub fn choice_slot(&self) -> Option<usize> {
        self.slots.iter().position(|s| s.alternatives.len() > 1)
    }

    /// Every keyword, slot by slot (the names "did you mean" searches).
    pub fn keywords(&self) -> Vec<&'static str> {
        self.slots.iter().flat_map(|s| s.alternatives.iter().map(|a| a.keyword)).collect()
    }

    /// The keywords of the leading slots that may be passed by position.
    pub fn positional(&self) -> Vec<&'static str> {
        self.slots.iter().take_while(|s| s.positional).map(|s| s.alternatives[0].keyword).collect()
    }
}

/// A distribution node: the family and, for a family with a choice slot, which of its
/// alternatives the user gave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dist {
    pub family: &'static Family,
    pub choice: u8,
}

impl Dist {
    /// The keyword slot `slot` was given with.
    pub fn keyword(&self, slot: usize) -> &'static str {
        let alts = self.family.slots[slot].alternatives;
        if alts.len() > 1 {
            alts[self.choice as usize].keyword
        } else {
            alts[0].keyword
        }
    }

    /// The keyword of the chosen alternative of the choice slot, if the family has one.
    pub fn chosen(&self) -> Option<&'static str> {
        self.family.choice_slot().map(|s| self.keyword(s))
    }

    /// The keywords the family's `cshape` function takes.
    pub fn cshape_keywords(&self) -> Vec<&'static str> {
        self.family.cshape_keywords.iter().map(|&s| self.keyword(s)).collect()
    }
}

/// A parameter given one way, by position or by its keyword, validated by `role`:
/// `plain_slot!("rate", Positive)`.
macro_rules! plain_slot {
    ($keyword:literal, $role:ident) => {
        $crate::family::plain_slot!($keyword, $role, None)
    };
    ($keyword:literal, $role:ident, default = $v:expr) => {
        $crate::family::plain_slot!($keyword, $role, Some($v))
    };
    ($keyword:literal, $role:ident, $default:expr) => {
        $crate::family::Slot {
            alternatives: &[$crate::family::Alt { keyword: $keyword, role: $crate::ir::Role::$role, diag_role: None }],
            positional: true,
            missing: None,
            keyword_only: None,
            default: $default,
        }
    };
}
pub(crate) use plain_slot;

/// `loc`: any finite value, the first positional argument.
pub(crate) const LOC: Slot = plain_slot!("loc", Real);

/// `scale`: one way only, `> 0`, the second positional argument.
pub(crate) const SCALE: Slot = plain_slot!("scale", Positive);

/// `probs=` (in `[0, 1]`) or `logits=` (finite): exactly one, by keyword, as torch requires.
/// Their index is `Dist::choice`: [`PROBS`], [`LOGITS`].
pub(crate) const PROBS_OR_LOGITS: Slot = Slot {
    alternatives: &[
        Alt { keyword: "probs", role: Role::UnitInterval, diag_role: None },
        Alt { keyword: "logits", role: Role::Real, diag_role: None },
    ],
    positional: false,
    missing: Some(Missing {
        what: "`probs=` or `logits=`",
        label: "neither `probs=` nor `logits=` given",
        help: "give exactly one of `probs=` (a probability) or `logits=` (its log-odds)",
    }),
    keyword_only: Some(Message {
        code: "param::positional_probs",
        message: "`probs` and `logits` must be passed by keyword",
        label: "positional probability",
        help: "write `probs=` or `logits=`: a log-odds read as a probability is the classic bug",
    }),
    default: None,
};

/// `Dist::choice` of a family with a [`PROBS_OR_LOGITS`] slot given by `probs=`.
pub(crate) const PROBS: u8 = 0;
/// ... and by `logits=`.
pub(crate) const LOGITS: u8 = 1;

/// The kernels of a [`PROBS_OR_LOGITS`] family's KL, one per way P and Q are given (each reads
/// its parameters as given).
pub(crate) struct ByParams {
    pub probs: &'static Kernel,
    pub probs_logits: &'static Kernel,
    pub logits_probs: &'static Kernel,
    pub logits: &'static Kernel,
}

impl ByParams {
    /// The KL kernel node at `at`, over P's and Q's operands.
    pub(crate) fn kl(&self, ir: &mut Ir, at: crate::rules::Site) -> Option<NodeId> {
        let kernel = match (choice(ir, at.p), choice(ir, at.other)) {
            (PROBS, PROBS) => self.probs,
            (PROBS, _) => self.probs_logits,
            (_, PROBS) => self.logits_probs,
            _ => self.logits,
        };
        build::pair(ir, at, kernel)
    }
}

/// `probs` or `logits`, as a [`PROBS_OR_LOGITS`] node was given.
pub(crate) fn by_param(ir: &Ir, node: NodeId, probs: &'static Kernel, logits: &'static Kernel) -> &'static Kernel {
    if choice(ir, node) == LOGITS {
        logits
    } else {
        probs
    }
}

/// How a distribution node's parameterized slot was given (`Dist::choice`; 0 for the families
/// without alternatives).
pub(crate) fn choice(ir: &Ir, node: NodeId) -> u8 {
    match ir.op(node) {
        Op::Dist(d) => d.choice,
        _ => 0,
    }
}

/// The rule builders of elementwise families whose kernels take the operands in slot order.
pub(crate) mod build {
    use crate::ir::{Ir, NodeId, Op};
    use crate::kernel::{Kernel, KernelOp};
    use crate::rules::Site;
    use crate::span::Span;

    /// A kernel node over `ops`, in slot order.
    pub fn node(ir: &mut Ir, span: Span, kernel: &'static Kernel, ops: &[NodeId]) -> NodeId {
        ir.add(Op::Kernel(KernelOp::new(kernel)), span, ops)
    }

    /// `kernel(p's operands.., q's operands..)`: a KL.
    pub fn pair(ir: &mut Ir, at: Site, kernel: &'static Kernel) -> Option<NodeId> {
        let mut ops = ir.operands(at.p);
        ops.extend(ir.operands(at.other));
        Some(node(ir, at.span, kernel, &ops))
    }

    /// `kernel(x, p's operands..)`: a log-density.
    pub fn value(ir: &mut Ir, at: Site, kernel: &'static Kernel) -> Option<NodeId> {
        let mut ops = vec![at.other];
        ops.extend(ir.operands(at.p));
        Some(node(ir, at.span, kernel, &ops))
    }

    /// `kernel(p's operands in `slots`)`: an entropy (which may not read every parameter).
    pub fn of(ir: &mut Ir, at: Site, kernel: &'static Kernel, slots: &[usize]) -> Option<NodeId> {
        let all = ir.operands(at.p);
        let ops: Vec<NodeId> = slots.iter().map(|&s| all[s]).collect();
        Some(node(ir, at.span, kernel, &ops))
    }
}

/// Rule: a one-parameter scalar family's batch is its parameter's shape.
/// (The `kl_runtime::cshape::single` const fn applies it to Rust types.)
pub(crate) fn single_shape(cx: &ShapeCx) -> Result<(Shape, Shape), Diagnostic> {
    Ok((cx.shapes[0].clone(), Shape::scalar()))
}

/// Rule: a scalar family's two parameters broadcast against each other; the event is a scalar.
/// (The `kl_runtime::cshape::normal` and `pair` const fns apply the same rule to Rust types.)
pub(crate) fn loc_scale_shape(cx: &ShapeCx) -> Result<(Shape, Shape), Diagnostic> {
    broadcast_shape(cx)
}

/// Rule: a scalar family's parameters all broadcast together; the event is a scalar. A failure
/// names the first parameter that does not broadcast with those before it, and one of those
/// it clashes with. (`kl_runtime::cshape::triple` for three parameters.)
pub(crate) fn broadcast_shape(cx: &ShapeCx) -> Result<(Shape, Shape), Diagnostic> {
    let mut batch = cx.shapes[0].clone();
    for i in 1..cx.shapes.len() {
        let (s, ks) = (&cx.shapes[i], cx.keywords[i]);
        batch = match batch.broadcast(s) {
            Some(b) => b,
            None => {
                let j = (0..i).find(|&j| cx.shapes[j].broadcast(s).is_none()).unwrap_or(0);
                let (o, ko) = (&cx.shapes[j], cx.keywords[j]);
                return Err(Diagnostic::new(
                    "shape::param_broadcast",
                    cx.span,
                    format!("`{ko}` has shape {o} and `{ks}` has shape {s}; they do not broadcast"),
                )
                .label("parameters do not broadcast")
                .note(cx.spans[j], format!("{ko}: {o}"))
                .note(cx.spans[i], format!("{ks}: {s}"))
                .help("trailing dims must be equal, or 1; a symbol broadcasts only with itself or 1"));
            }
        };
    }
    Ok((batch, Shape::scalar()))
}

/// Rule: a simplex family's parameter has at least one dim, the number of categories `K`: the
/// batch is the rest, the event `[K]`. (The `kl_runtime::cshape::simplex` const fn applies it
/// to Rust types.)
pub(crate) fn simplex_shape(cx: &ShapeCx) -> Result<(Shape, Shape), Diagnostic> {
    let c = &cx.shapes[0];
    let Some(k) = c.dims().last().cloned() else {
        return Err(Diagnostic::new(
            "shape::simplex_scalar",
            cx.spans[0],
            format!(
                "the `{}` of a distribution on the simplex needs at least one dim (the number of categories K), but it is a scalar (shape [])",
                cx.keywords[0]
            ),
        )
        .label("scalar parameter")
        .note(cx.span, "in this distribution"));
    };
    Ok((c.drop_last(1), Shape(vec![k])))
}

/// Rule: a family over the categories of its parameter's last dim has a parameter of at least
/// one dim, `K`: the batch is the rest, the event a scalar (the category). (The
/// `kl_runtime::cshape::categories` const fn applies it to Rust types.)
pub(crate) fn categories_shape(cx: &ShapeCx) -> Result<(Shape, Shape), Diagnostic> {
    let c = &cx.shapes[0];
    if c.rank() == 0 {
        return Err(Diagnostic::new(
            "shape::categories_scalar",
            cx.spans[0],
            format!(
                "the `{}` of a distribution over categories needs at least one dim (the number of categories K), but it is a scalar (shape [])",
                cx.keywords[0]
            ),
        )
        .label("scalar parameter")
        .note(cx.span, "in this distribution"));
    }
    Ok((c.drop_last(1), Shape::scalar()))
}

/// Rule: a multivariate family's `loc` has at least one dim, the event size `d`.
pub(crate) fn loc_event_dim(loc: &Shape, span: Span, loc_span: Span) -> Result<Dim, Diagnostic> {
    loc.dims().last().cloned().ok_or_else(|| {
        Diagnostic::new(
            "shape::mvn_loc_scalar",
            loc_span,
            "the `loc` of a multivariate normal needs at least one dim (the event size d), but it is a scalar (shape [])",
        )
        .label("scalar loc")
        .note(span, "in this distribution")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supports_nest_up_to_measure_zero() {
        assert!(!Support::Real.within(Support::NonNegative));
        assert!(!Support::Real.within(Support::Positive));
        assert!(Support::NonNegative.within(Support::Real));
        // [0, ∞) and (0, ∞) differ by a point.
        assert!(Support::NonNegative.within(Support::Positive));
        assert!(Support::Positive.within(Support::NonNegative));
        // Supports that depend on the parameters: nested for some values, or for none.
        let (uniform, pareto) = (Support::Between { lo: "low", hi: "high" }, Support::AtLeast { lo: "scale" });
        assert!(uniform.within(uniform) && uniform.within(Support::Real) && uniform.within(Support::Positive));
        assert!(!Support::Real.within(uniform) && !Support::NonNegative.within(uniform));
        assert!(pareto.within(pareto) && pareto.within(Support::Positive) && pareto.within(Support::Real));
        assert!(!Support::NonNegative.within(pareto) && !Support::Positive.within(pareto));
        assert!(uniform.within(pareto) && !pareto.within(uniform));
        assert!(Support::UnitInterval.within(Support::Positive) && !Support::Positive.within(Support::UnitInterval));
        assert!(Support::UnitInterval.within(uniform) && uniform.within(Support::UnitInterval));
    }

    #[test]
    fn every_family_is_consistent() {
        for f in FAMILIES {
            assert_eq!(f.slots.len(), f.operands.len(), "{}: one operand per slot", f.name);
            assert!(f.slots.iter().all(|s| !s.alternatives.is_empty()), "{}", f.name);
            // Positional slots form a prefix.
            let k = f.positional().len();
            assert!(f.slots[k..].iter().all(|s| !s.positional), "{}", f.name);
            // At most one choice slot (its index is the node's `choice`).
            assert!(f.slots.iter().filter(|s| s.alternatives.len() > 1).count() <= 1, "{}", f.name);
            assert!(f.slots.iter().all(|s| s.alternatives.len() == 1 || s.missing.is_some()), "{}", f.name);
            let mut keys = f.keywords();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), f.keywords().len(), "{}: keywords are unique", f.name);
            assert_eq!(lookup(f.name), Some(*f));
        }
        let mut names: Vec<_> = FAMILIES.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FAMILIES.len(), "family names are unique");
    }
}
