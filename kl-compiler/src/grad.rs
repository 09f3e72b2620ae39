//! Reverse mode over the simplified IR: the gradient of `Σ grad_out · result` with respect to
//! every named parameter, from the closed-form adjoints of the kernels (their descriptors,
//! `crate::kernel::Adjoint`) and the adjoints of the structural ops: a broadcast sums over the
//! broadcast dims, `sum_last` broadcasts back, a literal is not a parameter, and a parameter
//! used several times (or shared by CSE) accumulates.
//!
//! Conventions: `d(sum of every element of the result)/d(NAME)` when no `grad_out` is given,
//! with the parameter's own shape; a parameter the simplified expression no longer reads
//! (`P || P`, the `loc` of an entropy) has gradient 0.

use crate::interp::{bind_symbols, broadcast_strides, forward, increment, summed_dims, validate, EvalError, Tensor};
use crate::ir::{Ir, MvnParam, NodeId, Op};
use kl_runtime::{self as rt, scale_from_grad, Real};
use std::collections::{BTreeMap, HashMap};

/// The gradient with respect to each parameter, by name, in the parameter's shape.
pub type Grads<T> = BTreeMap<String, Tensor<T>>;

/// The result and the gradient of `Σ grad_out · result` (of the sum of the result when
/// `grad_out` is `None`) with respect to every parameter of the expression.
pub fn value_and_grad<T: Real>(
    ir: &Ir,
    inputs: &BTreeMap<String, Tensor<T>>,
    grad_out: Option<&Tensor<T>>,
) -> Result<(Tensor<T>, Grads<T>), EvalError> {
    let syms = bind_symbols(ir, inputs)?;
    validate(ir, inputs)?;
    let values = forward(ir, inputs, &syms)?;
    let root = ir.root();
    let value = values[&root].clone();
    let seed = match grad_out {
        Some(g) if g.shape != value.shape => {
            return Err(EvalError::GradShape { expected: value.shape.clone(), found: g.shape.clone() })
        }
        Some(g) => g.clone(),
        None => Tensor { shape: value.shape.clone(), data: vec![T::ONE; value.data.len()] },
    };
    let mut grads: HashMap<NodeId, Tensor<T>> = HashMap::new();
    grads.insert(root, seed);
    let mut out: BTreeMap<String, Tensor<T>> = BTreeMap::new();
    for id in ir.topo_order().into_iter().rev() {
        let Some(g) = grads.remove(&id) else { continue };
        let ops = ir.operands(id);
        let push = |grads: &mut HashMap<NodeId, Tensor<T>>, o: NodeId, t: Tensor<T>| accumulate(grads, o, t);
        match ir.op(id) {
            // One node per name (lowering shares it), whose uses were accumulated already.
            Op::Param(name) => {
                out.insert(name.clone(), g);
            }
            Op::Literal(_) | Op::Zeros(_) => {}
            Op::BroadcastTo(_) => {
                let x = &values[&ops[0]];
                push(&mut grads, ops[0], reduce_to(&g, &x.shape));
            }
            Op::SumLast { k, .. } => {
                let x = &values[&ops[0]];
                let summed = summed_dims(ir, id, *k, x, &syms);
                let full: Vec<usize> = g.shape.iter().copied().chain(summed).collect();
                let block: usize = full[g.shape.len()..].iter().product();
                let spread = Tensor {
                    shape: full.clone(),
                    data: (0..full.iter().product::<usize>()).map(|i| g.data[i / block.max(1)]).collect(),
                };
                push(&mut grads, ops[0], reduce_to(&spread, &x.shape));
            }
            Op::Kernel(k) => {
                let args: Vec<&Tensor<T>> = ops.iter().map(|o| &values[o]).collect();
                let mut gs: Vec<Tensor<T>> =
                    args.iter().map(|a| Tensor { shape: a.shape.clone(), data: vec![T::ZERO; a.data.len()] }).collect();
                let strides: Vec<Vec<usize>> = args.iter().map(|a| broadcast_strides(&a.shape, &g.shape)).collect();
                let n = ops.len();
                let (mut at, mut partials) = ([T::ZERO; 8], [T::ZERO; 8]);
                let mut idx = vec![0; g.shape.len()];
                for gi in &g.data {
                    let offs: Vec<usize> =
                        strides.iter().map(|s| idx.iter().zip(s).map(|(i, s)| i * s).sum()).collect();
                    for slot in 0..n {
                        at[slot] = args[slot].data[offs[slot]];
                    }
                    k.partials(&at[..n], &mut partials[..n]);
                    for slot in 0..n {
                        gs[slot].data[offs[slot]] += *gi * partials[slot];
                    }
                    increment(&mut idx, &g.shape);
                }
                for (o, t) in ops.iter().zip(gs) {
                    push(&mut grads, *o, t);
                }
            }
            Op::VectorKernel(k) => {
                let args: Vec<&Tensor<T>> = ops.iter().map(|o| &values[o]).collect();
                for (o, t) in ops.iter().zip(row_backward(k, &args, &g)) {
                    push(&mut grads, *o, t);
                }
            }
            Op::ScaleFrom(p) => {
                let x = &values[&ops[0]];
                let p = p.runtime();
                let t = Tensor {
                    shape: x.shape.clone(),
                    data: x.data.iter().zip(&g.data).map(|(a, gi)| *gi * scale_from_grad(*a, p)).collect(),
                };
                push(&mut grads, ops[0], t);
            }
            Op::Diag => {
                let v = &values[&ops[0]];
                let d = *v.shape.last().unwrap_or(&1);
                let data = (0..v.data.len()).map(|i| {
                    let (b, j) = (i / d.max(1), i % d.max(1));
                    g.data[b * d * d + j * d + j]
                });
                push(&mut grads, ops[0], Tensor { shape: v.shape.clone(), data: data.collect() });
            }
            // The multivariate kernels over lower factors (their adjoints are in kl-runtime's
            // grad.rs; they move into kernel descriptors with the kernels themselves).
            op @ (Op::TrilKl
            | Op::DiagTrilKl
            | Op::TrilDiagKl
            | Op::TrilLogProb
            | Op::TrilEntropy
            | Op::SpdKl(_)
            | Op::MixedSpdKl(_)
            | Op::LowRankKl) => {
                let args: Vec<&Tensor<T>> = ops.iter().map(|o| &values[o]).collect();
                let gs = block_backward(op, &args, &g);
                // The trailing factor operand of the matrix KLs gets no gradient (see
                // block_backward).
                let n = match op {
                    Op::SpdKl(_) | Op::MixedSpdKl(_) | Op::LowRankKl => ops.len() - 1,
                    _ => ops.len(),
                };
                for (o, t) in ops.iter().zip(gs).take(n) {
                    push(&mut grads, *o, t);
                }
            }
            Op::TrilFrom(MvnParam::ScaleTril) => push(&mut grads, ops[0], g),
            op @ (Op::TrilFrom(_) | Op::LowRankTril) => {
                let args: Vec<&Tensor<T>> = ops.iter().map(|o| &values[o]).collect();
                for (o, t) in ops.iter().zip(factor_backward(op, &args, &values[&id], &g)) {
                    push(&mut grads, *o, t);
                }
            }
            op => return Err(EvalError::NoGradient(op.name())),
        }
    }
    // Every parameter of the expression has a gradient, 0 where nothing reads it.
    for name in ir.param_names() {
        let shape = inputs.get(&name).map(|t| t.shape.clone()).unwrap_or_default();
        out.entry(name).or_insert_with(|| {
            let n = shape.iter().product();
            Tensor { shape, data: vec![T::ZERO; n] }
        });
    }
    Ok((value, out))
}

/// The backward pass of a batched multivariate kernel with one scalar per batch element: walk
/// the output batch, hand each operand's core block (broadcast over the batch) and the upstream
/// scalar to the kernel's adjoint, which adds into the operands' gradient blocks.
fn block_backward<T: Real>(op: &Op, args: &[&Tensor<T>], g: &Tensor<T>) -> Vec<Tensor<T>> {
    let sig = op.signature().expect("a kernel op");
    let batch = &g.shape;
    let views = core_views(args, sig.inputs, batch);
    // The event size: the last dim of the first operand (a vector, or the factor itself).
    let d = *args[0].shape.last().unwrap_or(&1);
    let mut gs = zeros_like(args);
    let lens = [
        rt::scratch_len_mvn_kl_diag_grad(d),
        rt::scratch_len_cov_kl_grad(d),
        rt::scratch_len_mixed_kl_grad(d),
        rt::scratch_len_low_rank_kl_grad(d),
    ];
    let mut scratch = vec![T::ZERO; lens.into_iter().max().unwrap_or(0)];
    let mut idx = vec![0; batch.len()];
    for gi in &g.data {
        let offs: Vec<usize> = views.iter().map(|(s, _)| idx.iter().zip(s).map(|(i, s)| i * s).sum()).collect();
        let blk = |k: usize| &args[k].data[offs[k]..offs[k] + views[k].1];
        let out: Vec<&mut [T]> =
            gs.iter_mut().zip(&offs).zip(&views).map(|((t, &o), (_, len))| &mut t.data[o..o + len]).collect();
        match (op, out.len()) {
            (Op::TrilKl, 4) => {
                let grads: [&mut [T]; 4] = out.try_into().expect("four operands");
                rt::mvn_kl_tril_grad(blk(0), blk(1), blk(2), blk(3), d, *gi, grads, &mut scratch);
            }
            // A diagonal side is the factor diag(s): its gradient is that factor's diagonal.
            (Op::DiagTrilKl, 4) => {
                let grads: [&mut [T]; 4] = out.try_into().expect("four operands");
                rt::mvn_kl_diag_tril_grad(blk(0), blk(1), blk(2), blk(3), d, *gi, grads, &mut scratch);
            }
            (Op::TrilDiagKl, 4) => {
                let grads: [&mut [T]; 4] = out.try_into().expect("four operands");
                rt::mvn_kl_tril_diag_grad(blk(0), blk(1), blk(2), blk(3), d, *gi, grads, &mut scratch);
            }
            // Two covariances: the gradient of the formula in (m1, C1, m2, C2); the factor operand
            // (the Cholesky factor of C2, a computational aid) gets none.
            (Op::SpdKl(_) | Op::MixedSpdKl(_), 5) => {
                let mut it = out.into_iter();
                let grads = [it.next().unwrap(), it.next().unwrap(), it.next().unwrap(), it.next().unwrap()];
                let f = match op {
                    Op::SpdKl(MvnParam::Precision) => rt::precision_kl_grad,
                    Op::SpdKl(_) => rt::cov_kl_grad,
                    Op::MixedSpdKl(MvnParam::Precision) => rt::precision_cov_kl_grad,
                    _ => rt::cov_precision_kl_grad,
                };
                f(blk(0), blk(1), blk(2), blk(3), d, *gi, grads, &mut scratch);
            }
            (Op::LowRankKl, 7) => {
                let mut it = out.into_iter();
                let grads = std::array::from_fn(|_| it.next().expect("seven operands"));
                rt::low_rank_kl_grad(blk(0), blk(1), blk(2), blk(3), blk(4), blk(5), d, *gi, grads, &mut scratch);
            }
            (Op::TrilLogProb, 3) => {
                let grads: [&mut [T]; 3] = out.try_into().expect("three operands");
                rt::mvn_log_prob_tril_grad(blk(0), blk(1), blk(2), d, *gi, grads, &mut scratch);
            }
            (Op::TrilEntropy, 1) => {
                let [g_l]: [&mut [T]; 1] = out.try_into().expect("one operand");
                rt::mvn_entropy_tril_grad(blk(0), d, *gi, g_l);
            }
            _ => unreachable!("block_backward on `{}`", op.name()),
        }
        increment(&mut idx, batch);
    }
    gs
}

/// The backward pass of a factor op (`L = chol(C)`, `chol(P⁻¹)`, `chol(W Wᵀ + diag(D))`): walk
/// the batch of the factor `l`, hand each operand's core block (broadcast over the batch), the
/// factor and its upstream gradient block to the adjoint, which adds into the operands' blocks.
fn factor_backward<T: Real>(op: &Op, args: &[&Tensor<T>], l: &Tensor<T>, g: &Tensor<T>) -> Vec<Tensor<T>> {
    let sig = op.signature().expect("a kernel op");
    let (batch, core) = l.shape.split_at(l.shape.len() - 2);
    let d = core[0];
    let views = core_views(args, sig.inputs, batch);
    let mut gs = zeros_like(args);
    let mut scratch = vec![T::ZERO; rt::scratch_len_cholesky_grad(d).max(rt::scratch_len_tril_from_precision_grad(d))];
    let mut idx = vec![0; batch.len()];
    for (lb, gb) in l.data.chunks_exact(d * d).zip(g.data.chunks_exact(d * d)) {
        let offs: Vec<usize> = views.iter().map(|(s, _)| idx.iter().zip(s).map(|(i, s)| i * s).sum()).collect();
        let out: Vec<&mut [T]> =
            gs.iter_mut().zip(&offs).zip(&views).map(|((t, &o), (_, len))| &mut t.data[o..o + len]).collect();
        let blk = |k: usize| &args[k].data[offs[k]..offs[k] + views[k].1];
        match op {
            Op::TrilFrom(p) => {
                let f = if *p == MvnParam::Precision { rt::tril_from_precision_grad } else { rt::cholesky_grad };
                let grads: [&mut [T]; 1] = out.try_into().expect("one operand");
                f(blk(0), lb, d, gb, grads, &mut scratch)
            }
            _ => {
                let grads: [&mut [T]; 2] = out.try_into().expect("two operands");
                rt::low_rank_tril_grad(blk(0), blk(1), lb, d, gb, grads, &mut scratch);
            }
        }
        increment(&mut idx, batch);
    }
    gs
}

/// The backward pass of a row kernel: walk the output batch, hand each operand's row (or
/// element) and the upstream scalar to the kernel's adjoint, which adds into the operands'
/// gradient rows (shared rows of a broadcast operand accumulate).
fn row_backward<T: Real>(k: &crate::kernel::VectorKernel, args: &[&Tensor<T>], g: &Tensor<T>) -> Vec<Tensor<T>> {
    let batch = &g.shape;
    let views = core_views(args, k.cores, batch);
    let mut gs = zeros_like(args);
    let mut idx = vec![0; batch.len()];
    for gi in &g.data {
        let offs: Vec<usize> = views.iter().map(|(s, _)| idx.iter().zip(s).map(|(i, s)| i * s).sum()).collect();
        let rows: Vec<&[T]> = (0..args.len()).map(|i| &args[i].data[offs[i]..offs[i] + views[i].1]).collect();
        let mut out: Vec<&mut [T]> =
            gs.iter_mut().zip(&offs).zip(&views).map(|((t, &o), (_, len))| &mut t.data[o..o + len]).collect();
        k.add_partials(&rows, *gi, &mut out);
        increment(&mut idx, batch);
    }
    gs
}

/// Per operand, the offset stride of each output batch dim (0 where the operand broadcasts)
/// in units of elements, and the length of its core block (`cores` trailing dims).
fn core_views<T>(args: &[&Tensor<T>], cores: &[usize], batch: &[usize]) -> Vec<(Vec<usize>, usize)> {
    args.iter()
        .zip(cores)
        .map(|(a, &c)| {
            let (b, core) = a.shape.split_at(a.shape.len() - c);
            let len: usize = core.iter().product();
            (broadcast_strides(b, batch).into_iter().map(|s| s * len).collect(), len)
        })
        .collect()
}

/// A zero gradient per operand, in its shape.
fn zeros_like<T: Real>(args: &[&Tensor<T>]) -> Vec<Tensor<T>> {
    args.iter().map(|a| Tensor { shape: a.shape.clone(), data: vec![T::ZERO; a.data.len()] }).collect()
}

fn accumulate<T: Real>(grads: &mut HashMap<NodeId, Tensor<T>>, id: NodeId, t: Tensor<T>) {
    match grads.get_mut(&id) {
        Some(acc) => acc.data.iter_mut().zip(&t.data).for_each(|(a, b)| *a += *b),
        None => {
            grads.insert(id, t);
        }
    }
}

/// `g` (of a shape that `target` broadcasts to) summed over the broadcast dims: the adjoint
/// of broadcasting to `g`'s shape.
fn reduce_to<T: Real>(g: &Tensor<T>, target: &[usize]) -> Tensor<T> {
    if g.shape == target {
        return g.clone();
    }
    let strides = broadcast_strides(target, &g.shape);
    let mut data = vec![T::ZERO; target.iter().product()];
    let mut idx = vec![0; g.shape.len()];
    for v in &g.data {
        let off: usize = idx.iter().zip(&strides).map(|(i, s)| i * s).sum();
        data[off] += *v;
        increment(&mut idx, &g.shape);
    }
    Tensor { shape: target.to_vec(), data }
}

/// Compile `src` with shapes from `inputs`, then its value and gradient (see [`value_and_grad`]).
pub fn evaluate_with_grad<T: Real>(
    src: &str,
    inputs: &BTreeMap<String, Tensor<T>>,
) -> Result<(Tensor<T>, Grads<T>), crate::interp::Failure> {
    use crate::interp::Failure;
    let env: crate::ShapeEnv = inputs.iter().map(|(k, t)| (k.clone(), crate::Shape::of(&t.shape))).collect();
    let compiled = crate::compile(src, &env).map_err(Failure::Compile)?;
    value_and_grad(&compiled.simplified, inputs, None).map_err(Failure::Eval)
}
