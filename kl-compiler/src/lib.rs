//! The kl compiler as a plain library: everything but code generation.
//!
//! ```text
//! source --parse--> AST --lower--> IR --check--> typed IR --simplify--> closed forms
//!                                                   |                      |-- emit --> Rust source (kl-codegen)
//!                                                   |                      `-- interp --> values
//! ```
//!
//! It builds without syn, quote, proc-macro2 or prettyplease: the emitter and the macro
//! expansions live in `kl-codegen`, which only the proc macro and `klc` link.
//!
//! ```
//! let c = kl_compiler::compile(
//!     "Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1) where m1, s1, m2, s2: [B, 8]",
//!     &Default::default(),
//! )
//! .unwrap();
//! assert_eq!(c.simplified.result_shape().unwrap().to_string(), "[B]");
//! ```
// Diagnostics travel on the cold path only, and by value so that every stage can build,
// collect and sort them simply; their size does not matter there.
#![allow(clippy::result_large_err)]

pub mod ast;
pub mod check;
pub mod diag;
pub mod explain;
pub mod family;
pub mod grad;
pub mod interp;
pub mod ir;
pub mod kernel;
pub mod lower;
pub mod parse;
pub mod pretty;
pub mod rules;
pub mod shape;
pub mod simplify;
pub mod span;

pub use diag::{Diagnostic, Diagnostics};
pub use ir::Ir;
pub use shape::{Dim, Shape};
pub use span::Span;

use std::collections::BTreeMap;

/// Shapes for parameters that the program does not declare (e.g. taken from data).
pub type ShapeEnv = BTreeMap<String, Shape>;

/// Every stage of one compilation.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub program: ast::Program,
    /// The checked IR right after lowering.
    pub lowered: Ir,
    /// The IR after every simplification pass.
    pub simplified: Ir,
    /// Names of the passes that changed the IR, in order.
    pub passes: Vec<&'static str>,
}

/// Parse, lower, check and simplify `src`.
pub fn compile(src: &str, env: &ShapeEnv) -> Result<Compiled, Diagnostics> {
    let program = parse::parse(src)?;
    compile_program(program, env)
}

/// Lower, check and simplify an already parsed program (the `kl!` macro builds its own AST).
pub fn compile_program(program: ast::Program, env: &ShapeEnv) -> Result<Compiled, Diagnostics> {
    let mut lowered = lower::lower(&program, env)?;
    check::check(&mut lowered)?;
    let mut simplified = lowered.clone();
    let passes = simplify::simplify(&mut simplified)?;
    Ok(Compiled { program, lowered, simplified, passes })
}
