//! `klc`, the command-line front end of the kl compiler.
//!
//! ```text
//! args --parse--> Command --commands--> stdout text | Error (stderr text, exit code)
//!                                \-- data (JSON / npy) --> interp::evaluate
//!                                \-- render (miette) for compile diagnostics
//! ```
//!
//! Exit codes: 0 success, 1 an error in the expression or the data, 2 a malformed command line.

pub mod args;
pub mod commands;
pub mod data;
pub mod npy;
pub mod render;

use args::Command;
use render::Style;

/// What one run prints and returns; the binary writes it out, tests can inspect it.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Run `klc` on the arguments after the program name.
pub fn run(args: &[String], style: Style) -> Outcome {
    let command = match args::parse(args) {
        Ok(c) => c,
        Err(e) => return Outcome { stderr: format!("{e}\n"), code: 2, ..Outcome::default() },
    };
    let result = match command {
        Command::Help(text) => Ok(text + "\n"),
        Command::Version => Ok(format!("klc {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Check { input } => commands::check(&input, style),
        Command::Explain { input } => commands::explain(&input, style),
        Command::Emit { input, dtype, name, grad } => commands::emit(&input, dtype, name, grad, style),
        Command::Eval { input, data, dtype, grad } => commands::eval(&input, &data, dtype, grad, style),
    };
    match result {
        Ok(stdout) => Outcome { stdout, ..Outcome::default() },
        Err(e) => Outcome { stderr: e.text, code: e.code, ..Outcome::default() },
    }
}
