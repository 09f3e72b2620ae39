//! Inputs found by the fuzzers in `fuzz/` (and the deep-nesting cases the fuzzers' length
//! limit cannot reach): each must now give `Ok` or a diagnostic, never a panic or a stack
//! overflow. They run on the test harness's threads (2 MiB stacks), smaller than rustc's,
//! so what passes here also passes inside the `kl!` macro.

use kl_codegen::emit::{emit_source, EmitOptions};
use kl_compiler::{compile, Diagnostics};
use proc_macro2::TokenStream;
use std::str::FromStr;

/// Compile `src`; on success also emit it. Returns the first diagnostic's code, or "ok".
fn outcome(src: &str) -> String {
    match compile(src, &Default::default()) {
        Ok(c) => match emit_source(&c.simplified, &EmitOptions::default()) {
            Ok(_) => "ok".into(),
            Err(d) => first_code(&d),
        },
        Err(d) => {
            // Rendering must not panic either.
            let _ = d.render_plain(src);
            first_code(&d)
        }
    }
}

fn first_code(d: &Diagnostics) -> String {
    d.iter().next().map_or_else(|| "no diagnostic".into(), |e| e.code.to_string())
}

/// The `kl!` expansion of `src`: a `compile_error!` or code, never a panic.
fn expands_to_error(src: &str) -> bool {
    let out = kl_codegen::expand::kl(TokenStream::from_str(src).expect("lexes as Rust tokens")).to_string();
    out.contains("compile_error")
}

fn chain(method: &str, n: usize) -> String {
    format!("Normal(a, b){} || Normal(c, d) where a, b, c, d: [3]", method.repeat(n))
}

#[test]
fn long_method_chains_are_refused_not_recursed() {
    // Found by reasoning about `dist`'s loop: chained methods nest with no brackets, so the
    // bracket limit did not bound them, and lowering, `topo_order` and dropping the AST
    // recursed once per method (a stack overflow at ~10,000 `.to_event(0)`).
    for method in [".to_event(0)", ".expand([3])", ".foo(0)"] {
        let src = chain(method, 10_000);
        assert_eq!(outcome(&src), "parse::too_deep", "{method}");
        assert!(expands_to_error(&src), "{method}");
    }
    let e = kl_compiler::parse::parse(&chain(".to_event(0)", 100)).unwrap_err();
    assert_eq!(e.message, "distributions nested deeper than 64 levels");
    assert_eq!(e.span.text(&chain(".to_event(0)", 100)), ".to_event");
}

#[test]
fn chains_up_to_the_limit_still_compile_and_emit() {
    let n = kl_compiler::parse::MAX_NESTING;
    assert_eq!(outcome(&chain(".to_event(0)", n)), "ok");
    assert_eq!(outcome(&chain(".to_event(0)", n + 1)), "parse::too_deep");
    let same = format!("Normal(a, b){0} || Normal(a, b){0} where a, b: [3]", ".to_event(0)".repeat(n));
    assert_eq!(outcome(&same), "ok");
    let lp = format!("log_prob(Normal(a, b){}, x) where a, b, x: [3]", ".expand([3])".repeat(n));
    assert_eq!(outcome(&lp), "ok");
}

#[test]
fn brackets_and_chains_count_together() {
    // 40 `Independent(` levels each with a chain of 30 methods: 1,240 wrappers, few brackets.
    let inner = format!("Normal(a, b){}", ".to_event(0)".repeat(30));
    let mut d = inner;
    for _ in 0..40 {
        d = format!("Independent({d}, 0){}", ".to_event(0)".repeat(30));
    }
    let src = format!("{d} || Normal(c, d) where a, b, c, d: [3]");
    assert_eq!(outcome(&src), "parse::too_deep");
    assert!(expands_to_error(&src));
}

#[test]
fn deep_brackets_are_refused() {
    for open in ["diag(", "Independent(", "[", "Normal(", "("] {
        let src = format!("entropy({})", open.repeat(10_000));
        assert_eq!(outcome(&src), "parse::too_deep", "{open}");
    }
    // Found with a deep `kl!` input: printing the tokens back as text recursed once per
    // group (a stack overflow at ~2,000 nested groups on a 2 MiB stack).
    for (open, close) in [("(", ")"), ("[", "]"), ("{", "}")] {
        let src = format!("entropy({}Normal(a, b){})", open.repeat(10_000), close.repeat(10_000));
        assert!(expands_to_error(&src), "{open}");
    }
    let src = format!("entropy({}Normal(a, b){}) where a, b: [3]", "(".repeat(64), ")".repeat(64));
    let out = kl_codegen::expand::kl(TokenStream::from_str(&src).unwrap()).to_string();
    assert!(out.contains("brackets nested deeper than 64 levels"), "{out}");
    let src = format!(
        "entropy(MultivariateNormal(m, covariance_matrix={}v{})) where m: [2], v: [2]",
        "diag(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(expands_to_error(&src));
}

fn ranked(n: usize, dim: &str) -> String {
    format!("Normal(a, b).to_event({n}) || Normal(c, d).to_event({n}) where a, b, c, d: [{}]", vec![dim; n].join(", "))
}

#[test]
fn shapes_of_too_many_dims_are_refused() {
    // A rank-300 shape made the emitter nest 300 loops; parsing the generated code with syn
    // overflowed the stack. Shapes now have at most `MAX_RANK` dims.
    let max = kl_compiler::check::MAX_RANK;
    for n in [max + 1, 300, 10_000] {
        assert_eq!(outcome(&ranked(n, "2")), "shape::too_many_dims", "rank {n}");
        assert_eq!(outcome(&ranked(n, "1")), "shape::too_many_dims", "rank {n}");
    }
    let expand = format!("Normal(0, 1).expand([{}]) || Normal(0, 2)", vec!["1"; max + 1].join(", "));
    assert_eq!(outcome(&expand), "shape::too_many_dims");
    let diags = format!(
        "entropy(MultivariateNormal(m, covariance_matrix={}v{})) where m: [2], v: [2]",
        "diag(".repeat(max + 1),
        ")".repeat(max + 1)
    );
    assert_eq!(outcome(&diags), "shape::too_many_dims");
    assert!(expands_to_error(&ranked(300, "2")));
}

#[test]
fn the_largest_rank_compiles_and_emits() {
    let max = kl_compiler::check::MAX_RANK;
    assert_eq!(outcome(&ranked(max, "2")), "ok");
    assert_eq!(outcome(&ranked(max, "B")), "ok");
    assert_eq!(
        outcome(&format!("Normal(a, b) || Normal(c, d) where a, b, c, d: [{}]", vec!["3"; max].join(", "))),
        "ok"
    );
}

#[test]
fn shapes_too_large_to_allocate_are_refused() {
    // Found by the `expand` target: the static dims' product overflowed `usize` in the
    // emitter's index arithmetic ("attempt to multiply with overflow" in emit/index.rs).
    let src = "Normal(m, s).expand([000013143863158004835213, 2]) || Normal(0, 1)\nwhere m, s: [2]";
    assert_eq!(outcome(src), "shape::too_large");
    assert!(expands_to_error(src));
    assert_eq!(outcome("entropy(Normal(m, 1)) where m: [4611686018427387904, 4]"), "shape::too_large");
    assert_eq!(outcome("entropy(Normal(m, 1)) where m: [B, 1152921504606846975]"), "ok");
}
