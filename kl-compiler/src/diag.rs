//! Diagnostics: every stage reports errors as data with spans; rendering happens at the edge
//! (a rustc error in the macro, a miette report in `klc`).

use crate::span::Span;
use std::fmt;

/// One error, pointing at the user's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// A stable short code, e.g. `shape::event_mismatch`.
    pub code: &'static str,
    pub message: String,
    /// Primary location.
    pub span: Span,
    /// What to write under the primary caret.
    pub label: String,
    /// Secondary locations.
    pub notes: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic { code, message: message.into(), span, label: String::new(), notes: Vec::new(), help: None }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn note(mut self, span: Span, text: impl Into<String>) -> Self {
        self.notes.push((span, text.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// A plain-text rendering with line, column and a caret line, for contexts without a
    /// diagnostics renderer (tests, logs).
    pub fn render_plain(&self, src: &str) -> String {
        let (line, col) = self.span.line_col(src);
        let text = src.lines().nth(line - 1).unwrap_or("");
        let width = self.span.len().max(1).min(text.chars().count().saturating_sub(col - 1).max(1));
        let mut out = format!("error[{}]: {}\n --> {}:{}\n", self.code, self.message, line, col);
        out += &format!("  | {text}\n  | {}{}", " ".repeat(col - 1), "^".repeat(width));
        if !self.label.is_empty() {
            out += &format!(" {}", self.label);
        }
        out.push('\n');
        for (span, note) in &self.notes {
            let (l, c) = span.line_col(src);
            out += &format!("  = note ({l}:{c}): {note}\n");
        }
        if let Some(help) = &self.help {
            out += &format!("  = help: {help}\n");
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// All errors of one compilation, in source order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// `Ok(value)` when nothing was reported, else every diagnostic sorted by position.
    pub fn into_result<T>(mut self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            self.0.sort_by_key(|d| (d.span.start, d.span.end));
            Err(self)
        }
    }

    pub fn render_plain(&self, src: &str) -> String {
        self.0.iter().map(|d| d.render_plain(src)).collect::<Vec<_>>().join("\n")
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest candidate within a small edit distance, for "did you mean" hints.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["Normal", "MultivariateNormal", "LowRankMultivariateNormal"];
        assert_eq!(suggest("Normla", &names), Some("Normal"));
        assert_eq!(suggest("normal", &names), Some("Normal"));
        assert_eq!(suggest("MultivariateNormla", &names), Some("MultivariateNormal"));
        assert_eq!(suggest("Gamma", &names), None);
    }

    #[test]
    fn line_and_column_are_one_based() {
        let src = "a\n  bc";
        assert_eq!(Span::new(4, 5).line_col(src), (2, 3));
        assert_eq!(Span::new(0, 1).line_col(src), (1, 1));
    }
}
