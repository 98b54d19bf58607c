//! The command line's arguments: options (`--name value`, `--name=value`), switches and
//! positionals, checked against what each command accepts; and the inputs read from files or
//! the environment. Secrets are never taken as option values (they would stay in shell history
//! and in `ps`): only from a file (`--<name>-file`) or an environment variable.

use std::collections::BTreeMap;
use std::io::Read;

/// A usage error: exit code 2, with the message shown above a hint to `--help`.
#[derive(Debug)]
pub struct Usage(pub String);

/// What a command accepts.
pub struct Spec {
    /// Options that take a value (without `--`).
    pub options: &'static [&'static str],
    /// Switches (without `--`).
    pub switches: &'static [&'static str],
    /// Names of the positionals, in order (all required).
    pub positionals: &'static [&'static str],
    /// Secrets this command reads: (name, environment variable); `--<name>-file` is accepted
    /// as an option.
    pub secrets: &'static [(&'static str, &'static str)],
}

/// Parsed arguments of one command.
#[derive(Debug, Default)]
pub struct Args {
    options: BTreeMap<String, String>,
    switches: Vec<String>,
    /// The positionals, in order.
    pub positionals: Vec<String>,
}

impl Args {
    /// Parses `raw` (what follows the command's name) against `spec`.
    pub fn parse(raw: &[String], spec: &Spec) -> Result<Args, Usage> {
        let mut args = Args::default();
        let mut i = 0;
        let mut only_positionals = false;
        while i < raw.len() {
            let a = &raw[i];
            i += 1;
            if only_positionals || a == "-" || !a.starts_with('-') {
                args.positionals.push(a.clone());
                continue;
            }
            if a == "--" {
                only_positionals = true;
                continue;
            }
            let Some(body) = a.strip_prefix("--") else {
                return Err(Usage(format!("unknown option {a} (options are spelled --name)")));
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            if spec.switches.contains(&name) {
                if inline.is_some() {
                    return Err(Usage(format!("--{name} takes no value")));
                }
                args.switches.push(name.to_string());
                continue;
            }
            if let Some((secret, env)) = spec.secrets.iter().find(|(s, _)| *s == name) {
                return Err(Usage(format!(
                    "--{secret} is a secret and is not taken on the command line (it would stay in shell history and `ps`): put it in a file and pass --{secret}-file, or set {env}"
                )));
            }
            let is_secret_file = spec.secrets.iter().any(|(s, _)| name.strip_suffix("-file") == Some(s));
            if !spec.options.contains(&name) && !is_secret_file {
                return Err(Usage(format!("unknown option --{name}")));
            }
            let value = match inline {
                Some(v) => v,
                None => {
                    let v = raw.get(i).ok_or_else(|| Usage(format!("--{name} needs a value")))?;
                    i += 1;
                    v.clone()
                }
            };
            if args.options.insert(name.to_string(), value).is_some() {
                return Err(Usage(format!("--{name} is given twice")));
            }
        }
        if args.positionals.len() > spec.positionals.len() {
            let extra = &args.positionals[spec.positionals.len()];
            return Err(Usage(format!("unexpected argument {extra:?}")));
        }
        if let Some(missing) = spec.positionals.get(args.positionals.len()) {
            return Err(Usage(format!("missing <{missing}>")));
        }
        Ok(args)
    }

    /// Whether the switch `--name` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// The value of `--name`, else of the environment variable `env` (when given).
    pub fn option(&self, name: &str, env: Option<&str>) -> Option<String> {
        self.options.get(name).cloned().or_else(|| env.and_then(|e| std::env::var(e).ok()).filter(|v| !v.is_empty()))
    }

    /// Like [`Self::option`], but a usage error naming both sources when neither is set.
    pub fn required(&self, name: &str, env: Option<&str>) -> Result<String, Usage> {
        self.option(name, env).ok_or_else(|| match env {
            Some(e) => Usage(format!("--{name} is required (or set {e})")),
            None => Usage(format!("--{name} is required")),
        })
    }

    /// A number option.
    pub fn number(&self, name: &str, default: u64) -> Result<u64, Usage> {
        match self.options.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| Usage(format!("--{name} must be a whole number, got {v:?}"))),
        }
    }

    /// The secret `name`: the contents of `--<name>-file` (one trailing line break removed),
    /// else the environment variable `env`. `None` when neither is set. The value never
    /// appears in a message.
    pub fn secret(&self, name: &str, env: &str) -> Result<Option<String>, Usage> {
        if let Some(path) = self.options.get(&format!("{name}-file")) {
            let text = read_input(path, &format!("--{name}-file"))?;
            let text = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
            if text.is_empty() {
                return Err(Usage(format!("--{name}-file {path} is empty")));
            }
            return Ok(Some(text.to_string()));
        }
        Ok(std::env::var(env).ok().filter(|v| !v.is_empty()))
    }

    /// Like [`Self::secret`], but a usage error naming both sources when neither is set.
    pub fn required_secret(&self, name: &str, env: &str) -> Result<String, Usage> {
        self.secret(name, env)?.ok_or_else(|| {
            Usage(format!("the {name} is needed: put it in a file and pass --{name}-file, or set {env}"))
        })
    }
}

/// The text of the file `path` (`-` reads standard input); `what` names the argument in
/// errors.
pub fn read_input(path: &str, what: &str) -> Result<String, Usage> {
    let mut text = String::new();
    if path == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Usage(format!("{what}: cannot read standard input: {e}")))?;
        return Ok(text);
    }
    let bytes = std::fs::read(path).map_err(|e| Usage(format!("{what}: cannot read {path}: {e}")))?;
    String::from_utf8(bytes).map_err(|_| Usage(format!("{what}: {path} is not UTF-8 text")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        options: &["mchid"],
        switches: &["json"],
        positionals: &["endpoint"],
        secrets: &[("apiv3-key", "MENDIAN_TEST_APIV3_KEY")],
    };

    fn parse(a: &[&str]) -> Result<Args, Usage> {
        Args::parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &SPEC)
    }

    #[test]
    fn options_switches_and_positionals() {
        let a = parse(&["add_store", "--mchid", "1900", "--json"]).unwrap();
        assert_eq!(a.positionals, ["add_store"]);
        assert_eq!(a.option("mchid", None).as_deref(), Some("1900"));
        assert!(a.switch("json"));
        let a = parse(&["--mchid=1900", "x"]).unwrap();
        assert_eq!(a.option("mchid", None).as_deref(), Some("1900"));
    }

    #[test]
    fn usage_errors_name_the_argument() {
        let cases: [(&[&str], &str); 6] = [
            (&["x", "--nope"], "unknown option --nope"),
            (&["x", "--mchid"], "--mchid needs a value"),
            (&["x", "--json=1"], "--json takes no value"),
            (&[], "missing <endpoint>"),
            (&["x", "y"], "unexpected argument \"y\""),
            (&["x", "--mchid", "1", "--mchid", "2"], "--mchid is given twice"),
        ];
        for (argv, want) in cases {
            let got = parse(argv).unwrap_err().0;
            assert!(got.contains(want), "{argv:?}: {got}");
        }
    }

    #[test]
    fn secrets_are_refused_on_the_command_line_and_read_from_files() {
        let err = parse(&["x", "--apiv3-key", "k".repeat(32).as_str()]).unwrap_err().0;
        assert!(err.contains("--apiv3-key-file") && err.contains("MENDIAN_TEST_APIV3_KEY"), "{err}");
        assert!(!err.contains("kkkk"), "{err}");
        let dir = std::env::temp_dir().join(format!("mendian-cli-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key");
        std::fs::write(&file, "secret-value\r\n").unwrap();
        let a = parse(&["x", "--apiv3-key-file", file.to_str().unwrap()]).unwrap();
        assert_eq!(a.secret("apiv3-key", "MENDIAN_TEST_APIV3_KEY").unwrap().as_deref(), Some("secret-value"));
        let missing = parse(&["x"]).unwrap().required_secret("apiv3-key", "MENDIAN_TEST_APIV3_KEY").unwrap_err().0;
        assert!(missing.contains("--apiv3-key-file"), "{missing}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
