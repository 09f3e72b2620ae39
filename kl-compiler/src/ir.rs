//! The IR: a petgraph DAG of distribution and tensor nodes addressed by typed handles.
//!
//! Operands are edges whose weight is the operand's slot, so a node's operand list is ordered.
//! Every node keeps the span of the source that produced it, and (after checking) its type.
//!
//! Before simplification the graph holds distributions (`Normal`, `Mvn`, ...) and queries
//! (`Kl`, `LogProb`, `Entropy`); simplification rewrites queries into closed-form tensor
//! kernels (`NormalKl`, `TrilKl`, `SumLast`, ...), which the interpreter and emitter execute.

pub use crate::family::Dist;
use crate::shape::Shape;
use crate::span::Span;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::collections::BTreeMap;
use std::fmt;

/// Handle of a node.
pub type NodeId = NodeIndex<u32>;

/// How a `Normal`'s second parameter is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NormalParam {
    /// standard deviation
    Scale,
    /// variance: scale = sqrt(var)
    Var,
    /// scale = exp(log_scale)
    LogScale,
    /// scale = 1 / sqrt(precision)
    Precision,
}

impl NormalParam {
    pub const ALL: [NormalParam; 4] = [Self::Scale, Self::Var, Self::LogScale, Self::Precision];

    /// The runtime's name for it.
    pub fn runtime(self) -> kl_runtime::ScaleParam {
        match self {
            Self::Scale => kl_runtime::ScaleParam::Scale,
            Self::Var => kl_runtime::ScaleParam::Var,
            Self::LogScale => kl_runtime::ScaleParam::LogScale,
            Self::Precision => kl_runtime::ScaleParam::Precision,
        }
    }

    /// The name of its `kl_runtime::ScaleParam` variant, for emitted code.
    pub fn runtime_name(self) -> &'static str {
        match self {
            Self::Scale => "Scale",
            Self::Var => "Var",
            Self::LogScale => "LogScale",
            Self::Precision => "Precision",
        }
    }

    pub fn keyword(self) -> &'static str {
        match self {
            Self::Scale => "scale",
            Self::Var => "var",
            Self::LogScale => "log_scale",
            Self::Precision => "precision",
        }
    }
}

/// See [`Op::block_adjoint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockAdjoint {
    pub runtime: &'static str,
    pub scratch: Option<&'static str>,
    pub grads: usize,
}

/// How a `MultivariateNormal`'s matrix is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MvnParam {
    /// Σ = C
    Covariance,
    /// Σ = L Lᵀ
    ScaleTril,
    /// Σ = P⁻¹
    Precision,
}

impl MvnParam {
    pub const ALL: [MvnParam; 3] = [Self::Covariance, Self::ScaleTril, Self::Precision];

    pub fn keyword(self) -> &'static str {
        match self {
            Self::Covariance => "covariance_matrix",
            Self::ScaleTril => "scale_tril",
            Self::Precision => "precision_matrix",
        }
    }
}

/// What a node computes. Operand order is given per variant.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    // ---- values ----
    /// A named input tensor.
    Param(String),
    /// A scalar constant.
    Literal(f64),
    /// `[v]`: the matrix with `v` on its diagonal, `[.., d] -> [.., d, d]`.
    Diag,
    /// `[x]`: `x` broadcast to the given shape.
    BroadcastTo(Shape),

    // ---- distributions ----
    /// A base family (`crate::family`): one operand per slot of the family, in slot order.
    Dist(Dist),
    /// `[base]`: reinterpret the last `n` batch dims as event dims.
    Independent(usize),
    /// `[base]`: broadcast the batch shape to this shape.
    Expand(Shape),

    // ---- queries ----
    /// `[p, q]`: KL(p ‖ q)
    Kl,
    /// `[dist, x]`
    LogProb,
    /// `[dist]`
    Entropy,

    // ---- closed-form kernels (after simplification) ----
    /// `[p]`: the standard deviation from another parameterization, elementwise.
    ScaleFrom(NormalParam),
    /// `[matrix]`: the lower Cholesky-type factor L with Σ = L Lᵀ.
    TrilFrom(MvnParam),
    /// `[cov_factor, cov_diag]`: chol(W Wᵀ + diag(D)).
    LowRankTril,
    /// `[m1, s1, m2, L2]`: KL(N(m1, diag(s1²)) ‖ N(m2, L2 L2ᵀ)) per batch element.
    DiagTrilKl,
    /// `[m1, L1, m2, s2]`
    TrilDiagKl,
    /// `[m1, L1, m2, L2]`
    TrilKl,
    /// `[m1, X1, m2, X2, L]`: KL between two multivariate normals given by the same kind of
    /// matrix (covariances, or precisions), from the difference of the matrices; `L` is the
    /// Cholesky factor of the reference matrix (`C2`, or `P1`).
    SpdKl(MvnParam),
    /// `[m1, X1, m2, X2, L]`: KL between a multivariate normal given by a precision matrix and
    /// one given by a covariance matrix (the parameter names `p`'s: `Precision` for `P1 ‖ C2`,
    /// `Covariance` for `C1 ‖ P2`), from the product `P C − I` formed in doubled precision; `L`
    /// is the Cholesky factor of `X2`.
    MixedSpdKl(MvnParam),
    /// `[m1, W1, D1, m2, W2, D2, L2]`: KL between two low-rank normals of the same rank, from
    /// differences of their parameters; `L2` is the factor of `W2 W2ᵀ + D2`.
    LowRankKl,
    /// `[x, m, L]`
    TrilLogProb,
    /// `[L]`
    TrilEntropy,
    /// An elementwise kernel given by its descriptor (`crate::kernel`); operands as it names them.
    Kernel(crate::kernel::KernelOp),
    /// A kernel over the last dim of its row operands, one scalar per batch element, given by its
    /// descriptor (`crate::kernel::VectorKernel`); operands as it names them.
    VectorKernel(&'static crate::kernel::VectorKernel),
    /// `[x]`: broadcast `x` to `full`, then sum its last `k` dims.
    SumLast { k: usize, full: Shape },
    /// No operands: zeros of the node's shape.
    Zeros(Shape),
}

/// Core ranks of an elementwise kernel's operands (all scalars), for its signature.
static SCALAR_CORES: [usize; 8] = [0; 8];

/// The core (per batch element) signature of a tensor kernel: how many trailing dims each
/// operand consumes, and the trailing dims of the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub inputs: &'static [usize],
    pub output: CoreOut,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreOut {
    /// One scalar per batch element.
    Scalar,
    /// A `d x d` matrix, `d` the last core dim of operand `from`.
    Square { from: usize },
}

impl Op {
    /// The operand names, in slot order (also the arity).
    pub fn operand_names(&self) -> &'static [&'static str] {
        use Op::*;
        match self {
            Param(_) | Literal(_) | Zeros(_) => &[],
            Diag => &["v"],
            BroadcastTo(_) | SumLast { .. } => &["x"],
            Dist(d) => d.family.operands,
            Independent(_) | Expand(_) => &["base"],
            Kernel(k) => k.kernel.operands,
            VectorKernel(k) => k.operands,
            Kl => &["p", "q"],
            LogProb => &["dist", "value"],
            Entropy => &["dist"],
            ScaleFrom(_) => &["p"],
            TrilFrom(_) => &["matrix"],
            LowRankTril => &["cov_factor", "cov_diag"],
            DiagTrilKl => &["m1", "s1", "m2", "L2"],
            TrilDiagKl => &["m1", "L1", "m2", "s2"],
            TrilKl => &["m1", "L1", "m2", "L2"],
            SpdKl(_) | MixedSpdKl(_) => &["m1", "X1", "m2", "X2", "L"],
            LowRankKl => &["m1", "W1", "D1", "m2", "W2", "D2", "L2"],
            TrilLogProb => &["x", "m", "L"],
            TrilEntropy => &["L"],
        }
    }

    pub fn is_distribution(&self) -> bool {
        matches!(self, Op::Dist(_) | Op::Independent(_) | Op::Expand(_))
    }

    /// The parameterization of a `Normal` node.
    pub fn as_normal(&self) -> Option<NormalParam> {
        match self {
            Op::Dist(d) if *d.family == crate::family::NORMAL => Some(crate::family::normal_param(d.choice)),
            _ => None,
        }
    }

    /// The parameterization of a `MultivariateNormal` node.
    pub fn as_mvn(&self) -> Option<MvnParam> {
        match self {
            Op::Dist(d) if *d.family == crate::family::MVN => Some(crate::family::mvn_param(d.choice)),
            _ => None,
        }
    }

    /// Whether this is a `LowRankMultivariateNormal` node.
    pub fn is_low_rank(&self) -> bool {
        matches!(self, Op::Dist(d) if *d.family == crate::family::LOW_RANK)
    }

    /// The base family of a distribution node.
    pub fn family(&self) -> Option<&'static crate::family::Family> {
        match self {
            Op::Dist(d) => Some(d.family),
            _ => None,
        }
    }

    pub fn is_query(&self) -> bool {
        matches!(self, Op::Kl | Op::LogProb | Op::Entropy)
    }

    /// Core signature of the batched tensor kernels (`None` for the other ops).
    pub fn signature(&self) -> Option<Signature> {
        use Op::*;
        let scalar = |inputs| Some(Signature { inputs, output: CoreOut::Scalar });
        match self {
            ScaleFrom(_) => scalar(&[0]),
            DiagTrilKl => scalar(&[1, 1, 1, 2]),
            TrilDiagKl => scalar(&[1, 2, 1, 1]),
            TrilKl => scalar(&[1, 2, 1, 2]),
            SpdKl(_) | MixedSpdKl(_) => scalar(&[1, 2, 1, 2, 2]),
            LowRankKl => scalar(&[1, 2, 1, 1, 2, 1, 2]),
            TrilLogProb => scalar(&[1, 1, 2]),
            TrilEntropy => scalar(&[2]),
            // Elementwise: every operand is a scalar per element.
            Kernel(k) => scalar(&SCALAR_CORES[..k.kernel.operands.len()]),
            VectorKernel(k) => scalar(k.cores),
            TrilFrom(_) => Some(Signature { inputs: &[2], output: CoreOut::Square { from: 0 } }),
            // W is [d, r]: the factor is d x d, d the first of W's two core dims.
            LowRankTril => Some(Signature { inputs: &[2, 1], output: CoreOut::Square { from: 1 } }),
            _ => None,
        }
    }

    /// The runtime adjoint of a multivariate kernel op, for emitted code (the interpreter
    /// calls the same functions): `runtime(inputs.., d, g, [grads..], scratch)`, adding `g ·` the
    /// partials into one gradient block per differentiated operand (the first `grads`; a
    /// trailing Cholesky factor is a computational aid and gets none), with a scratch buffer of
    /// `scratch(d)` elements; without `scratch`, `runtime(inputs.., d, g, grad)` for one operand.
    pub fn block_adjoint(&self) -> Option<BlockAdjoint> {
        use Op::*;
        let (runtime, scratch, grads) = match self {
            TrilKl => ("mvn_kl_tril_grad", Some("scratch_len_mvn_kl_tril_grad"), 4),
            DiagTrilKl => ("mvn_kl_diag_tril_grad", Some("scratch_len_mvn_kl_diag_grad"), 4),
            TrilDiagKl => ("mvn_kl_tril_diag_grad", Some("scratch_len_mvn_kl_diag_grad"), 4),
            SpdKl(MvnParam::Precision) => ("precision_kl_grad", Some("scratch_len_precision_kl_grad"), 4),
            SpdKl(_) => ("cov_kl_grad", Some("scratch_len_cov_kl_grad"), 4),
            MixedSpdKl(MvnParam::Precision) => ("precision_cov_kl_grad", Some("scratch_len_mixed_kl_grad"), 4),
            MixedSpdKl(_) => ("cov_precision_kl_grad", Some("scratch_len_mixed_kl_grad"), 4),
            LowRankKl => ("low_rank_kl_grad", Some("scratch_len_low_rank_kl_grad"), 6),
            TrilLogProb => ("mvn_log_prob_tril_grad", Some("scratch_len_mvn_log_prob_tril_grad"), 3),
            TrilEntropy => ("mvn_entropy_tril_grad", None, 1),
            _ => return None,
        };
        Some(BlockAdjoint { runtime, scratch, grads })
    }

    /// The runtime adjoint of a factor op (`L = chol(C)`, `chol(P⁻¹)`, `chol(W Wᵀ + diag(D))`),
    /// for emitted code (the interpreter calls the same functions):
    /// `runtime(operands.., L, d, Ḡ, [one gradient per operand], scratch)` adds the gradient of
    /// `Σ Ḡ ∘ L` (the lower triangle) into the operands' blocks, with `scratch(d)` elements of
    /// scratch. `None` for a `scale_tril`, which is its own factor.
    pub fn factor_adjoint(&self) -> Option<BlockAdjoint> {
        let (runtime, scratch) = match self {
            Op::TrilFrom(MvnParam::Covariance) => ("cholesky_grad", "scratch_len_cholesky_grad"),
            Op::TrilFrom(MvnParam::Precision) => ("tril_from_precision_grad", "scratch_len_tril_from_precision_grad"),
            Op::LowRankTril => ("low_rank_tril_grad", "scratch_len_cholesky_grad"),
            _ => return None,
        };
        Some(BlockAdjoint { runtime, scratch: Some(scratch), grads: self.operand_names().len() })
    }

    /// A short name for printing.
    pub fn name(&self) -> String {
        use Op::*;
        match self {
            Param(n) => format!("param {n}"),
            Literal(v) => format!("literal {}", fmt_f64(*v)),
            Diag => "diag".into(),
            BroadcastTo(s) => format!("broadcast_to {s}"),
            Dist(d) => d.family.name.into(),
            Independent(n) => format!("Independent[{n}]"),
            Expand(s) => format!("Expand{s}"),
            Kl => "kl".into(),
            LogProb => "log_prob".into(),
            Entropy => "entropy".into(),
            ScaleFrom(p) => format!("scale_from_{}", p.keyword()),
            // Of a covariance, the factor is the plain Cholesky factor of the matrix.
            TrilFrom(MvnParam::Covariance) => "cholesky".into(),
            TrilFrom(p) => format!("tril_from_{}", p.keyword()),
            LowRankTril => "tril_from_low_rank".into(),
            DiagTrilKl => "diag_tril_kl".into(),
            TrilDiagKl => "tril_diag_kl".into(),
            TrilKl => "tril_kl".into(),
            LowRankKl => "low_rank_kl".into(),
            MixedSpdKl(MvnParam::Precision) => "precision_covariance_kl".into(),
            MixedSpdKl(_) => "covariance_precision_kl".into(),
            SpdKl(p) => format!(
                "{}_kl",
                match p {
                    MvnParam::Precision => "precision",
                    _ => "covariance",
                }
            ),
            TrilLogProb => "tril_log_prob".into(),
            TrilEntropy => "tril_entropy".into(),
            Kernel(k) => k.kernel.name.into(),
            VectorKernel(k) => k.name.into(),
            SumLast { k, full } => format!("sum_last[{k}] of {full}"),
            Zeros(s) => format!("zeros {s}"),
        }
    }
}

/// A literal printed so that it reads back to the same value.
pub fn fmt_f64(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:?}")
    }
}

/// The type a node has after checking.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ty {
    /// Not inferred yet, or inference failed for this node.
    #[default]
    Unknown,
    /// A tensor of this shape.
    Tensor(Shape),
    /// A distribution.
    Dist { batch: Shape, event: Shape },
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Unknown => f.write_str("?"),
            Ty::Tensor(s) => write!(f, "{s}"),
            Ty::Dist { batch, event } => write!(f, "batch {batch}, event {event}"),
        }
    }
}

impl Ty {
    pub fn tensor(&self) -> Option<&Shape> {
        match self {
            Ty::Tensor(s) => Some(s),
            _ => None,
        }
    }

    pub fn dist(&self) -> Option<(&Shape, &Shape)> {
        match self {
            Ty::Dist { batch, event } => Some((batch, event)),
            _ => None,
        }
    }
}

/// A node of the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub op: Op,
    pub span: Span,
    pub ty: Ty,
}

/// What a parameter is used as; decides how its values are validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Any finite number (locations, values, log-scales).
    Real,
    /// Strictly positive (scale, variance, precision, cov_diag).
    Positive,
    /// `>= 0` (a `log_prob` value of a family supported on `[0, ∞)`).
    NonNegative,
    /// In `[0, 1]` (a `log_prob` value of a family supported on the unit interval).
    UnitInterval,
    /// 0 or 1 (a `Bernoulli` `log_prob` value).
    Binary,
    /// A non-negative integer (a `Poisson` `log_prob` value).
    Count,
    /// A symmetric positive-definite matrix (covariance, precision).
    SpdMatrix,
    /// Lower triangular with a positive diagonal.
    ScaleTril,
    /// `diag(v)` used as a positive-definite matrix: `v` positive.
    PositiveDiag,
}

/// The rule of an elementwise role: the runtime check (for the interpreter as a function, for
/// emitted code by name) and its branch-free all-valid form for the fast paths.
pub struct ElementRule {
    /// `kl_runtime::{check}(param, index, value)`.
    pub check: &'static str,
    /// `kl_runtime::{all}(values) -> bool`.
    pub all: &'static str,
    pub f64: fn(&str, &[usize], f64) -> Result<(), kl_runtime::Error>,
    pub f32: fn(&str, &[usize], f32) -> Result<(), kl_runtime::Error>,
}

macro_rules! element_rule {
    ($check:ident, $all:ident) => {
        ElementRule {
            check: stringify!($check),
            all: stringify!($all),
            f64: kl_runtime::$check,
            f32: kl_runtime::$check,
        }
    };
}

impl Role {
    /// The rule a role applies to each element on its own; `None` for matrix roles, which
    /// check blocks.
    pub fn element_rule(self) -> Option<&'static ElementRule> {
        static FINITE: ElementRule = element_rule!(check_finite, all_finite);
        static POSITIVE: ElementRule = element_rule!(check_positive, all_positive);
        static NONNEGATIVE: ElementRule = element_rule!(check_nonnegative, all_nonnegative);
        static UNIT: ElementRule = element_rule!(check_unit_interval, all_unit_interval);
        static BINARY: ElementRule = element_rule!(check_binary, all_binary);
        static COUNT: ElementRule = element_rule!(check_count, all_counts);
        match self {
            Role::Real => Some(&FINITE),
            Role::Positive | Role::PositiveDiag => Some(&POSITIVE),
            Role::NonNegative => Some(&NONNEGATIVE),
            Role::UnitInterval => Some(&UNIT),
            Role::Binary => Some(&BINARY),
            Role::Count => Some(&COUNT),
            Role::SpdMatrix | Role::ScaleTril => None,
        }
    }
}

impl ElementRule {
    /// Check one element, in the precision of `T`.
    pub fn apply<T: kl_runtime::Real>(&self, param: &str, index: &[usize], v: T) -> Result<(), kl_runtime::Error> {
        let any: &dyn std::any::Any = &v;
        match (any.downcast_ref::<f64>(), any.downcast_ref::<f32>()) {
            (Some(&x), _) => (self.f64)(param, index, x),
            (_, Some(&x)) => (self.f32)(param, index, x),
            // `Real` is implemented for `f32` and `f64` only.
            _ => (self.f64)(param, index, v.to_f64()),
        }
    }
}

/// The IR of one program.
#[derive(Clone, Debug, Default)]
pub struct Ir {
    pub graph: StableDiGraph<Node, u8>,
    /// The query node.
    pub root: Option<NodeId>,
    /// Parameter nodes by name (one node per name).
    pub params: BTreeMap<String, NodeId>,
    /// Declared (or data-given) parameter shapes.
    pub shapes: BTreeMap<String, Shape>,
    /// The roles each parameter is used in.
    pub roles: BTreeMap<String, Vec<Role>>,
    /// Parameter names in the order users pass them: `where` declaration order (a `kl_fn!`
    /// signature is one), then order of first appearance in the expression. The maps above
    /// are sorted by name; every argument list follows this order instead.
    pub order: Vec<String>,
}

impl Ir {
    pub fn add(&mut self, op: Op, span: Span, operands: &[NodeId]) -> NodeId {
        let id = self.graph.add_node(Node { op, span, ty: Ty::Unknown });
        for (slot, &o) in operands.iter().enumerate() {
            self.graph.add_edge(id, o, slot as u8);
        }
        id
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.graph[id]
    }

    pub fn op(&self, id: NodeId) -> &Op {
        &self.graph[id].op
    }

    pub fn ty(&self, id: NodeId) -> &Ty {
        &self.graph[id].ty
    }

    pub fn root(&self) -> NodeId {
        self.root.expect("IR without a root")
    }

    /// Every parameter the expression names (also those simplification made dead: the checked
    /// entry still validates them), in [`Ir::order`].
    pub fn param_names(&self) -> Vec<String> {
        let used = |n: &String| self.params.contains_key(n) || self.roles.contains_key(n);
        let mut names: Vec<String> = self.order.iter().filter(|n| used(n)).cloned().collect();
        // IRs built by hand (tests) may leave `order` empty: the rest follow in name order.
        for n in self.params.keys().chain(self.roles.keys()) {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        names
    }

    /// The roles of each parameter, parameters in [`Ir::order`]: validation runs in this order
    /// on every path, so the first error reported is the first in argument order.
    pub fn roles_in_order(&self) -> Vec<(String, &[Role])> {
        self.param_names().into_iter().filter_map(|n| self.roles.get(&n).map(|r| (n, r.as_slice()))).collect()
    }

    /// Operands in slot order.
    pub fn operands(&self, id: NodeId) -> Vec<NodeId> {
        let mut edges: Vec<(u8, NodeId)> =
            self.graph.edges_directed(id, Direction::Outgoing).map(|e| (*e.weight(), e.target())).collect();
        edges.sort_unstable_by_key(|(slot, _)| *slot);
        edges.into_iter().map(|(_, t)| t).collect()
    }

    /// Operand `slot` of `id`.
    pub fn operand(&self, id: NodeId, slot: usize) -> NodeId {
        self.operands(id)[slot]
    }

    /// The parameter operand `slot` of `id` reads (through broadcasts and sums over its last
    /// dims), for naming it in a data error; `None` for a literal or a computed value.
    pub fn operand_name(&self, id: NodeId, slot: usize) -> Option<&str> {
        let mut x = self.operand(id, slot);
        loop {
            match self.op(x) {
                Op::Param(n) => return Some(n),
                Op::BroadcastTo(_) | Op::SumLast { .. } => x = self.operand(x, 0),
                _ => return None,
            }
        }
    }

    /// Nodes that use `id`.
    pub fn users(&self, id: NodeId) -> Vec<NodeId> {
        self.graph.neighbors_directed(id, Direction::Incoming).collect()
    }

    /// Make every user of `old` (and the root) point at `new` instead.
    pub fn replace_uses(&mut self, old: NodeId, new: NodeId) {
        if old == new {
            return;
        }
        let incoming: Vec<_> =
            self.graph.edges_directed(old, Direction::Incoming).map(|e| (e.id(), e.source(), *e.weight())).collect();
        for (edge, source, slot) in incoming {
            self.graph.remove_edge(edge);
            self.graph.add_edge(source, new, slot);
        }
        if self.root == Some(old) {
            self.root = Some(new);
        }
        for p in self.params.values_mut() {
            if *p == old {
                *p = new;
            }
        }
    }

    /// Nodes reachable from the root, operands before users.
    pub fn topo_order(&self) -> Vec<NodeId> {
        let mut order = Vec::new();
        let mut seen = std::collections::HashSet::new();
        if let Some(root) = self.root {
            self.post_order(root, &mut seen, &mut order);
        }
        order
    }

    fn post_order(&self, id: NodeId, seen: &mut std::collections::HashSet<NodeId>, out: &mut Vec<NodeId>) {
        if !seen.insert(id) {
            return;
        }
        for o in self.operands(id) {
            self.post_order(o, seen, out);
        }
        out.push(id);
    }

    /// Drop nodes the root no longer reaches (parameters stay listed only if still used).
    pub fn collect_garbage(&mut self) {
        let live: std::collections::HashSet<NodeId> = self.topo_order().into_iter().collect();
        let dead: Vec<NodeId> = self.graph.node_indices().filter(|n| !live.contains(n)).collect();
        for n in dead {
            self.graph.remove_node(n);
        }
        self.params.retain(|_, id| live.contains(id));
    }

    /// Structural equality of two subgraphs (same ops, same operands recursively).
    pub fn same_structure(&self, a: NodeId, b: NodeId) -> bool {
        if a == b {
            return true;
        }
        let (na, nb) = (self.node(a), self.node(b));
        na.op == nb.op && {
            let (oa, ob) = (self.operands(a), self.operands(b));
            oa.len() == ob.len() && oa.iter().zip(&ob).all(|(x, y)| self.same_structure(*x, *y))
        }
    }

    /// The source text a node stands for: a KL node's own span is just its `||` (where
    /// diagnostics put the caret), its extent the whole `P || Q`; any other node's span already
    /// covers its text.
    pub fn extent(&self, id: NodeId) -> Span {
        let span = self.node(id).span;
        match self.op(id) {
            Op::Kl => self.operands(id).into_iter().fold(span, |s, o| s.join(self.node(o).span)),
            _ => span,
        }
    }

    /// The root's result shape, once checked.
    pub fn result_shape(&self) -> Option<&Shape> {
        self.root.and_then(|r| self.ty(r).tensor())
    }
}
