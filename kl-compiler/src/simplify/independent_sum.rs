//! `independent_sum`: KL, log-density and entropy of an independent product are sums of the
//! per-factor quantities over the reinterpreted dims.
//! Identity: KL(Independent(p, n) ‖ Independent(q, m)) = Σ_{reinterpreted dims} KL(p ‖ q),
//! for any n and m (and nested or expanded wrappers) whose resulting event shapes agree.
//! Precondition: both bases have the same event rank (both univariate or both multivariate).

use super::{base_event_rank, dist_ty, nodes_where, strip, tensor_ty, Pass};
use crate::ir::{Ir, Op};

pub const PASS: Pass = Pass {
    name: "independent_sum",
    identity: "KL(Independent(p, n) || Independent(q, m)) = sum over reinterpreted dims of KL(p || q)",
    precondition: "the bases of both sides have the same event rank and at least one side is wrapped",
    run,
};

fn run(ir: &mut Ir) -> bool {
    let mut changed = false;
    for id in nodes_where(ir, |op| op.is_query()) {
        let out = tensor_ty(ir, id);
        let span = ir.node(id).span;
        let d = ir.operand(id, 0);
        let (base, wrapped_p) = strip(ir, d);
        let (_, event) = dist_ty(ir, d);
        let Some(base_rank) = base_event_rank(ir.op(base)) else { continue };
        let inner = match ir.op(id).clone() {
            Op::Kl => {
                let q = ir.operand(id, 1);
                let (qbase, wrapped_q) = strip(ir, q);
                if !(wrapped_p || wrapped_q) || base_event_rank(ir.op(qbase)) != Some(base_rank) {
                    continue;
                }
                ir.add(Op::Kl, span, &[base, qbase])
            }
            Op::LogProb if wrapped_p => {
                let x = ir.operand(id, 1);
                ir.add(Op::LogProb, span, &[base, x])
            }
            Op::Entropy if wrapped_p => ir.add(Op::Entropy, span, &[base]),
            _ => continue,
        };
        let k = event.rank() - base_rank;
        let full = out.concat(&event.drop_last(base_rank));
        let sum = ir.add(Op::SumLast { k, full }, span, &[inner]);
        ir.replace_uses(id, sum);
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::PASS;

    #[test]
    fn to_event_kl_is_a_sum_of_elementwise_kls() {
        let (changed, out) =
            run(&PASS, "Normal(a, b).to_event(1) || Normal(c, d).to_event(1) where a, b, c, d: [B, 8]");
        assert!(changed);
        assert!(out.contains("= kl(p=%2, q=%5) : [B, 8]\n"), "{out}");
        assert!(out.ends_with("= sum_last[1] of [B, 8](x=%6) : [B]\n"), "{out}");
    }

    #[test]
    fn different_nesting_with_equal_events_is_accepted() {
        // PyTorch raises NotImplementedError here; the event shapes agree, so the sum is well defined.
        let (changed, out) =
            run(&PASS, "Normal(a, b).to_event(2) || Normal(c, d).to_event(1).to_event(1) where a, b, c, d: [3, 4, 5]");
        assert!(changed);
        assert!(out.ends_with("sum_last[2] of [3, 4, 5](x=%6) : [3]\n"), "{out}");
    }

    #[test]
    fn expanded_prior_is_broadcast_before_summing() {
        let (_, out) =
            run(&PASS, "Normal(m, s).to_event(1) || Normal(0, 1).expand([4]).to_event(1) where m, s: [B, 4]");
        assert!(out.contains("kl(p=%2, q=%5) : [B, 4]"), "{out}");
        assert!(out.ends_with("sum_last[1] of [B, 4](x=%6) : [B]\n"), "{out}");
    }

    #[test]
    fn multivariate_bases_sum_over_the_outer_dims_only() {
        let (_, out) = run(
            &PASS,
            "MultivariateNormal(a, scale_tril=l).to_event(1) || MultivariateNormal(b, scale_tril=l).to_event(1) where a, b: [T, 3], l: [3, 3]",
        );
        assert!(out.ends_with("sum_last[1] of [T](x=%5) : []\n"), "{out}");
    }

    #[test]
    fn unwrapped_pairs_are_left_to_the_closed_forms() {
        let (changed, _) = run(&PASS, "Normal(a, b) || Normal(c, d) where a, b, c, d: [3]");
        assert!(!changed);
    }
}
