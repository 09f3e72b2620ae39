//! Lowering: the syntax tree becomes IR nodes. Names are resolved here (distribution
//! families, parameterizations, methods, parameter shapes); every problem is collected.

use crate::ast::{self, Arg, Dist, Expr, Program, Value};
use crate::diag::{suggest, Diagnostic, Diagnostics};
use crate::ir::{Ir, MvnParam, NodeId, NormalParam, Op, Role};
use crate::shape::Shape;
use crate::span::Span;
use std::collections::BTreeMap;

/// Known distribution families.
pub const FAMILIES: &[&str] = &["Normal", "MultivariateNormal", "LowRankMultivariateNormal", "Independent"];

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
                let x = self.value(value, Role::Real);
                Some(self.ir.add(Op::LogProb, *span, &[d?, x?]))
            }
            Expr::Entropy { dist, span } => {
                let d = self.dist(dist)?;
                Some(self.ir.add(Op::Entropy, *span, &[d]))
            }
        }
    }

    fn dist(&mut self, d: &Dist) -> Option<NodeId> {
        match d {
            Dist::Independent { base, n, span, .. } => {
                let b = self.dist(base)?;
                Some(self.ir.add(Op::Independent(*n), *span, &[b]))
            }
            Dist::Expand { base, shape, span } => {
                let b = self.dist(base)?;
                Some(self.ir.add(Op::Expand(shape.to_shape()), *span, &[b]))
            }
            Dist::UnknownMethod { base, name, .. } => {
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
            Dist::Call { name, args, span } => match name.name.as_str() {
                "Normal" => self.normal(args, *span),
                "MultivariateNormal" => self.mvn(args, *span),
                "LowRankMultivariateNormal" => self.low_rank(args, *span),
                other => {
                    let mut err = Diagnostic::new(
                        "name::unknown_distribution",
                        name.span,
                        format!("unknown distribution `{other}`"),
                    )
                    .label("not a distribution kl knows");
                    err = match suggest(other, FAMILIES) {
                        Some(s) => err.help(format!("did you mean `{s}`?")),
                        None => err.help(format!("the distributions are {}", FAMILIES.join(", "))),
                    };
                    self.errors.push(err);
                    None
                }
            },
        }
    }

    fn normal(&mut self, args: &[Arg], span: Span) -> Option<NodeId> {
        let mut keys = vec!["loc"];
        keys.extend(NormalParam::ALL.iter().map(|p| p.keyword()));
        let a = self.bind_args("Normal", args, &["loc", "scale"], &keys)?;
        let loc = self.required(&a, "loc", "Normal", span);
        let given: Vec<_> = NormalParam::ALL.iter().filter(|p| a.contains_key(p.keyword())).collect();
        let param = match given.as_slice() {
            [one] => Some(**one),
            [] => {
                self.errors.push(
                    Diagnostic::new("param::missing", span, "`Normal` needs a scale")
                        .label("no scale given")
                        .help("give exactly one of `scale=`, `var=`, `log_scale=` or `precision=` (a second positional argument is the scale, the standard deviation)"),
                );
                None
            }
            many => {
                self.conflict("Normal", many.iter().map(|p| &a[p.keyword()]), span);
                None
            }
        };
        let (loc, param) = (loc?, param?);
        let role = if param == NormalParam::LogScale { Role::Real } else { Role::Positive };
        let loc = self.value(&loc.value, Role::Real);
        let p = self.value(&a[param.keyword()].value, role);
        Some(self.ir.add(Op::Normal(param), span, &[loc?, p?]))
    }

    fn mvn(&mut self, args: &[Arg], span: Span) -> Option<NodeId> {
        let mut keys = vec!["loc"];
        keys.extend(MvnParam::ALL.iter().map(|p| p.keyword()));
        if let Some(second) = args.iter().filter(|a| a.name.is_none()).nth(1) {
            self.errors.push(
                Diagnostic::new(
                    "param::positional_matrix",
                    second.span,
                    "the matrix of a `MultivariateNormal` must be passed by keyword",
                )
                .label("positional matrix")
                .help("write `covariance_matrix=`, `scale_tril=` or `precision_matrix=`: they differ, and guessing is how the scale-versus-variance bug starts"),
            );
            return None;
        }
        let a = self.bind_args("MultivariateNormal", args, &["loc"], &keys)?;
        let loc = self.required(&a, "loc", "MultivariateNormal", span);
        let given: Vec<_> = MvnParam::ALL.iter().filter(|p| a.contains_key(p.keyword())).collect();
        let param = match given.as_slice() {
            [one] => Some(**one),
            [] => {
                self.errors.push(
                    Diagnostic::new("param::missing", span, "`MultivariateNormal` needs a matrix")
                        .label("no matrix given")
                        .help("give exactly one of `covariance_matrix=`, `scale_tril=` or `precision_matrix=`"),
                );
                None
            }
            many => {
                self.conflict("MultivariateNormal", many.iter().map(|p| &a[p.keyword()]), span);
                None
            }
        };
        let (loc, param) = (loc?, param?);
        let m = &a[param.keyword()];
        let role = match (param, &m.value) {
            (_, Value::Diag(..)) => Role::PositiveDiag,
            (MvnParam::ScaleTril, _) => Role::ScaleTril,
            _ => Role::SpdMatrix,
        };
        let loc = self.value(&loc.value, Role::Real);
        let m = self.value(&m.value, role);
        Some(self.ir.add(Op::Mvn(param), span, &[loc?, m?]))
    }

    fn low_rank(&mut self, args: &[Arg], span: Span) -> Option<NodeId> {
        let keys = ["loc", "cov_factor", "cov_diag"];
        let a = self.bind_args("LowRankMultivariateNormal", args, &keys, &keys)?;
        let loc = self.required(&a, "loc", "LowRankMultivariateNormal", span);
        let w = self.required(&a, "cov_factor", "LowRankMultivariateNormal", span);
        let d = self.required(&a, "cov_diag", "LowRankMultivariateNormal", span);
        let (loc, w, d) = (loc?, w?, d?);
        let loc = self.value(&loc.value, Role::Real);
        let w = self.value(&w.value, Role::Real);
        let d = self.value(&d.value, Role::Positive);
        Some(self.ir.add(Op::LowRankMvn, span, &[loc?, w?, d?]))
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

    fn required<'a>(
        &mut self,
        a: &BTreeMap<&'static str, &'a Arg>,
        key: &str,
        family: &str,
        span: Span,
    ) -> Option<&'a Arg> {
        let found = a.get(key).copied();
        if found.is_none() {
            self.errors.push(
                Diagnostic::new("param::missing", span, format!("`{family}` needs `{key}`"))
                    .label(format!("`{key}` missing")),
            );
        }
        found
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
