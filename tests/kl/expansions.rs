//! Golden files of what `kl!` and `kl_fn!` expand to, formatted: reviewing these is reviewing
//! the code every user gets.

use proc_macro2::TokenStream;
use std::str::FromStr;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(quote::quote! { fn expansion() { let _ = #tokens; } })
        .unwrap_or_else(|e| panic!("expansion is not valid Rust: {e}\n{tokens}"));
    prettyplease::unparse(&file)
}

fn kl(src: &str) -> String {
    pretty(kl_codegen::expand::kl(TokenStream::from_str(src).unwrap()))
}

#[test]
fn design_card_line_from_types() {
    insta::assert_snapshot!(kl("Normal(mu1,s1).to_event(1) || Normal(mu2,s2).to_event(1)"));
}

#[test]
fn declared_shapes_use_emitted_code() {
    insta::assert_snapshot!(kl(
        "Normal(mu, s).to_event(1) || Normal(0, 1).expand([4]).to_event(1) where mu, s: [B, 4]"
    ));
}

#[test]
fn declared_mvn_with_static_dims() {
    insta::assert_snapshot!(kl(
        "MultivariateNormal(m1, scale_tril=L1) || MultivariateNormal(m2, covariance_matrix=C2) where m1, m2: [2], L1, C2: [2, 2]"
    ));
}

#[test]
fn log_prob_from_types() {
    insta::assert_snapshot!(kl("log_prob(Normal(m, s).to_event(1), x)"));
}

#[test]
fn item_form() {
    let item = TokenStream::from_str(
        "/// Per-row KL.\npub fn diag_kl(m1: [B, 3], s1: [B, 3], m2: [B, 3], s2: [B, 3]) -> f32 { Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) }",
    )
    .unwrap();
    let tokens = kl_codegen::expand::kl_fn(item);
    let file: syn::File = syn::parse2(tokens).unwrap();
    insta::assert_snapshot!(prettyplease::unparse(&file));
}

#[test]
fn errors_expand_to_compile_errors_and_a_typed_fallback() {
    let out = kl("Normla(a, b) || Normal(a, b)");
    assert!(out.contains("compile_error!"), "{out}");
    assert!(out.contains("unknown distribution `Normla`"), "{out}");
    assert!(out.contains("unreachable!()"), "{out}");
    let empty = kl_codegen::expand::kl(TokenStream::new()).to_string();
    assert!(empty.contains("compile_error"), "{empty}");
}
