//! Lowering: the syntax tree becomes IR nodes. Names are resolved here (distribution
//! families, parameterizations, methods, parameter shapes); every problem is collected.

use crate::ast::{self, Arg, Dist as DistExpr, Expr, Program, Value};
use crate::diag::{suggest, Diagnostic, Diagnostics};
use crate::family::{self, Alt, Family};
use crate::ir::{Dist, Ir, NodeId, Op, Role};
use crate::shape::Shape;
use crate::span::Span;
use std::collections::BTreeMap;

/// The names a distribution may be called by: the registered families, then the
/// `Independent(..)` wrapper.
pub fn distribution_names() -> Vec<&'static str> {
    family::FAMILIES.iter().map(|f| f.name).chain(["Independent"]).collect()
}

/// Known methods on distributions.
pub const METHODS: &[&str] = &["to_event", "expand"];

/// Lower `prog`; `env` supplies shapes for parameters the program does not declare
/// (e.g. from data). Declared shapes win; disagreements are reported by the caller that binds data.
pub fn lower(prog: &Program, env: &BTreeMap<String, Shape>) -> Result<Ir, Diagnostics> {
    let mut cx = Lower { ir: Ir::default(), errors: Diagnostics::default(), declared: BTreeMap::new(), env };
    cx.declarations(&prog.decls);
    let root = cx.expr(&prog.expr);
    cx.ir.root = root;
    let Lower { ir, errors, .. } = cx;
    errors.into_result(ir)
}

struct Lower<'a> {
    ir: Ir,
    errors: Diagnostics,
    declared: BTreeMap<String, Span>,
    env: &'a BTreeMap<String, Shape>,
}

impl Lower<'_> {
    fn declarations(&mut self, decls: &[ast::Decl]) {
        for decl in decls {
            let shape = decl.shape.to_shape();
            for name in &decl.names {
                if let Some(first) = self.declared.insert(name.name.clone(), name.span) {
                    self.errors.push(
                        Diagnostic::new("decl::duplicate", name.span, format!("`{}` is declared twice", name.name))
                            .label("declared again here")
                            .note(first, "first declared here"),
                    );
                }
                self.ir.shapes.insert(name.name.clone(), shape.clone());
                self.note_order(&name.name);
            }
        }
    }

    /// The base family under `Independent` / `expand` wrappers.
    fn base_family(&self, id: NodeId) -> Option<&'static Family> {
        self.ir.op(crate::simplify::strip(&self.ir, id).0).family()
    }

    /// The argument order: declarations first, then first appearance.
    fn note_order(&mut self, name: &str) {
        if !self.ir.order.iter().any(|n| n == name) {
            self.ir.order.push(name.to_string());
        }
    }

    fn expr(&mut self, e: &Expr) -> Option<NodeId> {
        match e {
            Expr::Kl { p, q, op } => {
                let (p, q) = (self.dist(p), self.dist(q));
                Some(self.ir.add(Op::Kl, *op, &[p?, q?]))
            }
            Expr::LogProb { dist, value, span } => {
                let d = self.dist(dist);
                // Rule: the value lies in the family's support.
                let role = d.and_then(|d| self.base_family(d)).map_or(Role::Real, |f| f.support.value_role());
                let x = self.value(value, role);
                Some(self.ir.add(Op::LogProb, *span, &[d?, x?]))
            }
            Expr::Entropy { dist, span } => {
                let d = self.dist(dist)?;
                Some(self.ir.add(Op::Entropy, *span, &[d]))
            }
        }
    }

    fn dist(&mut self, d: &DistExpr) -> Option<NodeId> {
        match d {
            DistExpr::Independent { base, n, span, .. } => {
                let b = self.dist(base)?;
                Some(self.ir.add(Op::Independent(*n), *span, &[b]))
            }
            DistExpr::Expand { base, shape, span } => {
                let b = self.dist(base)?;
                Some(self.ir.add(Op::Expand(shape.to_shape()), *span, &[b]))
            }
            DistExpr::UnknownMethod { base, name, .. } => {
                let _ = self.dist(base);
                let mut err = Diagnostic::new(
                    "name::unknown_method",
                    name.span,
                    format!("unknown method `{}` on a distribution", name.name),
                )
                .label("unknown method");
                err = match suggest(&name.name, METHODS) {
                    Some(s) => err.help(format!("did you mean `{s}`?")),
                    None => err.help("the methods are `to_event(n)` and `expand([shape])`"),
                };
                self.errors.push(err);
                None
            }
            DistExpr::Call { name, args, span } => match family::lookup(&name.name) {
                Some(f) => self.family(f, args, *span),
                None => {
                    let other = name.name.as_str();
                    let mut err = Diagnostic::new(
                        "name::unknown_distribution",
                        name.span,
                        format!("unknown distribution `{other}`"),
                    )
                    .label("not a distribution kl knows");
                    let names = distribution_names();
                    err = match suggest(other, &names) {
                        Some(s) => err.help(format!("did you mean `{s}`?")),
                        None => err.help(format!("the distributions are {}", names.join(", "))),
                    };
                    self.errors.push(err);
                    None
                }
            },
        }
    }

    /// A base family from its descriptor: bind the arguments to its slots, pick the given
    /// alternative of each slot (exactly one), and lower the values with their roles.
    fn family(&mut self, family: &'static Family, args: &[Arg], span: Span) -> Option<NodeId> {
        let positional = family.positional();
        // Rule: a keyword-only slot is never given by position.
        if let Some(arg) = args.iter().filter(|a| a.name.is_none()).nth(positional.len()) {
            if let Some(m) = family.slots.get(positional.len()).and_then(|s| s.keyword_only.as_ref()) {
                self.errors.push(Diagnostic::new(m.code, arg.span, m.message).label(m.label).help(m.help));
                return None;
            }
        }
        let a = self.bind_args(family.name, args, &positional, &family.keywords())?;
        // Rule: each slot is given exactly one way.
        let mut chosen: Vec<Option<&Alt>> = Vec::new();
        for slot in family.slots {
            let given: Vec<&Alt> = slot.alternatives.iter().filter(|alt| a.contains_key(alt.keyword)).collect();
            chosen.push(match (given.as_slice(), &slot.missing) {
                ([one], _) => Some(*one),
                // Left to its default (a single-alternative slot; the literal is put in below).
                ([], _) if slot.default.is_some() => Some(&slot.alternatives[0]),
                ([], Some(m)) => {
                    self.errors.push(
                        Diagnostic::new("param::missing", span, format!("`{}` needs {}", family.name, m.what))
                            .label(m.label)
                            .help(m.help),
                    );
                    None
                }
                ([], None) => {
                    let key = slot.alternatives[0].keyword;
                    self.errors.push(
                        Diagnostic::new("param::missing", span, format!("`{}` needs `{key}`", family.name))
                            .label(format!("`{key}` missing")),
                    );
                    None
                }
                (many, _) => {
                    self.conflict(family.name, many.iter().map(|alt| &a[alt.keyword]), span);
                    None
                }
            });
        }
        let chosen: Vec<&Alt> = chosen.into_iter().collect::<Option<_>>()?;
        let choice = family
            .choice_slot()
            .and_then(|s| family.slots[s].alternatives.iter().position(|alt| std::ptr::eq(alt, chosen[s])))
            .unwrap_or(0) as u8;
        // Values in slot order, each with the role of the way it was given.
        let mut operands = Vec::new();
        for (alt, slot) in chosen.iter().zip(family.slots) {
            let Some(arg) = a.get(alt.keyword) else {
                // Not given: only a slot with a default gets here.
                operands.push(slot.default.map(|v| self.ir.add(Op::Literal(v), span, &[])));
                continue;
            };
            let role = match (&arg.value, alt.diag_role) {
                (Value::Diag(..), Some(r)) => r,
                _ => alt.role,
            };
            operands.push(self.value(&arg.value, role));
        }
        let operands: Vec<NodeId> = operands.into_iter().collect::<Option<_>>()?;
        Some(self.ir.add(Op::Dist(Dist { family, choice }), span, &operands))
    }

    /// Match positional and keyword arguments to parameter names.
    fn bind_args<'a>(
        &mut self,
        family: &str,
        args: &'a [Arg],
        positional: &[&'static str],
        keys: &[&'static str],
    ) -> Option<BTreeMap<&'static str, &'a Arg>> {
        let mut out: BTreeMap<&'static str, &'a Arg> = BTreeMap::new();
        let mut ok = true;
        let mut pos = 0;
        for arg in args {
            let key = match &arg.name {
                None => {
                    let Some(k) = positional.get(pos) else {
                        self.errors.push(
                            Diagnostic::new(
                                "param::too_many",
                                arg.span,
                                format!("`{family}` takes at most {} positional argument(s)", positional.len()),
                            )
                            .label("extra argument")
                            .help(format!(
                                "name it: one of {}",
                                keys.iter().map(|k| format!("`{k}=`")).collect::<Vec<_>>().join(", ")
                            )),
                        );
                        ok = false;
                        continue;
                    };
                    pos += 1;
                    *k
                }
                Some(name) => match keys.iter().find(|k| **k == name.name) {
                    Some(k) => k,
                    None => {
                        let mut err = Diagnostic::new(
                            "name::unknown_parameter",
                            name.span,
                            format!("`{family}` has no parameter `{}`", name.name),
                        )
                        .label("unknown parameter");
                        err = match suggest(&name.name, keys) {
                            Some(s) => err.help(format!("did you mean `{s}`?")),
                            None => err.help(format!("its parameters are {}", keys.join(", "))),
                        };
                        self.errors.push(err);
                        ok = false;
                        continue;
                    }
                },
            };
            if let Some(prev) = out.insert(key, arg) {
                self.errors.push(
                    Diagnostic::new("param::duplicate", arg.span, format!("`{key}` is given twice"))
                        .label("given again here")
                        .note(prev.span, "first given here"),
                );
                ok = false;
            }
        }
        ok.then_some(out)
    }

    fn conflict<'a>(&mut self, family: &str, args: impl Iterator<Item = &'a &'a Arg>, span: Span) {
        let args: Vec<&Arg> = args.copied().collect();
        let names: Vec<String> = args
            .iter()
            .map(|a| a.name.as_ref().map_or("scale (positional)".to_string(), |n| format!("`{}`", n.name)))
            .collect();
        let mut err = Diagnostic::new(
            "param::conflicting",
            args.get(1).map_or(span, |a| a.span),
            format!("`{family}` takes exactly one parameterization, but {} are given", names.join(" and ")),
        )
        .label("second parameterization");
        if let Some(first) = args.first() {
            err = err.note(first.span, "first parameterization");
        }
        self.errors.push(err.help("keep one of them"));
    }

    fn value(&mut self, v: &Value, role: Role) -> Option<NodeId> {
        match v {
            Value::Number(x, span) => Some(self.ir.add(Op::Literal(*x), *span, &[])),
            Value::Diag(inner, span) => {
                let role = if role == Role::PositiveDiag { Role::Positive } else { role };
                let inner = self.value(inner, role)?;
                Some(self.ir.add(Op::Diag, *span, &[inner]))
            }
            Value::Param(id) => {
                self.note_order(&id.name);
                self.ir.roles.entry(id.name.clone()).or_default().push(role);
                if let Some(&node) = self.ir.params.get(&id.name) {
                    return Some(node);
                }
                if !self.ir.shapes.contains_key(&id.name) {
                    match self.env.get(&id.name) {
                        Some(shape) => {
                            self.ir.shapes.insert(id.name.clone(), shape.clone());
                        }
                        None => {
                            self.errors.push(
                                Diagnostic::new("decl::missing", id.span, format!("the shape of `{}` is not declared", id.name))
                                    .label("shape unknown")
                                    .help(format!("declare it after the expression, e.g. `where {}: [B, 8]`, or pass data with `klc eval`", id.name)),
                            );
                            return None;
                        }
                    }
                }
                let node = self.ir.add(Op::Param(id.name.clone()), id.span, &[]);
                self.ir.params.insert(id.name.clone(), node);
                Some(node)
            }
        }
    }
}
