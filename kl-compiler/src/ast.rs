//! The syntax tree of one kl program, as written, with spans.

use crate::span::Span;

/// `expr where decls`
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub expr: Expr,
    pub decls: Vec<Decl>,
}

impl Program {
    /// The parameters the expression names, each once, in order of first appearance (the
    /// first occurrence's identifier). Declarations are not uses.
    pub fn params(&self) -> Vec<&Ident> {
        fn value<'a>(v: &'a Value, out: &mut Vec<&'a Ident>) {
            match v {
                Value::Param(i) => {
                    if !out.iter().any(|o| o.name == i.name) {
                        out.push(i);
                    }
                }
                Value::Diag(inner, _) => value(inner, out),
                Value::Number(..) => {}
            }
        }
        fn dist<'a>(d: &'a Dist, out: &mut Vec<&'a Ident>) {
            match d {
                Dist::Call { args, .. } => args.iter().for_each(|a| value(&a.value, out)),
                Dist::Independent { base, .. } | Dist::Expand { base, .. } | Dist::UnknownMethod { base, .. } => {
                    dist(base, out)
                }
            }
        }
        let mut out = Vec::new();
        match &self.expr {
            Expr::Kl { p, q, .. } => {
                dist(p, &mut out);
                dist(q, &mut out);
            }
            Expr::LogProb { dist: d, value: v, .. } => {
                dist(d, &mut out);
                value(v, &mut out);
            }
            Expr::Entropy { dist: d, .. } => dist(d, &mut out),
        }
        out
    }
}

/// An identifier with its location.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `a, b: [B, 8]`
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub names: Vec<Ident>,
    pub shape: ShapeLit,
}

/// `[B, 8]` as written.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeLit {
    pub dims: Vec<DimLit>,
    pub span: Span,
}

impl ShapeLit {
    /// The shape it denotes.
    pub fn to_shape(&self) -> crate::shape::Shape {
        use crate::shape::Dim;
        crate::shape::Shape(
            self.dims
                .iter()
                .map(|d| match d {
                    DimLit::Static(n, _) => Dim::Static(*n),
                    DimLit::Symbol(id) => Dim::Symbol(id.name.clone()),
                })
                .collect(),
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum DimLit {
    Static(usize, Span),
    Symbol(Ident),
}

impl DimLit {
    pub fn span(&self) -> Span {
        match self {
            DimLit::Static(_, s) => *s,
            DimLit::Symbol(i) => i.span,
        }
    }
}

/// The top-level query.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `p || q`
    Kl { p: Dist, q: Dist, op: Span },
    /// `log_prob(dist, value)`
    LogProb { dist: Dist, value: Value, span: Span },
    /// `entropy(dist)`
    Entropy { dist: Dist, span: Span },
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Kl { p, q, .. } => p.span().join(q.span()),
            Expr::LogProb { span, .. } | Expr::Entropy { span, .. } => *span,
        }
    }
}

/// A distribution expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// `Name(args)`; the name is checked against the known families during lowering.
    Call { name: Ident, args: Vec<Arg>, span: Span },
    /// `Independent(base, n)` or `base.to_event(n)`
    Independent { base: Box<Dist>, n: usize, n_span: Span, span: Span },
    /// `base.expand([shape])`
    Expand { base: Box<Dist>, shape: ShapeLit, span: Span },
    /// `base.name(..)` for a method kl does not know; reported during lowering.
    UnknownMethod { base: Box<Dist>, name: Ident, span: Span },
}

impl Dist {
    pub fn span(&self) -> Span {
        match self {
            Dist::Call { span, .. }
            | Dist::Independent { span, .. }
            | Dist::Expand { span, .. }
            | Dist::UnknownMethod { span, .. } => *span,
        }
    }
}

/// `name = value` or a positional `value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Value,
    pub span: Span,
}

/// A parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Param(Ident),
    Number(f64, Span),
    /// `diag(v)`: a matrix with `v` on its diagonal.
    Diag(Box<Value>, Span),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Param(i) => i.span,
            Value::Number(_, s) | Value::Diag(_, s) => *s,
        }
    }
}
