//! Diagnostics at the edge: a `kl_compiler::Diagnostic` becomes a miette report with the source, the
//! primary label at its span, notes as secondary labels, the help and the code.
//!
//! Colors and Unicode box drawing are used only when stderr is a terminal and `NO_COLOR` is not
//! set; otherwise the theme is plain ASCII (`^` carets), so that output is stable for tests.

use kl_compiler::{Diagnostic, Diagnostics, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};
use std::fmt;
use std::io::IsTerminal;

/// Whether to draw with colors and Unicode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Fancy,
    Plain,
}

impl Style {
    /// Fancy only for a terminal on stderr without `NO_COLOR` (see no-color.org).
    pub fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if !no_color && std::io::stderr().is_terminal() {
            Style::Fancy
        } else {
            Style::Plain
        }
    }
}

/// Every diagnostic of a compilation, rendered against `src` (named `name` in the report).
pub fn diagnostics(diags: &Diagnostics, src: &str, name: &str, style: Style) -> String {
    let source = NamedSource::new(name, src.to_string());
    diags.iter().map(|d| diagnostic(d, &source, style)).collect::<Vec<_>>().join("\n")
}

fn diagnostic(d: &Diagnostic, source: &NamedSource<String>, style: Style) -> String {
    let theme = match style {
        Style::Fancy => GraphicalTheme::unicode(),
        Style::Plain => {
            // A one-character span is drawn with the label's connector only; make it a caret too.
            let mut theme = GraphicalTheme::none();
            theme.characters.underbar = '^';
            theme
        }
    };
    // Messages name shapes such as `[B, 8]`: a wrapped line would split them.
    let handler = GraphicalReportHandler::new_themed(theme).with_wrap_lines(false).with_links(false);
    let report = Report { d, source, len: source.inner().len() };
    let mut out = String::new();
    match handler.render_report(&mut out, &report) {
        Ok(()) => out,
        // miette could not read the snippet: fall back to the compiler's own plain rendering.
        Err(_) => d.render_plain(source.inner()),
    }
}

/// A `kl_compiler::Diagnostic` seen through miette's trait.
struct Report<'a> {
    d: &'a Diagnostic,
    source: &'a NamedSource<String>,
    len: usize,
}

impl Report<'_> {
    /// Spans past the end (internal errors, an empty source) are clamped into the text.
    fn clamp(&self, s: Span) -> miette::SourceSpan {
        let start = s.start.min(self.len);
        let end = s.end.clamp(start, self.len);
        (start, end - start).into()
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.d, f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.d.code))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.d.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = (!self.d.label.is_empty()).then(|| self.d.label.clone());
        let primary = LabeledSpan::new_primary_with_span(label, self.clamp(self.d.span));
        let notes =
            self.d.notes.iter().map(|(span, text)| LabeledSpan::new_with_span(Some(text.clone()), self.clamp(*span)));
        Some(Box::new(std::iter::once(primary).chain(notes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(src: &str) -> String {
        let err = kl_compiler::compile(src, &Default::default()).unwrap_err();
        diagnostics(&err, src, "<expr>", Style::Plain)
    }

    #[test]
    fn parse_errors_show_line_column_caret_and_expectation() {
        let out = render("Normal(m, s) ||\n  Normal(m s) where m, s: [3]");
        assert!(out.contains("[<expr>:2:"), "{out}");
        let caret = out.lines().find(|l| l.contains('^')).unwrap_or_else(|| panic!("no caret: {out}"));
        let code = out.lines().find(|l| l.contains("Normal(m s)")).unwrap();
        assert_eq!(caret.find('^'), code.find("s)"), "the caret is under `s`: {out}");
        assert!(out.contains("expected"), "{out}");
        assert!(out.contains("parse::syntax"), "{out}");
        assert!(!out.contains('\u{1b}'), "no ANSI escapes in plain mode: {out:?}");
    }

    #[test]
    fn notes_become_secondary_labels_and_help_is_shown() {
        let out = render("Normal(m, s, var=v) || Normal(0, 1) where m, s, v: [3]");
        assert!(out.contains("first parameterization"), "{out}");
        assert!(out.contains("second parameterization"), "{out}");
        assert!(out.contains("help: keep one of them"), "{out}");
    }

    #[test]
    fn spans_past_the_end_do_not_break_rendering() {
        let d = Diagnostic::new("internal::test", Span::new(5, 40), "out of range").label("here");
        let out = diagnostics(&d.into(), "abc", "<expr>", Style::Plain);
        assert!(out.contains("out of range"), "{out}");
    }
}
