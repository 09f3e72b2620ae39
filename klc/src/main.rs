use std::io::Write;

fn main() {
    // A bug in the compiler must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(std::io::stderr(), "error: internal compiler error: {info}");
    }));
    let args: Option<Vec<String>> = std::env::args_os().skip(1).map(|a| a.into_string().ok()).collect();
    let outcome = match args {
        Some(args) => std::panic::catch_unwind(|| klc::run(&args, klc::render::Style::detect()))
            .unwrap_or_else(|_| klc::Outcome { code: 101, ..Default::default() }),
        None => klc::Outcome { stderr: "error: arguments must be valid UTF-8\n".into(), code: 2, ..Default::default() },
    };
    // Write errors (a closed pipe) are ignored rather than panicking.
    let _ = std::io::stdout().lock().write_all(outcome.stdout.as_bytes());
    let _ = std::io::stderr().lock().write_all(outcome.stderr.as_bytes());
    std::process::exit(outcome.code);
}
