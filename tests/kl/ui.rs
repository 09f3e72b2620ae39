//! trybuild UI tests of `kl!` and `kl_fn!`: every compile error, one small file each, with its
//! `.stderr` checked in (`TRYBUILD=overwrite cargo test -p kl --test kl ui`, then read the diff);
//! and valid programs that must compile and run.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    // Shape rules on the declared-shapes path: errors under the offending tokens.
    t.compile_fail("tests/ui/shape/*.rs");
    // Unknown distributions, parameters and methods, with suggestions.
    t.compile_fail("tests/ui/names/*.rs");
    // Parameterizations: exactly one per distribution, matrices by keyword.
    t.compile_fail("tests/ui/params/*.rs");
    // Shapes from Rust types (the const checker) and types that are not kl parameters.
    t.compile_fail("tests/ui/types/*.rs");
    // Malformed input.
    t.compile_fail("tests/ui/syntax/*.rs");
    // Closed forms decided from the families: infinite pairs, pairs without a closed form.
    t.compile_fail("tests/ui/closed_form/*.rs");
    // The `kl_fn!` item form.
    t.compile_fail("tests/ui/item/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
