//! Simplification: named rewrites, one per file, applied in order to a checked IR.
//! Each rewrite states its identity and precondition; after each one the IR is re-checked,
//! so a rewrite that breaks a shape rule is caught as an internal error at once.

mod closed_form;
mod cse;
mod diag_vs_mvn;
mod diagonal_mvn;
mod independent_sum;
mod self_kl;
mod std_normal_prior;

use crate::check;
use crate::diag::{Diagnostic, Diagnostics};
use crate::ir::{Ir, NodeId, Op, Ty};
use crate::shape::Shape;

/// A named rewrite.
pub struct Pass {
    pub name: &'static str,
    /// The identity it applies, in one line.
    pub identity: &'static str,
    /// When it applies.
    pub precondition: &'static str,
    /// Rewrites `ir` in place; returns whether anything changed.
    pub run: fn(&mut Ir) -> bool,
}

/// The passes, in the order they run.
pub const PASSES: &[&Pass] = &[
    &self_kl::PASS,
    &diagonal_mvn::PASS,
    &independent_sum::PASS,
    &diag_vs_mvn::PASS,
    &closed_form::PASS,
    &std_normal_prior::PASS,
    &cse::PASS,
];

/// Run every pass on a checked IR; returns the names of the passes that changed it.
pub fn simplify(ir: &mut Ir) -> Result<Vec<&'static str>, Diagnostics> {
    let mut applied = Vec::new();
    for pass in PASSES {
        if (pass.run)(ir) {
            ir.collect_garbage();
            check::check(ir)?;
            applied.push(pass.name);
        }
    }
    no_queries_left(ir)?;
    Ok(applied)
}

/// Every query must have become a closed form: kl never falls back to sampling.
fn no_queries_left(ir: &Ir) -> Result<(), Diagnostics> {
    let mut errors = Diagnostics::default();
    for id in ir.topo_order() {
        let node = ir.node(id);
        if node.op.is_query() {
            // Rule: a KL whose P lives where Q has no density is infinite for every value.
            if let Some(e) = infinite_kl(ir, id) {
                errors.push(e);
                continue;
            }
            let names: Vec<String> =
                ir.operands(id).iter().filter(|o| ir.op(**o).is_distribution()).map(|o| family(ir, *o)).collect();
            errors.push(no_closed_form(node.span, &node.op.name(), &names));
        }
    }
    errors.into_result(())
}

/// Whether every query of a lowered (not yet shape-checked) IR has a closed form, decided from
/// the families alone: the rule tables, and the diagonal-against-dense rewrite. `kl!` with
/// shapes from Rust types calls it at expansion, so that an infinite pair or a pair without a
/// closed form is a compile error there too, before any shape is known.
pub fn check_closed_forms(ir: &Ir) -> Result<(), Diagnostics> {
    use crate::family::Structure;
    let mut errors = Diagnostics::default();
    for id in ir.topo_order() {
        let op = ir.op(id);
        if !op.is_query() {
            continue;
        }
        if let Some(e) = infinite_kl(ir, id) {
            errors.push(e);
            continue;
        }
        let base = |slot: usize| ir.op(strip(ir, ir.operand(id, slot)).0).family();
        let Some(p) = base(0) else { continue };
        let found = match op {
            Op::Kl => base(1).is_some_and(|q| {
                crate::rules::kl(p, q).is_some()
                    || matches!(
                        (p.structure, q.structure),
                        (Structure::DiagonalGaussian { .. }, Structure::DenseGaussian { .. })
                            | (Structure::DenseGaussian { .. }, Structure::DiagonalGaussian { .. })
                    )
            }),
            Op::LogProb => crate::rules::unary(crate::rules::LOG_PROB, p).is_some(),
            _ => crate::rules::unary(crate::rules::ENTROPY, p).is_some(),
        };
        if !found {
            let names: Vec<String> =
                ir.operands(id).iter().filter(|o| ir.op(**o).is_distribution()).map(|o| family(ir, *o)).collect();
            errors.push(no_closed_form(ir.node(id).span, &op.name(), &names));
        }
    }
    errors.into_result(())
}

fn no_closed_form(span: crate::span::Span, query: &str, names: &[String]) -> Diagnostic {
    Diagnostic::new("kl::no_closed_form", span, format!("kl has no closed form for {query}({})", names.join(" || ")))
        .label("no closed form")
        .help("kl never falls back to Monte Carlo estimates; rewrite the expression with supported pairs")
}

/// The `kl::infinite` error for a KL whose P's support is not within Q's.
fn infinite_kl(ir: &Ir, id: NodeId) -> Option<Diagnostic> {
    if *ir.op(id) != Op::Kl {
        return None;
    }
    let base = |slot: usize| ir.op(strip(ir, ir.operand(id, slot)).0).family();
    let (p, q) = (base(0)?, base(1)?);
    let message = if p.support.is_discrete() && !q.support.is_discrete() {
        format!(
            "KL({} ‖ {}) is infinite: P has a mass function on {} and Q a density on {}, so Q gives each of P's points probability 0",
            p.name, q.name, p.support, q.support
        )
    } else if !p.support.is_discrete() && q.support.is_discrete() {
        format!(
            "KL({} ‖ {}) is infinite: P has a density on {} and Q a mass function on {}, so P puts all its mass off Q's points",
            p.name, q.name, p.support, q.support
        )
    } else if !p.support.within(q.support) {
        format!(
            "KL({} ‖ {}) is infinite: the support of P, {}, is not contained in the support of Q, {}",
            p.name, q.name, p.support, q.support
        )
    } else {
        return None;
    };
    Some(Diagnostic::new("kl::infinite", ir.node(id).span, message).label("infinite for every parameter value").help(
        "a KL divergence is finite only when Q has density wherever P does; swap the sides or pick other families",
    ))
}

fn family(ir: &Ir, id: NodeId) -> String {
    let (base, _) = strip(ir, id);
    ir.op(base).family().map_or("?", |f| f.name).to_string()
}

/// Walk through `Independent` and `Expand` wrappers to the base family node; also returns
/// whether any wrapper was passed.
pub(crate) fn strip(ir: &Ir, mut id: NodeId) -> (NodeId, bool) {
    let mut wrapped = false;
    while matches!(ir.op(id), Op::Independent(_) | Op::Expand(_)) {
        id = ir.operand(id, 0);
        wrapped = true;
    }
    (id, wrapped)
}

/// Event rank of a base family, from its descriptor.
pub(crate) fn base_event_rank(op: &Op) -> Option<usize> {
    op.family().map(|f| f.event_rank)
}

pub(crate) fn dist_ty(ir: &Ir, id: NodeId) -> (Shape, Shape) {
    match ir.ty(id) {
        Ty::Dist { batch, event } => (batch.clone(), event.clone()),
        _ => (Shape::scalar(), Shape::scalar()),
    }
}

pub(crate) fn tensor_ty(ir: &Ir, id: NodeId) -> Shape {
    ir.ty(id).tensor().cloned().unwrap_or_default()
}

/// The standard deviation of a diagonal Gaussian node (its family's accessor), if it is one.
pub(crate) fn scale_of(ir: &mut Ir, dist: NodeId) -> Option<NodeId> {
    let scale = ir.op(dist).family()?.diagonal_scale()?;
    Some(scale(ir, dist))
}

/// The lower factor L (Σ = L Lᵀ) of a dense Gaussian node (its family's accessor), if it is one.
pub(crate) fn tril_of(ir: &mut Ir, dist: NodeId) -> Option<NodeId> {
    let tril = ir.op(dist).family()?.dense_tril()?;
    Some(tril(ir, dist))
}

/// `x` broadcast to `shape`, or `x` itself when it already has that shape.
pub(crate) fn broadcast_to(ir: &mut Ir, x: NodeId, shape: &Shape, current: &Shape) -> NodeId {
    if current == shape {
        return x;
    }
    let span = ir.node(x).span;
    ir.add(Op::BroadcastTo(shape.clone()), span, &[x])
}

/// Nodes with the given op predicate, in operand-before-user order.
pub(crate) fn nodes_where(ir: &Ir, f: impl Fn(&Op) -> bool) -> Vec<NodeId> {
    ir.topo_order().into_iter().filter(|id| f(ir.op(*id))).collect()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Text in, text out: compile a program up to the checked IR, run one pass, pretty-print.
    use crate::ir::Ir;
    use std::collections::BTreeMap;

    pub fn lowered(src: &str) -> Ir {
        let prog = crate::parse::parse(src).unwrap_or_else(|e| panic!("{}", e.render_plain(src)));
        let mut ir = crate::lower::lower(&prog, &BTreeMap::new()).unwrap_or_else(|e| panic!("{}", e.render_plain(src)));
        crate::check::check(&mut ir).unwrap_or_else(|e| panic!("{}", e.render_plain(src)));
        ir
    }

    /// Run `pass` alone on `src`; returns (changed, pretty IR after).
    pub fn run(pass: &super::Pass, src: &str) -> (bool, String) {
        let mut ir = lowered(src);
        let changed = (pass.run)(&mut ir);
        ir.collect_garbage();
        crate::check::check(&mut ir).unwrap_or_else(|e| panic!("pass broke the IR: {e}"));
        (changed, crate::pretty::pretty(&ir))
    }
}
