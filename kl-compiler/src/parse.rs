//! The text front end: a nom grammar over located input, so every node keeps its span.
//!
//! ```text
//! program := expr ("where" decl (("," | ";") decl)*)?
//! expr    := "log_prob" "(" dist "," value ")" | "entropy" "(" dist ")" | dist "||" dist
//! dist    := primary ("." "to_event" "(" int ")" | "." "expand" "(" shape ")")*
//! primary := "Independent" "(" dist "," int ")" | Name "(" (arg ("," arg)*)? ")"
//! arg     := (ident "=")? value
//! value   := number | "diag" "(" value ")" | ident
//! decl    := ident ("," ident)* ":" shape
//! shape   := "[" (dim ("," dim)*)? "]"        dim := int | ident
//! ```
//! Whitespace and newlines are free; `#` and `//` start comments.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::span::Span;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while, take_while1};
use nom::character::complete::{char, digit1, multispace1, one_of};
use nom::combinator::{cut, eof, opt, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::multi::{many0, separated_list0, separated_list1};
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};
use nom_locate::LocatedSpan;

type In<'a> = LocatedSpan<&'a str>;
type PResult<'a, O> = IResult<In<'a>, O, PError>;

/// Words that cannot name a parameter.
pub const KEYWORDS: &[&str] = &["where", "diag", "log_prob", "entropy", "Independent"];

/// Deepest bracket nesting accepted, and deepest nesting of distribution wrappers
/// (`Independent(..)`, `.to_event(n)`, `.expand(..)`, which need no brackets to nest when
/// chained); guards every recursive stage after the parser against stack exhaustion.
pub const MAX_NESTING: usize = 64;

/// Parse a whole program, or report the furthest point the grammar could reach.
pub fn parse(src: &str) -> Result<Program, Diagnostic> {
    check_nesting(src)?;
    let input = In::new(src);
    match terminated(program, (skip, eof)).parse(input) {
        Ok((_, prog)) => Ok(prog),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e.into_diagnostic(src)),
        Err(nom::Err::Incomplete(_)) => Err(PError::at(src.len(), "more input").into_diagnostic(src)),
    }
}

fn check_nesting(src: &str) -> Result<(), Diagnostic> {
    let mut depth = 0usize;
    for (i, c) in src.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_NESTING {
            return Err(Diagnostic::new(
                "parse::too_deep",
                Span::new(i, i + 1),
                format!("brackets nested deeper than {MAX_NESTING} levels"),
            )
            .label("too deep"));
        }
    }
    Ok(())
}

/// The furthest failure and what would have been accepted there.
#[derive(Debug, Clone, PartialEq)]
pub struct PError {
    offset: usize,
    expected: Vec<&'static str>,
    /// Distribution wrappers nested deeper than [`MAX_NESTING`] at `offset`.
    too_deep: bool,
    /// A hint for the diagnostic, e.g. a query word misspelled as a distribution name.
    help: Option<String>,
}

impl PError {
    fn at(offset: usize, what: &'static str) -> Self {
        PError { offset, expected: vec![what], too_deep: false, help: None }
    }

    fn into_diagnostic(mut self, src: &str) -> Diagnostic {
        if self.too_deep {
            let span = Span::new(self.offset, self.offset + token_at(src, self.offset).len().max(1)).clamp_to(src);
            return Diagnostic::new(
                "parse::too_deep",
                span,
                format!("distributions nested deeper than {MAX_NESTING} levels"),
            )
            .label("too deep");
        }
        self.expected.sort_unstable();
        self.expected.dedup();
        let expected = match self.expected.as_slice() {
            [] => "valid syntax".to_string(),
            [one] => one.to_string(),
            many => format!("one of {}", many.join(", ")),
        };
        // At the end of input, point just after the last visible character, not at an
        // empty line that trailing newlines would give.
        let at_end = src.get(self.offset..).is_none_or(|rest| rest.trim().is_empty());
        if at_end {
            self.offset = src.trim_end().len();
        }
        let found = if at_end { "" } else { token_at(src, self.offset) };
        let span = Span::new(self.offset, self.offset + found.len().max(1)).clamp_to(src);
        let found = if found.is_empty() { "end of input".to_string() } else { format!("`{found}`") };
        let d = Diagnostic::new("parse::syntax", span, format!("expected {expected}, found {found}"))
            .label(format!("expected {expected}"));
        match self.help {
            Some(help) => d.help(help),
            None => d,
        }
    }
}

impl Span {
    fn clamp_to(self, src: &str) -> Span {
        let end = self.end.min(src.len());
        Span::new(self.start.min(end), end)
    }
}

/// The token starting at `offset`: an identifier/number run, or one character.
fn token_at(src: &str, offset: usize) -> &str {
    let rest = src.get(offset..).unwrap_or("");
    let word = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
        .map_or(rest.len(), |(i, _)| i);
    let n = if word > 0 { word } else { rest.chars().next().map_or(0, char::len_utf8) };
    let n = if rest.starts_with("||") { 2 } else { n };
    &rest[..n]
}

impl<'a> ParseError<In<'a>> for PError {
    fn from_error_kind(input: In<'a>, _kind: ErrorKind) -> Self {
        PError { offset: input.location_offset(), expected: Vec::new(), too_deep: false, help: None }
    }

    fn append(_input: In<'a>, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    fn or(mut self, other: Self) -> Self {
        use std::cmp::Ordering::*;
        match self.offset.cmp(&other.offset) {
            Greater => self,
            Less => other,
            Equal => {
                self.expected.extend(other.expected);
                self
            }
        }
    }
}

/// Name what `p` would have accepted when it fails without consuming anything.
fn expect<'a, O>(
    what: &'static str,
    mut p: impl Parser<In<'a>, Output = O, Error = PError>,
) -> impl FnMut(In<'a>) -> PResult<'a, O> {
    move |i: In<'a>| {
        let at = i.location_offset();
        p.parse(i).map_err(|e| {
            e.map(|mut err| {
                if err.offset == at {
                    err.expected = vec![what];
                }
                err
            })
        })
    }
}

fn span_of(start: In<'_>, end: In<'_>) -> Span {
    Span::new(start.location_offset(), end.location_offset())
}

/// Whitespace and comments.
fn skip(i: In<'_>) -> PResult<'_, ()> {
    let comment =
        alt((recognize((tag("#"), take_till(|c| c == '\n'))), recognize((tag("//"), take_till(|c| c == '\n')))));
    let (i, _) = many0(alt((multispace1, comment))).parse(i)?;
    Ok((i, ()))
}

/// `p` after optional whitespace.
fn tok<'a, O>(p: impl Parser<In<'a>, Output = O, Error = PError>) -> impl Parser<In<'a>, Output = O, Error = PError> {
    preceded(skip, p)
}

fn sym<'a>(s: &'static str, what: &'static str) -> impl Parser<In<'a>, Output = In<'a>, Error = PError> {
    tok(expect(what, tag(s)))
}

fn raw_ident(i: In<'_>) -> PResult<'_, Ident> {
    let (rest, text) = expect(
        "an identifier",
        recognize((
            take_while1(|c: char| c.is_ascii_alphabetic() || c == '_'),
            take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
        )),
    )(i)?;
    Ok((rest, Ident { name: text.fragment().to_string(), span: span_of(text, rest) }))
}

fn ident(i: In<'_>) -> PResult<'_, Ident> {
    tok(raw_ident).parse(i)
}

/// A keyword: the identifier `word`, not a prefix of a longer one.
fn keyword<'a>(word: &'static str) -> impl FnMut(In<'a>) -> PResult<'a, Ident> {
    move |i: In<'a>| {
        let (rest, id) = ident(i)?;
        if id.name == word {
            Ok((rest, id))
        } else {
            Err(nom::Err::Error(PError::at(id.span.start, word_label(word))))
        }
    }
}

fn word_label(word: &'static str) -> &'static str {
    match word {
        "where" => "`where`",
        "log_prob" => "`log_prob`",
        "entropy" => "`entropy`",
        "diag" => "`diag`",
        "Independent" => "`Independent`",
        "to_event" => "`to_event`",
        "expand" => "`expand`",
        _ => "a keyword",
    }
}

fn integer(i: In<'_>) -> PResult<'_, (usize, Span)> {
    let (rest, digits) = tok(expect("an integer", digit1)).parse(i)?;
    let span = span_of(digits, rest);
    match digits.fragment().parse::<usize>() {
        Ok(n) => Ok((rest, (n, span))),
        Err(_) => Err(nom::Err::Failure(PError::at(span.start, "an integer that fits in usize"))),
    }
}

fn number(i: In<'_>) -> PResult<'_, Value> {
    let (rest, text) = tok(expect(
        "a number",
        recognize((
            opt(one_of("+-")),
            digit1,
            opt((char('.'), take_while(|c: char| c.is_ascii_digit()))),
            opt((one_of("eE"), opt(one_of("+-")), digit1)),
        )),
    ))
    .parse(i)?;
    let span = span_of(text, rest);
    match text.fragment().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok((rest, Value::Number(v, span))),
        _ => Err(nom::Err::Failure(PError::at(span.start, "a finite number"))),
    }
}

fn value(i: In<'_>) -> PResult<'_, Value> {
    let diag = |i| {
        let (i, kw) = keyword("diag")(i)?;
        let (i, _) = sym("(", "`(`").parse(i)?;
        let (i, inner) = cut(value).parse(i)?;
        let (rest, close) = cut(sym(")", "`)`")).parse(i)?;
        Ok((rest, Value::Diag(Box::new(inner), kw.span.join(span_of(close, rest)))))
    };
    let param = |i| {
        let (rest, id) = ident(i)?;
        if KEYWORDS.contains(&id.name.as_str()) {
            return Err(nom::Err::Error(PError::at(id.span.start, "a parameter name")));
        }
        Ok((rest, Value::Param(id)))
    };
    expect("a parameter name, number or `diag(..)`", alt((number, diag, param)))(i)
}

fn arg(i: In<'_>) -> PResult<'_, Arg> {
    let (i, name) = opt(terminated(ident, sym("=", "`=`"))).parse(i)?;
    let (rest, value) = value(i)?;
    let start = name.as_ref().map_or(value.span(), |n| n.span);
    let span = start.join(value.span());
    Ok((rest, Arg { name, value, span }))
}

fn shape(i: In<'_>) -> PResult<'_, ShapeLit> {
    let (i, _) = skip(i)?;
    let start = i;
    let dim = |i| {
        alt((
            |i| integer(i).map(|(r, (n, s))| (r, DimLit::Static(n, s))),
            |i| ident(i).map(|(r, id)| (r, DimLit::Symbol(id))),
        ))
        .parse(i)
    };
    let (i, _) = sym("[", "`[`").parse(i)?;
    let (i, dims) = cut(separated_list0(sym(",", "`,`"), dim)).parse(i)?;
    let (i, _) = opt(sym(",", "`,`")).parse(i)?;
    let (rest, _) = cut(sym("]", "`]` or `,`")).parse(i)?;
    Ok((rest, ShapeLit { dims, span: span_of(start, rest) }))
}

fn primary(i: In<'_>, depth: usize) -> PResult<'_, Dist> {
    let (i, name) = expect("a distribution such as `Normal(..)`", ident)(i)?;
    let (i, _) = sym("(", "`(`").parse(i).map_err(|e: nom::Err<PError>| {
        e.map(|mut err| {
            // `where m, s: [3]` written before the expression.
            if name.name == "where" {
                err.help = Some("declarations come after the expression: `P || Q where m, s: [B, 3]`".into());
            }
            err
        })
    })?;
    if name.name == "Independent" {
        let (i, base) = cut(|i| dist_at(i, depth + 1)).parse(i)?;
        let (i, _) = cut(sym(",", "`,`")).parse(i)?;
        let (i, (n, n_span)) = cut(integer).parse(i)?;
        let (rest, close) = cut(sym(")", "`)`")).parse(i)?;
        let span = name.span.join(span_of(close, rest));
        return Ok((rest, Dist::Independent { base: Box::new(base), n, n_span, span }));
    }
    let args = |i| -> PResult<'_, (Vec<Arg>, In<'_>)> {
        let (i, args) = cut(separated_list0(sym(",", "`,`"), arg)).parse(i)?;
        let (i, _) = opt(sym(",", "`,`")).parse(i)?;
        let (rest, close) = cut(sym(")", "`)` or `,`")).parse(i)?;
        Ok((rest, (args, close)))
    };
    // A misspelled query (`entrpy(Normal(..))`) parses as a distribution call whose argument
    // is a distribution; say which query was probably meant.
    let (rest, (args, close)) = args(i).map_err(|e: nom::Err<PError>| {
        e.map(|mut err| {
            if let Some(q) = crate::diag::suggest(&name.name, &["entropy", "log_prob"]) {
                err.help = Some(format!("`{}` is not a distribution; did you mean the query `{q}(..)`?", name.name));
            }
            err
        })
    })?;
    let span = name.span.join(span_of(close, rest));
    Ok((rest, Dist::Call { name, args, span }))
}

enum Method {
    ToEvent(usize, Span),
    Expand(ShapeLit),
    Unknown(Ident),
}

fn method(i: In<'_>) -> PResult<'_, (Method, Span)> {
    let (i, _) = sym(".", "`.`").parse(i)?;
    let (i, name) = cut(expect("a method such as `to_event` or `expand`", ident)).parse(i)?;
    let (i, _) = cut(sym("(", "`(`")).parse(i)?;
    let (i, m) = match name.name.as_str() {
        "to_event" => {
            let (i, (n, s)) = cut(integer).parse(i)?;
            (i, Method::ToEvent(n, s))
        }
        "expand" => {
            let (i, s) = cut(shape).parse(i)?;
            (i, Method::Expand(s))
        }
        _ => {
            let (i, _) = take_till(|c| c == ')')(i)?;
            (i, Method::Unknown(name.clone()))
        }
    };
    let (rest, close) = cut(sym(")", "`)`")).parse(i)?;
    Ok((rest, (m, span_of(close, rest))))
}

fn dist(i: In<'_>) -> PResult<'_, Dist> {
    dist_at(i, 0)
}

/// A distribution inside `depth` wrappers.
fn dist_at(i: In<'_>, mut depth: usize) -> PResult<'_, Dist> {
    if depth > MAX_NESTING {
        return Err(nom::Err::Failure(PError { too_deep: true, ..PError::at(i.location_offset(), "") }));
    }
    let (mut i, mut d) = primary(i, depth)?;
    loop {
        match method(i) {
            Ok((rest, (m, close))) => {
                // Each method wraps the distribution once more; a chain of them nests with no
                // brackets, so the bracket limit does not bound it.
                depth += 1;
                if depth > MAX_NESTING {
                    let at = skip(i).map_or(i.location_offset(), |(j, _)| j.location_offset());
                    return Err(nom::Err::Failure(PError { too_deep: true, ..PError::at(at, "") }));
                }
                let span = d.span().join(close);
                let base = Box::new(d);
                d = match m {
                    Method::ToEvent(n, n_span) => Dist::Independent { base, n, n_span, span },
                    Method::Expand(shape) => Dist::Expand { base, shape, span },
                    Method::Unknown(name) => Dist::UnknownMethod { base, name, span },
                };
                i = rest;
            }
            // No `.` here: the distribution ends; the caller names what may follow.
            Err(nom::Err::Error(_)) => return Ok((i, d)),
            Err(e) => return Err(e),
        }
    }
}

fn expr(i: In<'_>) -> PResult<'_, Expr> {
    let log_prob = |i| {
        let (i, kw) = keyword("log_prob")(i)?;
        let (i, _) = sym("(", "`(`").parse(i)?;
        let (i, d) = cut(dist).parse(i)?;
        let (i, _) = cut(sym(",", "`,`")).parse(i)?;
        let (i, v) = cut(value).parse(i)?;
        let (rest, close) = cut(sym(")", "`)`")).parse(i)?;
        let span = kw.span.join(span_of(close, rest));
        Ok((rest, Expr::LogProb { dist: d, value: v, span }))
    };
    let entropy = |i| {
        let (i, kw) = keyword("entropy")(i)?;
        let (i, _) = sym("(", "`(`").parse(i)?;
        let (i, d) = cut(dist).parse(i)?;
        let (rest, close) = cut(sym(")", "`)`")).parse(i)?;
        let span = kw.span.join(span_of(close, rest));
        Ok((rest, Expr::Entropy { dist: d, span }))
    };
    let kl = |i| {
        let (i, p) = dist(i)?;
        let (i, op) = expect_after_dist(i)?;
        let (i, q) = cut(expect("a distribution after `||`", dist)).parse(i)?;
        Ok((i, Expr::Kl { p, q, op }))
    };
    expect(
        "a distribution such as `Normal(loc, scale)`, or `log_prob(..)` / `entropy(..)`",
        alt((log_prob, entropy, kl)),
    )(i)
}

/// `||` after the first distribution; a method call is the other thing that may follow.
fn expect_after_dist(i: In<'_>) -> PResult<'_, Span> {
    let (rest, op) = tok(expect("`||` or a method call (`.to_event(n)`)", tag("||"))).parse(i)?;
    Ok((rest, span_of(op, rest)))
}

fn decl(i: In<'_>) -> PResult<'_, Decl> {
    let (i, names) = separated_list1(sym(",", "`,`"), ident).parse(i)?;
    let (i, _) = cut(sym(":", "`:` and a shape")).parse(i)?;
    let (rest, shape) = cut(shape).parse(i)?;
    Ok((rest, Decl { names, shape }))
}

fn program(i: In<'_>) -> PResult<'_, Program> {
    let (i, e) = expr(i)?;
    let (i, decls) =
        opt(preceded(keyword("where"), cut(separated_list1(alt((sym(",", "`,`"), sym(";", "`;`"))), decl))))
            .parse(i)?;
    let (i, _) = opt(sym(";", "`;`")).parse(i)?;
    // Anything else must be the end: say what could have continued.
    let (i, _) = skip(i)?;
    if !i.fragment().is_empty() {
        let what =
            if decls.is_none() { "`where` or end of input" } else { "`,` and another declaration, or end of input" };
        return Err(nom::Err::Failure(PError::at(i.location_offset(), what)));
    }
    Ok((i, Program { expr: e, decls: decls.unwrap_or_default() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        parse(src).unwrap_err().render_plain(src)
    }

    #[test]
    fn parses_the_design_card_line() {
        let p = parse("Normal(mu1,s1).to_event(1) || Normal(mu2,s2).to_event(1)").unwrap();
        let Expr::Kl { p, q, .. } = p.expr else { panic!("not a KL") };
        assert!(matches!(p, Dist::Independent { n: 1, .. }));
        assert!(matches!(q, Dist::Independent { n: 1, .. }));
    }

    #[test]
    fn parses_declarations_keywords_literals_and_comments() {
        let src = "# prior\nlog_prob(MultivariateNormal(m, scale_tril=diag(s)), x) // tail\nwhere m, s: [B, 3], x: [3]";
        let prog = parse(src).unwrap();
        assert_eq!(prog.decls.len(), 2);
        assert_eq!(prog.decls[0].names.len(), 2);
        let Expr::LogProb { dist: Dist::Call { args, .. }, .. } = &prog.expr else { panic!() };
        assert_eq!(args[1].name.as_ref().unwrap().name, "scale_tril");
        assert!(matches!(args[1].value, Value::Diag(..)));
        let p = parse("Normal(-1.5e-3, 2) || Normal(0, 1)").unwrap();
        let Expr::Kl { p: Dist::Call { args, .. }, .. } = p.expr else { panic!() };
        assert_eq!(args[0].value, Value::Number(-1.5e-3, Span::new(7, 14)));
    }

    #[test]
    fn spans_point_at_the_source() {
        let src = "Normal(a, b).expand([4]) || Normal(0, 1)";
        let Expr::Kl { p, op, .. } = parse(src).unwrap().expr else { panic!() };
        assert_eq!(p.span().text(src), "Normal(a, b).expand([4])");
        assert_eq!(op.text(src), "||");
    }

    #[test]
    fn missing_operator_names_what_was_expected() {
        let e = err("Normal(a, b) Normal(c, d)");
        assert!(e.starts_with("error[parse::syntax]: expected `||` or a method call"), "{e}");
        assert!(e.contains(" --> 1:14"), "{e}");
    }

    #[test]
    fn declarations_before_the_expression_get_a_hint() {
        let e = parse("where m, s: [3]\nNormal(m, s) || Normal(0, 1)").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("declarations come after the expression: `P || Q where m, s: [B, 3]`"));
    }

    #[test]
    fn a_misspelled_query_gets_a_suggestion() {
        let e = parse("entrpy(Normal(m, s)) where m, s: [3]").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("`entrpy` is not a distribution; did you mean the query `entropy(..)`?"));
        // A name far from any query gets no such hint.
        let e = parse("Gamma(Normal(m, s)) || Normal(m, s)").unwrap_err();
        assert_eq!(e.help, None);
    }

    #[test]
    fn bad_to_event_argument_points_at_it() {
        let e = parse("Normal(a, b).to_event(x) || Normal(c, d)").unwrap_err();
        assert_eq!(e.span, Span::new(22, 23));
        assert_eq!(e.message, "expected an integer, found `x`");
    }

    #[test]
    fn unbalanced_and_empty_inputs_are_errors_not_panics() {
        for src in
            ["", "(", ")", "Normal(a, b", "Normal(a,,b) || Normal(c,d)", "||", "Normal(a,b) ||", "\u{1F600}", "where"]
        {
            assert!(parse(src).is_err(), "{src:?} parsed");
        }
    }

    #[test]
    fn deep_nesting_is_refused_before_recursing() {
        let src = "diag(".repeat(10_000);
        let e = parse(&src).unwrap_err();
        assert_eq!(e.code, "parse::too_deep");
    }
}
