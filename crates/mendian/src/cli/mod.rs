//! The `mendian` command line: the tasks people otherwise do by hand, each a thin use of the
//! core. The Rust binary (`crates/mendian-cli`) and the Python wheel's `mendian` console script
//! both call [`run`], so they are the same program.
//!
//! Exit codes: 0 done; 1 the input was checked and refused (invalid request, bad signature,
//! wrong key, undocumented code); 2 usage (unknown command or option, missing input, unreadable
//! file); 3 the platform or the network failed. Results go to standard output (text, or one
//! JSON document with `--json`); progress and errors go to standard error (with `--json`, an
//! error is also a JSON document on standard output).

pub mod args;
mod catalog;
mod wechatpay;
mod wxa;

use std::io::Write;

use serde_json::{json, Value};

use crate::error::MendianError;
use args::{Args, Spec, Usage};

/// What a command produced: the text a person reads and the same as JSON.
pub struct Report {
    /// Shown without `--json`.
    pub text: String,
    /// Shown with `--json`.
    pub json: Value,
}

/// Why a command failed. (Its messages never hold a secret: the core's errors do not.)
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments or inputs that could not be read (exit 2).
    Usage(String),
    /// The core refused or failed (exit 1 or 3, by kind).
    Core(MendianError),
    /// The input was checked and refused, outside any core error (exit 1).
    Refused(String),
}

impl From<Usage> for Failure {
    fn from(u: Usage) -> Self {
        Failure::Usage(u.0)
    }
}

impl From<MendianError> for Failure {
    fn from(e: MendianError) -> Self {
        Failure::Core(e)
    }
}

/// One command: its words, a one-line summary, what it accepts, its help and its body.
pub(crate) struct Command {
    words: &'static [&'static str],
    summary: &'static str,
    spec: Spec,
    help: &'static str,
    run: fn(&Args) -> Result<Report, Failure>,
}

fn commands() -> Vec<Command> {
    let mut all = catalog::commands();
    all.extend(wechatpay::commands());
    all.extend(wxa::commands());
    all
}

/// Runs the command line `argv` (without the program's name) and returns the exit code.
pub fn run(argv: &[String]) -> i32 {
    let all = commands();
    let first = argv.first().map(String::as_str);
    match first {
        None | Some("--help" | "-h" | "help") => {
            out(&overview(&all));
            return if first.is_none() { 2 } else { 0 };
        }
        Some("--version" | "-V") => {
            out(&format!("mendian {}\n", env!("CARGO_PKG_VERSION")));
            return 0;
        }
        _ => {}
    }
    // The longest run of words that names a command (`wechatpay verify-notification`).
    let found = all
        .iter()
        .filter(|c| argv.len() >= c.words.len() && c.words.iter().zip(argv).all(|(w, a)| w == a))
        .max_by_key(|c| c.words.len());
    let Some(cmd) = found else {
        let group: Vec<&Command> = all.iter().filter(|c| c.words.len() > 1 && c.words[0] == argv[0]).collect();
        if !group.is_empty() {
            let wanted_help = argv.get(1).is_some_and(|a| a == "--help" || a == "-h");
            if !wanted_help {
                let what = argv
                    .get(1)
                    .map(|a| format!("unknown command `{} {a}`", argv[0]))
                    .unwrap_or_else(|| format!("`{}` needs a command", argv[0]));
                err(&format!("mendian: {what}\n"));
            }
            out(&list(&group));
            return if wanted_help { 0 } else { 2 };
        }
        err(&format!("mendian: unknown command `{}`; run `mendian --help` for the list\n", argv[0]));
        return 2;
    };
    let rest = &argv[cmd.words.len()..];
    let name = cmd.words.join(" ");
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        out(&format!("{}\n\n{}\n", cmd.summary, cmd.help.trim_end()));
        return 0;
    }
    let json_mode = rest.iter().any(|a| a == "--json");
    let result = Args::parse(rest, &cmd.spec).map_err(Failure::from).and_then(|a| (cmd.run)(&a));
    match result {
        Ok(report) => {
            if json_mode {
                out(&format!("{}\n", serde_json::to_string_pretty(&report.json).unwrap_or_default()));
            } else {
                out(&report.text);
            }
            0
        }
        Err(Failure::Usage(msg)) => {
            err(&format!("mendian {name}: {msg}\nrun `mendian {name} --help` for its usage\n"));
            2
        }
        Err(Failure::Refused(msg)) => fail(json_mode, "Refused", &msg, 1),
        Err(Failure::Core(e)) => {
            let code = match e {
                MendianError::InvalidArgument { .. }
                | MendianError::Signature { .. }
                | MendianError::Decode { .. }
                | MendianError::Credentials { .. } => 1,
                _ => 3,
            };
            fail(json_mode, kind(&e), &e.to_string(), code)
        }
    }
}

fn fail(json_mode: bool, kind: &str, message: &str, code: i32) -> i32 {
    if json_mode {
        out(&format!("{}\n", json!({ "error": { "kind": kind, "message": message } })));
    } else {
        err(&format!("mendian: {kind}: {message}\n"));
    }
    code
}

/// The variant's name, as Kotlin, Swift and Python name the error class.
fn kind(e: &MendianError) -> &'static str {
    match e {
        MendianError::InvalidArgument { .. } => "InvalidArgument",
        MendianError::Api { .. } => "Api",
        MendianError::Signature { .. } => "Signature",
        MendianError::Network { .. } => "Network",
        MendianError::Timeout { .. } => "Timeout",
        MendianError::Decode { .. } => "Decode",
        MendianError::Credentials { .. } => "Credentials",
        MendianError::OutcomeUnknown { .. } => "OutcomeUnknown",
        MendianError::Callback { .. } => "Callback",
    }
}

fn list(cmds: &[&Command]) -> String {
    let width = cmds.iter().map(|c| c.words.join(" ").len()).max().unwrap_or(0);
    let mut s = String::from("Commands:\n");
    for c in cmds {
        s.push_str(&format!("  {:width$}  {}\n", c.words.join(" "), c.summary));
    }
    s
}

fn overview(all: &[Command]) -> String {
    format!(
        "mendian {} — stores and service staff on WeChat Pay, 门店小程序 and TOP, from the command line\n\n\
         Usage: mendian <command> [options]   (`mendian <command> --help` for one command)\n\n{}\n\
         Every command takes --json (one JSON document on standard output) and --help.\n\
         Secrets are read from a file (--<secret>-file) or an environment variable, never from\n\
         the command line.\n\n\
         Exit codes: 0 done; 1 the input was checked and refused; 2 usage error; 3 the platform\n\
         or the network failed.\n",
        env!("CARGO_PKG_VERSION"),
        list(&all.iter().collect::<Vec<_>>())
    )
}

/// Writes to standard output; a closed pipe (`mendian endpoints | head`) is not an error.
fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes());
    let _ = o.flush();
}

fn err(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Shows progress of something slow on standard error.
pub(crate) fn progress(text: &str) {
    err(&format!("… {text}\n"));
}

/// The options shared by the commands that call a platform.
pub(crate) fn client_options(a: &Args) -> Result<crate::ClientOptions, Failure> {
    let mut o = crate::ClientOptions { language: "cli".into(), ..Default::default() };
    o.base_url = a.option("base-url", None);
    if let Some(t) = a.option("timeout-ms", None) {
        o.timeout_ms = Some(t.parse().map_err(|_| Usage(format!("--timeout-ms must be a whole number, got {t:?}")))?);
    }
    Ok(o)
}
