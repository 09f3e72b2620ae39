//! Checking: an integrity pass (sound graph), then shape inference that enforces the
//! torch.distributions shape rules on every node, collecting every violation.

use crate::diag::{Diagnostic, Diagnostics};
use crate::ir::{CoreOut, Ir, NodeId, Op, Ty};
use crate::shape::{Dim, Shape};

/// Most dims a tensor (or a distribution's batch and event dims together) may have; NumPy's
/// limit is 64. Every later stage recurses or nests loops once per dim, so this also keeps them
/// within the stack.
pub const MAX_RANK: usize = 32;

/// Most elements a tensor (or a distribution's batch and event together) may have by its
/// static dims: the largest `f64` slice Rust can allocate. Below it, index arithmetic over
/// static dims cannot overflow.
pub const MAX_ELEMENTS: usize = isize::MAX as usize / 8;

/// Run the integrity pass, then infer and check every node's type. Fills `Node::ty`.
pub fn check(ir: &mut Ir) -> Result<(), Diagnostics> {
    integrity(ir).map_err(Diagnostics::from)?;
    let mut errors = Diagnostics::default();
    for id in ir.topo_order() {
        match infer(ir, id).and_then(|ty| within_limits(ir, id, ty)) {
            Ok(ty) => ir.graph[id].ty = ty,
            Err(e) => {
                ir.graph[id].ty = Ty::Unknown;
                errors.push(e);
            }
        }
    }
    errors.into_result(())
}

/// Structural soundness, so later passes may assume it: a root, operand counts that match
/// each op, no cycles. A failure here is a compiler bug, reported as such.
pub fn integrity(ir: &Ir) -> Result<(), Diagnostic> {
    let bug = |msg: String| {
        Diagnostic::new("internal::integrity", Default::default(), format!("internal compiler error: {msg}"))
    };
    let root = ir.root.ok_or_else(|| bug("the IR has no root".into()))?;
    if petgraph::algo::is_cyclic_directed(&ir.graph) {
        return Err(bug("the IR has a cycle".into()));
    }
    for id in ir.topo_order() {
        let node = ir.node(id);
        let want = node.op.operand_names().len();
        let got = ir.operands(id).len();
        if want != got {
            return Err(bug(format!("`{}` has {got} operands, expected {want}", node.op.name())));
        }
    }
    if !ir.op(root).is_query() && ir.op(root).is_distribution() {
        return Err(bug("the root is a distribution, not a query".into()));
    }
    Ok(())
}

/// The type of `id` from its operands' types. Operands of unknown type make the result
/// unknown without a new error (the operand's error was already reported).
pub fn infer(ir: &Ir, id: NodeId) -> Result<Ty, Diagnostic> {
    let node = ir.node(id);
    let ops = ir.operands(id);
    let tys: Vec<&Ty> = ops.iter().map(|&o| ir.ty(o)).collect();
    if tys.iter().any(|t| **t == Ty::Unknown) {
        return Ok(Ty::Unknown);
    }
    let span = node.span;
    let tensor = |i: usize| tys[i].tensor().cloned().ok_or_else(|| internal(ir, id, "expected a tensor operand"));
    let dist = |i: usize| {
        tys[i]
            .dist()
            .map(|(b, e)| (b.clone(), e.clone()))
            .ok_or_else(|| internal(ir, id, "expected a distribution operand"))
    };
    let op_span = |i: usize| ir.node(ops[i]).span;
    Ok(match &node.op {
        Op::Param(name) => {
            Ty::Tensor(ir.shapes.get(name).cloned().ok_or_else(|| internal(ir, id, "parameter without a shape"))?)
        }
        Op::Literal(_) => Ty::Tensor(Shape::scalar()),
        Op::Zeros(s) => Ty::Tensor(s.clone()),
        Op::Diag => {
            let v = tensor(0)?;
            // Rule: diag(v) needs a vector (rank >= 1).
            let Some(d) = v.dims().last().cloned() else {
                return Err(Diagnostic::new(
                    "shape::diag_scalar",
                    span,
                    "`diag(v)` needs a vector, but `v` is a scalar (shape [])",
                )
                .label("scalar argument")
                .help("declare `v` with at least one dim, e.g. `[8]`"));
            };
            Ty::Tensor(Shape(v.0.iter().cloned().chain([d]).collect()))
        }
        Op::BroadcastTo(target) | Op::SumLast { full: target, .. } => {
            let x = tensor(0)?;
            if x.broadcast(target).as_ref() != Some(target) {
                return Err(internal(ir, id, &format!("{x} does not broadcast to {target}")));
            }
            match &node.op {
                Op::SumLast { k, .. } => Ty::Tensor(target.drop_last(*k)),
                _ => Ty::Tensor(target.clone()),
            }
        }
        Op::Dist(d) => {
            // The family's shape rule (crate::family), over the operands as given.
            let shapes = (0..ops.len()).map(tensor).collect::<Result<Vec<_>, _>>()?;
            let spans: Vec<_> = (0..ops.len()).map(op_span).collect();
            let keywords: Vec<&'static str> = (0..ops.len()).map(|slot| d.keyword(slot)).collect();
            let (batch, event) = (d.family.shape)(&crate::family::ShapeCx {
                shapes: &shapes,
                spans: &spans,
                keywords: &keywords,
                span,
            })?;
            Ty::Dist { batch, event }
        }
        Op::Independent(n) => {
            let (batch, event) = dist(0)?;
            // Rule: to_event(n) needs n <= batch rank.
            if *n > batch.rank() {
                return Err(Diagnostic::new(
                    "shape::to_event_too_deep",
                    span,
                    format!("`to_event({n})` needs at least {n} batch dim(s), but the distribution has batch shape {batch} (rank {}) and event shape {event}", batch.rank()),
                )
                .label(format!("reinterprets {n} dim(s)"))
                .note(op_span(0), format!("batch {batch}, event {event}"))
                .help(format!("use `to_event({})` or give the parameters more dims", batch.rank())));
            }
            Ty::Dist { batch: batch.drop_last(*n), event: batch.last(*n).concat(&event) }
        }
        Op::Expand(target) => {
            let (batch, event) = dist(0)?;
            // Rule: expand broadcasts the batch shape to exactly the target.
            if !batch.expands_to(target) {
                return Err(Diagnostic::new(
                    "shape::expand",
                    span,
                    format!("batch shape {batch} cannot be expanded to {target}"),
                )
                .label("incompatible expand")
                .note(op_span(0), format!("batch {batch}, event {event}"))
                .help("each batch dim must equal the target dim or be 1, aligned from the right"));
            }
            Ty::Dist { batch: target.clone(), event }
        }
        Op::Kl => {
            let ((bp, ep), (bq, eq)) = (dist(0)?, dist(1)?);
            // Rule: KL operands have equal event shapes...
            if ep != eq {
                return Err(Diagnostic::new(
                    "shape::event_mismatch",
                    span,
                    format!(
                        "KL needs equal event shapes, but the left side has event shape {ep} and the right side {eq}"
                    ),
                )
                .label("event shapes differ")
                .note(op_span(0), format!("left: batch {bp}, event {ep}"))
                .note(op_span(1), format!("right: batch {bq}, event {eq}"))
                .help("use `.to_event(n)` so both sides have the same event shape"));
            }
            // ...and broadcastable batch shapes.
            let batch = bp.broadcast(&bq).ok_or_else(|| {
                Diagnostic::new(
                    "shape::batch_mismatch",
                    span,
                    format!("the batch shapes of the two sides do not broadcast: left {bp}, right {bq}"),
                )
                .label("batch shapes do not broadcast")
                .note(op_span(0), format!("left: batch {bp}, event {ep}"))
                .note(op_span(1), format!("right: batch {bq}, event {eq}"))
            })?;
            Ty::Tensor(batch)
        }
        Op::LogProb => {
            let ((batch, event), x) = (dist(0)?, tensor(1)?);
            // Rule: the value's trailing dims equal the event shape; the rest broadcasts with the batch.
            if x.rank() < event.rank() || x.last(event.rank()) != event {
                return Err(Diagnostic::new(
                    "shape::value_event",
                    op_span(1),
                    format!("`log_prob` needs a value whose trailing dims are the event shape {event}, but the value has shape {x}"),
                )
                .label(format!("expected [.., {}]", event.0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")))
                .note(op_span(0), format!("batch {batch}, event {event}")));
            }
            let sample_batch = x.drop_last(event.rank());
            let out = sample_batch.broadcast(&batch).ok_or_else(|| {
                Diagnostic::new(
                    "shape::value_batch",
                    op_span(1),
                    format!("the value's batch dims {sample_batch} do not broadcast with the distribution's batch shape {batch}"),
                )
                .label("does not broadcast")
            })?;
            Ty::Tensor(out)
        }
        Op::Entropy => Ty::Tensor(dist(0)?.0),
        op => {
            let sig = op.signature().ok_or_else(|| internal(ir, id, "no signature"))?;
            let mut batches = Vec::new();
            for (i, &c) in sig.inputs.iter().enumerate() {
                let s = tensor(i)?;
                if s.rank() < c {
                    return Err(internal(ir, id, &format!("operand {i} has shape {s}, needs rank {c}")));
                }
                batches.push(s.drop_last(c));
            }
            if let Op::VectorKernel(k) = op {
                same_categories(ir, id, k)?;
            }
            let batch =
                Shape::broadcast_all(&batches).ok_or_else(|| internal(ir, id, "operand batches do not broadcast"))?;
            match sig.output {
                CoreOut::Scalar => Ty::Tensor(batch),
                CoreOut::Square { from } => {
                    let s = tensor(from)?;
                    let d = s.0[s.rank() - sig.inputs[from]].clone();
                    Ty::Tensor(batch.concat(&Shape(vec![d.clone(), d])))
                }
            }
        }
    })
}

/// Rule: the rows a row kernel reads (the categories of a `Categorical` on either side of a KL,
/// or of its `log_prob` value) have the same length `K`.
fn same_categories(ir: &Ir, id: NodeId, k: &crate::kernel::VectorKernel) -> Result<(), Diagnostic> {
    let ops = ir.operands(id);
    let rows: Vec<(usize, Dim)> = (0..ops.len())
        .filter(|&i| k.cores.get(i) == Some(&1))
        .filter_map(|i| Some((i, ir.ty(ops[i]).tensor()?.dims().last()?.clone())))
        .collect();
    let Some((first, k0)) = rows.first().cloned() else { return Ok(()) };
    let Some((other, k1)) = rows.iter().find(|(_, d)| *d != k0).cloned() else { return Ok(()) };
    let name = |i: usize| ir.operand_name(id, i).unwrap_or(k.operands[i]).to_string();
    let (a, b) = (name(first), name(other));
    Err(Diagnostic::new(
        "shape::categories_mismatch",
        ir.node(id).span,
        format!("the categories do not match: `{a}` has K = {k0} categories (its last dim) and `{b}` has K = {k1}"),
    )
    .label("different numbers of categories")
    .help("both sides of a KL, and a one-hot `log_prob` value, need the same last dim K"))
}

/// Rule: a value has at most [`MAX_RANK`] dims and [`MAX_ELEMENTS`] elements by its static
/// dims; a distribution as many batch and event dims together.
fn within_limits(ir: &Ir, id: NodeId, ty: Ty) -> Result<Ty, Diagnostic> {
    let all = match &ty {
        Ty::Tensor(s) => s.clone(),
        Ty::Dist { batch, event } => batch.concat(event),
        Ty::Unknown => return Ok(ty),
    };
    let (rank, shape) = match &ty {
        Ty::Tensor(s) => (s.rank(), format!("shape {s}")),
        Ty::Dist { batch, event } => {
            (batch.rank() + event.rank(), format!("batch shape {batch} and event shape {event}"))
        }
        Ty::Unknown => return Ok(ty),
    };
    if rank > MAX_RANK {
        return Err(Diagnostic::new(
            "shape::too_many_dims",
            ir.node(id).span,
            format!("this has {rank} dims ({shape}), but kl supports at most {MAX_RANK}"),
        )
        .label("too many dims"));
    }
    let elements = all.dims().iter().try_fold(1usize, |n, d| n.checked_mul(d.as_static().unwrap_or(1)));
    if elements.is_none_or(|n| n > MAX_ELEMENTS) {
        return Err(Diagnostic::new(
            "shape::too_large",
            ir.node(id).span,
            format!("this has shape {all}, more than the {MAX_ELEMENTS} elements a tensor can hold"),
        )
        .label("too large"));
    }
    Ok(ty)
}

fn internal(ir: &Ir, id: NodeId, msg: &str) -> Diagnostic {
    let node = ir.node(id);
    Diagnostic::new("internal::type", node.span, format!("internal compiler error at `{}`: {msg}", node.op.name()))
}

/// Type the nodes a pass just built under `id` (those still `Unknown`), operands first,
/// and return the shape of `id`. Passes use it when they need a new node's shape at once.
pub fn type_new(ir: &mut Ir, id: NodeId) -> Shape {
    if ir.ty(id) == &Ty::Unknown {
        for o in ir.operands(id) {
            type_new(ir, o);
        }
        if let Ok(ty) = infer(ir, id) {
            ir.graph[id].ty = ty;
        }
    }
    ir.ty(id).tensor().cloned().unwrap_or_default()
}
