//! Command-line parsing: four subcommands, a few options, `--help` for each. Plain
//! `std::env::args` parsing keeps the binary's dependencies to what `kl-compiler` already builds.

use std::fmt;
use std::path::PathBuf;

/// The precision to compute or emit in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F64,
}

/// What the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Print this text to stdout and exit 0.
    Help(String),
    Version,
    Check {
        input: String,
    },
    Explain {
        input: String,
    },
    Emit {
        input: String,
        dtype: Option<Dtype>,
        name: Option<String>,
        /// Emit the vector–Jacobian product (value and gradients) instead.
        grad: bool,
    },
    Eval {
        input: String,
        data: PathBuf,
        dtype: Dtype,
        /// Also print `"grad"`: d(sum of the result)/d(each parameter).
        grad: bool,
    },
}

/// A malformed command line: reported with the usage of the subcommand, exit code 2.
#[derive(Clone, Debug, PartialEq)]
pub struct UsageError {
    pub message: String,
    /// The subcommand whose usage to show, if known.
    pub subcommand: Option<&'static str>,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        writeln!(f)?;
        match self.subcommand {
            Some(sub) => {
                writeln!(f, "{}", usage_line(sub))?;
                write!(f, "\nFor more information, try 'klc {sub} --help'.")
            }
            None => write!(f, "{TOP_USAGE}\n\nFor more information, try 'klc --help'."),
        }
    }
}

const TOP_USAGE: &str = "Usage: klc <check|explain|emit|eval> FILE.kl|EXPR [OPTIONS]";

const TOP_HELP: &str = "\
klc: check, explain, compile and evaluate KL divergences, log-densities and entropies of
Gaussian distribution expressions.

Usage: klc <COMMAND> FILE.kl|EXPR [OPTIONS]

Commands:
  check    Report diagnostics, or the result shape when the expression is well-formed
  explain  Show node shapes, the IR before and after simplification, and the closed form
  emit     Print the generated Rust function
  eval     Evaluate the expression on data from a JSON file or a directory of .npy files
  help     Print this message or the help of a command

An argument that names an existing file is read as a file; otherwise it is the expression.

Exit codes: 0 success, 1 an error in the expression or the data, 2 a malformed command line.

Options:
  -h, --help     Print help
  -V, --version  Print version";

fn usage_line(sub: &str) -> &'static str {
    match sub {
        "check" => "Usage: klc check FILE.kl|EXPR",
        "explain" => "Usage: klc explain FILE.kl|EXPR",
        "emit" => "Usage: klc emit FILE.kl|EXPR [--dtype f32|f64] [--name NAME] [--grad]",
        _ => "Usage: klc eval FILE.kl|EXPR --data FILE.json|DIR [--dtype f32|f64] [--grad]",
    }
}

fn help(sub: &str) -> String {
    let body = match sub {
        "check" => {
            "\
Check an expression: parse it, check every shape, and find its closed form.
Prints the diagnostics and exits 1 on an error; prints `ok: <result shape>` otherwise."
        }
        "explain" => {
            "\
Explain how an expression compiles: the batch and event shape of every node, the IR right
after lowering and after simplification, the simplification passes that fired, and the
closed-form formula the query reduced to."
        }
        "emit" => {
            "\
Print the Rust source of the function that computes the expression.

Options:
      --dtype <f32|f64>  The float type of the generated function (default: generic)
      --name <NAME>      The name of the generated function (default: kl)
      --grad             Emit the vector-Jacobian product instead: the value and, for an
                         upstream `grad_out`, the gradient of every parameter, in one pass"
        }
        _ => {
            "\
Evaluate an expression on data and print `{\"shape\": [..], \"value\": ..}` as JSON.

The data is a JSON object mapping parameter names to numbers or nested arrays (the nesting
gives the shape), or a directory of NAME.npy files (little-endian float64 or float32, C order).
Shapes the expression does not declare are taken from the data. An infinite value is printed
as the string \"inf\". With --grad the object also has `\"grad\": {NAME: array}`, the gradient of
the sum of the result with respect to each parameter, in the parameter's shape.
On any error stdout stays empty, the error goes to stderr and the exit code is non-zero.

Options:
      --data <FILE.json|DIR>  The parameter values (required)
      --dtype <f32|f64>       The precision to compute in (default: f64)
      --grad                  Also print the gradient of the summed result"
        }
    };
    format!("{body}\n\n{}\n\nOptions:\n  -h, --help  Print help", usage_line(sub))
}

/// Parse the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let top = |message: String| UsageError { message, subcommand: None };
    let Some((first, rest)) = args.split_first() else {
        return Err(top("a command is required".into()));
    };
    let sub: &'static str = match first.as_str() {
        "-h" | "--help" => return Ok(Command::Help(TOP_HELP.into())),
        "-V" | "--version" => return Ok(Command::Version),
        "help" => {
            return match rest.first().map(String::as_str) {
                None => Ok(Command::Help(TOP_HELP.into())),
                Some(s @ ("check" | "explain" | "emit" | "eval")) => Ok(Command::Help(help(s))),
                Some(other) => Err(top(format!("unknown command `{other}`"))),
            }
        }
        "check" => "check",
        "explain" => "explain",
        "emit" => "emit",
        "eval" => "eval",
        other => return Err(top(format!("unknown command `{other}`"))),
    };
    let err = |message: String| UsageError { message, subcommand: Some(sub) };

    let mut input: Option<String> = None;
    let mut dtype: Option<Dtype> = None;
    let mut name: Option<String> = None;
    let mut data: Option<PathBuf> = None;
    let mut grad = false;
    let mut only_positional = false;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        if !only_positional && arg.starts_with("--") && arg.len() > 2 {
            let (key, inline) = match arg.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (arg.as_str(), None),
            };
            let mut value = |key: &str| {
                inline.clone().or_else(|| it.next().cloned()).ok_or_else(|| err(format!("`{key}` needs a value")))
            };
            match (key, sub) {
                ("--help", _) => return Ok(Command::Help(help(sub))),
                ("--grad", "eval" | "emit") if inline.is_none() => grad = true,
                ("--dtype", "emit" | "eval") => {
                    dtype = Some(match value(key)?.as_str() {
                        "f32" => Dtype::F32,
                        "f64" => Dtype::F64,
                        other => return Err(err(format!("`--dtype` must be `f32` or `f64`, not `{other}`"))),
                    })
                }
                ("--name", "emit") => {
                    let v = value(key)?;
                    if !is_identifier(&v) {
                        return Err(err(format!("`--name` must be a Rust identifier, not `{v}`")));
                    }
                    name = Some(v);
                }
                ("--data", "eval") => data = Some(PathBuf::from(value(key)?)),
                _ => return Err(err(format!("unexpected option `{key}`"))),
            }
        } else if arg == "--" && !only_positional {
            only_positional = true;
        } else if arg == "-h" && !only_positional {
            return Ok(Command::Help(help(sub)));
        } else if input.is_some() {
            return Err(err(format!("unexpected argument `{arg}` (only one FILE.kl|EXPR is taken)")));
        } else {
            input = Some(arg.clone());
        }
    }
    let input = input.ok_or_else(|| err("the expression or .kl file is missing".into()))?;
    Ok(match sub {
        "check" => Command::Check { input },
        "explain" => Command::Explain { input },
        "emit" => Command::Emit { input, dtype, name, grad },
        _ => Command::Eval {
            input,
            data: data.ok_or_else(|| err("`--data FILE.json|DIR` is required".into()))?,
            dtype: dtype.unwrap_or(Dtype::F64),
            grad,
        },
    })
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && s != "_"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, UsageError> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn subcommands_take_one_input_and_their_options() {
        assert_eq!(p(&["check", "a.kl"]), Ok(Command::Check { input: "a.kl".into() }));
        assert_eq!(
            p(&["eval", "e", "--dtype=f32", "--data", "d.json"]),
            Ok(Command::Eval { input: "e".into(), data: "d.json".into(), dtype: Dtype::F32, grad: false })
        );
        assert_eq!(
            p(&["eval", "e", "--grad", "--data", "d.json"]),
            Ok(Command::Eval { input: "e".into(), data: "d.json".into(), dtype: Dtype::F64, grad: true })
        );
        assert_eq!(
            p(&["emit", "--name", "kl_fn", "e"]),
            Ok(Command::Emit { input: "e".into(), dtype: None, name: Some("kl_fn".into()), grad: false })
        );
    }

    #[test]
    fn malformed_lines_are_usage_errors() {
        assert!(p(&[]).is_err());
        assert!(p(&["frobnicate", "x"]).is_err());
        assert!(p(&["eval", "e"]).unwrap_err().message.contains("--data"));
        assert!(p(&["eval", "e", "--data"]).unwrap_err().message.contains("needs a value"));
        assert!(p(&["check", "e", "--dtype", "f32"]).unwrap_err().message.contains("unexpected option"));
        assert!(p(&["emit", "e", "--dtype", "f16"]).is_err());
        assert!(p(&["emit", "e", "--name", "1x"]).is_err());
        assert!(p(&["check", "a", "b"]).is_err());
        assert!(p(&["check"]).is_err());
    }

    #[test]
    fn help_is_available_everywhere() {
        for args in [&["--help"][..], &["help"], &["help", "eval"], &["eval", "--help"], &["check", "x", "-h"]] {
            assert!(matches!(p(args), Ok(Command::Help(_))), "{args:?}");
        }
    }
}
