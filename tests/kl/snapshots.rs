//! Every stage's output is a golden file (naga-style): for each `tests/inputs/*.kl`, the IR
//! after lowering and after simplification, and the emitted Rust; for each `tests/errors/*.kl`, every diagnostic.

use kl::compiler::{compile, pretty::pretty};

#[test]
fn compiler_stages() {
    insta::glob!("..", "inputs/*.kl", |path| {
        let src = std::fs::read_to_string(path).unwrap();
        let c = compile(&src, &Default::default())
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.render_plain(&src)));
        let out = format!(
            "{src}\n--- lowered ---\n{}\n--- simplified (passes: {}) ---\n{}",
            pretty(&c.lowered),
            c.passes.join(", "),
            pretty(&c.simplified)
        );
        insta::assert_snapshot!("ir", out);
        let opts = kl_codegen::emit::EmitOptions { fn_name: "kl".into(), ..Default::default() };
        let code =
            kl_codegen::emit::emit_source(&c.simplified, &opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        insta::assert_snapshot!("emitted", code);
    });
}

#[test]
fn diagnostics() {
    insta::glob!("..", "errors/*.kl", |path| {
        let src = std::fs::read_to_string(path).unwrap();
        let errors = match compile(&src, &Default::default()) {
            Ok(_) => panic!("{} compiled, but it is an error example", path.display()),
            Err(e) => e,
        };
        assert!(!errors.is_empty());
        insta::assert_snapshot!("errors", format!("{src}\n{}", errors.render_plain(&src)));
    });
}
