//! The `mendian` binary: the command line of `mendian::cli`, which the Python wheel's
//! `mendian` console script also runs. `mendian --help` lists the commands.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = Vec::new();
    for (n, a) in std::env::args_os().skip(1).enumerate() {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(_) => {
                eprintln!("mendian: argument {} is not valid UTF-8", n + 1);
                return ExitCode::from(2);
            }
        }
    }
    let code = mendian::cli::run(&args);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
