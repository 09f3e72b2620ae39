//! A stable text form of the IR, for `klc explain` and snapshot tests. Nodes are numbered
//! in operand-before-user order, independent of graph indices.

use crate::ir::{Ir, NodeId, Op, Ty};
use std::collections::HashMap;
use std::fmt::Write;

/// One line per reachable node: `%n = op(slot=%a, ..) : type`.
pub fn pretty(ir: &Ir) -> String {
    let order = ir.topo_order();
    let num: HashMap<NodeId, usize> = order.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut out = String::new();
    for id in &order {
        let node = ir.node(*id);
        let names = node.op.operand_names();
        let args: Vec<String> = ir
            .operands(*id)
            .iter()
            .zip(names)
            .map(|(o, name)| format!("{}=%{}", slot_label(&node.op, name), num[o]))
            .collect();
        let _ = write!(out, "%{} = {}", num[id], node.op.name());
        if !args.is_empty() {
            let _ = write!(out, "({})", args.join(", "));
        }
        match &node.ty {
            Ty::Unknown => {}
            ty => {
                let _ = write!(out, " : {ty}");
            }
        }
        out.push('\n');
    }
    out
}

/// The parameter keyword as the user wrote it (`var`, `scale_tril`, ..) where the op knows it.
fn slot_label(op: &Op, name: &str) -> String {
    match (op, name) {
        (Op::Dist(d), _) => {
            d.family.operands.iter().position(|o| *o == name).map_or(name, |slot| d.keyword(slot)).into()
        }
        (Op::SpdKl(p), "X1" | "X2") => format!("{}{}", p.keyword(), &name[1..]),
        (Op::MixedSpdKl(p), "X1") => format!("{}1", p.keyword()),
        (Op::MixedSpdKl(p), "X2") => {
            use crate::ir::MvnParam;
            let other = if *p == MvnParam::Precision { MvnParam::Covariance } else { MvnParam::Precision };
            format!("{}2", other.keyword())
        }
        (Op::Kernel(k), _) => {
            let slot = k.kernel.operands.iter().position(|o| *o == name);
            slot.and_then(|slot| (k.kernel.label)(slot, k.attrs)).unwrap_or_else(|| name.into())
        }
        _ => name.into(),
    }
}
