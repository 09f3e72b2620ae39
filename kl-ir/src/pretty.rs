//! A stable text form of the IR, for `klc explain` and snapshot tests. Nodes are numbered
//! in operand-before-user order, independent of graph indices.

use crate::ir::{Ir, NodeId, Ty};
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
            .map(|(o, name)| format!("{name}=%{}", num[o]))
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
