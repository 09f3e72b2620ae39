//! From `kl!` tokens to the text language and back: the tokens are printed as source text
//! while recording which byte range each token occupies, so that a diagnostic's byte span
//! maps back to the user's tokens and rustc underlines the offending sub-expression.

use kl_compiler::diag::Diagnostic;
use kl_compiler::parse::MAX_NESTING;
use kl_compiler::span::Span as ByteSpan;
use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};

/// Byte ranges of the printed source, each with the span of the token it came from.
#[derive(Clone, Debug, Default)]
pub struct SpanMap {
    tokens: Vec<(usize, usize, Span)>,
}

impl SpanMap {
    /// Spans of the first and last tokens overlapping `range` (the nearest token when none does).
    pub fn locate(&self, range: ByteSpan) -> (Span, Span) {
        let hit: Vec<&(usize, usize, Span)> =
            self.tokens.iter().filter(|(s, e, _)| *s < range.end.max(range.start + 1) && *e > range.start).collect();
        match (hit.first(), hit.last()) {
            (Some(first), Some(last)) => (first.2, last.2),
            _ => {
                let near = self
                    .tokens
                    .iter()
                    .min_by_key(|(s, _, _)| s.abs_diff(range.start))
                    .map_or_else(Span::call_site, |t| t.2);
                (near, near)
            }
        }
    }

    /// A single span for `range`: the first token's (stable Rust cannot join spans).
    pub fn span(&self, range: ByteSpan) -> Span {
        self.locate(range).0
    }
}

/// Print `tokens` as kl source text, recording each token's byte range.
pub fn to_source(tokens: TokenStream) -> (String, SpanMap) {
    let mut p = Printer { out: String::new(), map: SpanMap::default(), last: Last::Start, depth: 0 };
    p.stream(tokens);
    (p.out, p.map)
}

/// Append more tokens (e.g. a generated `where` clause) to an existing printout.
pub fn extend_source(src: &mut String, map: &mut SpanMap, tokens: TokenStream) {
    let mut p = Printer { out: std::mem::take(src), map: std::mem::take(map), last: Last::Word, depth: 0 };
    p.stream(tokens);
    *src = p.out;
    *map = p.map;
}

#[derive(Clone, Copy, PartialEq)]
enum Last {
    Start,
    /// An identifier, literal or closing delimiter: a following word needs a space.
    Word,
    Other,
}

struct Printer {
    out: String,
    map: SpanMap,
    last: Last,
    /// Groups around the tokens being printed.
    depth: usize,
}

impl Printer {
    fn stream(&mut self, tokens: TokenStream) {
        let mut iter = tokens.into_iter().peekable();
        while let Some(tt) = iter.next() {
            match tt {
                TokenTree::Group(g) => {
                    let (open, close) = match g.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::None => ("", ""),
                    };
                    self.token(open, g.span_open(), Last::Other);
                    // Deeper than the parser accepts: the brackets printed so far already make it
                    // report `parse::too_deep` here, and not descending keeps this recursion
                    // within the stack however deep the user's tokens nest.
                    if self.depth < MAX_NESTING {
                        self.depth += 1;
                        self.stream(g.stream());
                        self.depth -= 1;
                    }
                    self.token(close, g.span_close(), Last::Word);
                }
                TokenTree::Ident(i) => {
                    self.word_gap();
                    self.token(&i.to_string(), i.span(), Last::Word);
                }
                TokenTree::Literal(l) => {
                    self.word_gap();
                    self.token(&l.to_string(), l.span(), Last::Word);
                }
                TokenTree::Punct(p) => {
                    let c = p.as_char();
                    let joint_pipe = c == '|' && p.spacing() == Spacing::Joint;
                    let next_is_pipe = matches!(iter.peek(), Some(TokenTree::Punct(n)) if n.as_char() == '|');
                    if joint_pipe && next_is_pipe {
                        // `||` arrives as two puncts; print it as one operator.
                        let Some(TokenTree::Punct(second)) = iter.next() else { unreachable!() };
                        self.out.push(' ');
                        let start = self.out.len();
                        self.out.push_str("||");
                        self.map.tokens.push((start, start + 1, p.span()));
                        self.map.tokens.push((start + 1, start + 2, second.span()));
                        self.out.push(' ');
                        self.last = Last::Other;
                        continue;
                    }
                    let text = c.to_string();
                    self.token(&text, p.span(), Last::Other);
                    if matches!(c, ',' | ':' | ';') {
                        self.out.push(' ');
                    }
                }
            }
        }
    }

    fn word_gap(&mut self) {
        if self.last == Last::Word {
            self.out.push(' ');
        }
    }

    fn token(&mut self, text: &str, span: Span, last: Last) {
        let start = self.out.len();
        self.out.push_str(text);
        if !text.is_empty() {
            self.map.tokens.push((start, self.out.len(), span));
        }
        self.last = last;
    }
}

/// A kl diagnostic as a `syn::Error` spanning the offending tokens, with its label, notes and
/// help folded into the message (rustc shows one message per error).
pub fn to_syn_error(d: &Diagnostic, src: &str, map: &SpanMap) -> syn::Error {
    let mut msg = d.message.clone();
    if !d.label.is_empty() && !d.message.contains(&d.label) {
        msg += &format!("\n  {}", d.label);
    }
    for (span, note) in &d.notes {
        let text = span.text(src);
        if text.is_empty() {
            msg += &format!("\n  = note: {note}");
        } else {
            msg += &format!("\n  = note: `{text}`: {note}");
        }
    }
    if let Some(help) = &d.help {
        msg += &format!("\n  = help: {help}");
    }
    let (start, end) = map.locate(d.span);
    spanned_error(start, end, msg)
}

/// An error from `start` to `end` on stable Rust: syn renders `compile_error!` with the first
/// token at `start` and the last at `end`, and rustc underlines everything between.
pub fn spanned_error(start: Span, end: Span, msg: impl std::fmt::Display) -> syn::Error {
    let tokens: TokenStream =
        [TokenTree::Ident(proc_macro2::Ident::new("a", start)), TokenTree::Ident(proc_macro2::Ident::new("b", end))]
            .into_iter()
            .collect();
    syn::Error::new_spanned(tokens, msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn src(text: &str) -> String {
        to_source(TokenStream::from_str(text).unwrap()).0
    }

    #[test]
    fn prints_the_design_card_line_as_written() {
        let line = "Normal(mu1,s1).to_event(1) || Normal(mu2,s2).to_event(1)";
        assert_eq!(src(line), "Normal(mu1, s1).to_event(1) || Normal(mu2, s2).to_event(1)");
    }

    #[test]
    fn prints_keywords_literals_and_declarations() {
        assert_eq!(
            src("log_prob(MultivariateNormal(m, scale_tril = L), x) where m: [B, 3], L: [3,3]"),
            "log_prob(MultivariateNormal(m, scale_tril=L), x) where m: [B, 3], L: [3, 3]"
        );
        assert_eq!(src("Normal(-1.5e-3, 2) || Normal(0, var = 1)"), "Normal(-1.5e-3, 2) || Normal(0, var=1)");
    }

    #[test]
    fn every_printed_token_is_mapped() {
        let (text, map) = to_source(TokenStream::from_str("Normal(a, b) || Normal(c, d)").unwrap());
        let ranges: Vec<&str> = map.tokens.iter().map(|(s, e, _)| &text[*s..*e]).collect();
        assert_eq!(ranges, ["Normal", "(", "a", ",", "b", ")", "|", "|", "Normal", "(", "c", ",", "d", ")"]);
    }
}
