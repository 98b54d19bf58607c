//! `cargo xtask fuzz [--seconds N]` and the bounded fuzzing pass of `cargo xtask test`: every
//! target of the `mendian-fuzz` crate (`fuzz/`) under AFL++ for N seconds, seeded from
//! `fuzz/corpus/<target>/`.
//!
//! AFL++ comes from crates.io through afl.rs on stable Rust: `cargo-afl` is installed into
//! `<cache>/tools` and builds AFL++ from the source it bundles (`cargo afl config --build`,
//! needs make and a C compiler) into `<cache>/tools/share`. Instrumented builds go to
//! `<cache>/fuzz-target` so they never invalidate the normal target directory, and AFL++'s
//! working folders to `<cache>/fuzz-out/<target>`.
//!
//! A crash fails the run, naming the target and the crashing input, which is also copied to
//! `fuzz/crashes-found/<target>/` (not replayed; move it into `fuzz/corpus/<target>/` once
//! the bug is fixed, so `tests/corpus.rs` keeps it fixed). Hangs are reported, not failed on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::tools::{cache_dir, cargo_bin, ok, run, step};

/// The `cargo-afl` installed, and the version of the `afl` crate in `fuzz/Cargo.toml`.
const CARGO_AFL_VERSION: &str = "0.18.2";
/// Seconds per target in the bounded pass of `cargo xtask test`.
pub const TEST_SECONDS: u64 = 4;

/// The fuzz targets (binaries of `mendian-fuzz`, folders of `fuzz/corpus/`).
const TARGETS: &[&str] = &[
    "wxa_push_xml",
    "wxa_push_decrypt",
    "wechatpay_answer",
    "wechatpay_notification",
    "wxa_answer",
    "top_answer",
    "der",
    "pem",
];

/// What one target's run did.
struct Report {
    target: &'static str,
    execs: u64,
    crashes: Vec<PathBuf>,
    hangs: usize,
}

/// `cargo xtask fuzz [--seconds N]`: every target for N seconds (default 60).
pub fn fuzz(root: &Path, args: &[String]) -> Result<(), String> {
    let seconds = match args.iter().position(|a| a == "--seconds") {
        Some(i) => args.get(i + 1).and_then(|s| s.parse().ok()).ok_or("--seconds needs a whole number")?,
        None => 60,
    };
    run_all(root, seconds)
}

/// Builds the instrumented targets and fuzzes each for `seconds`; fails on any crash.
pub fn run_all(root: &Path, seconds: u64) -> Result<(), String> {
    let started = Instant::now();
    let tools = cargo_afl()?;
    step("fuzz: build the targets with AFL++ instrumentation (cargo afl build)");
    let built = Instant::now();
    let target_dir = cache_dir().join("fuzz-target");
    run(afl_cargo(&tools)
        .current_dir(root)
        .args(["afl", "build", "--release", "-p", "mendian-fuzz", "--features", "afl", "--bins"])
        .env("CARGO_TARGET_DIR", &target_dir)
        // Keep overflow and debug assertions: they turn silent bugs into crashes.
        .env("CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS", "true")
        .env("CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS", "true")
        .env("CARGO_PROFILE_RELEASE_LTO", "false"))?;
    println!("built in {:.0} s", built.elapsed().as_secs_f64());
    let mut reports = Vec::new();
    for target in TARGETS {
        step(&format!("fuzz: {target} for {seconds} s"));
        reports.push(fuzz_one(root, &tools, &target_dir, target, seconds)?);
    }
    println!("\n==> fuzz summary ({:.0} s)", started.elapsed().as_secs_f64());
    let mut crashed = Vec::new();
    for r in &reports {
        println!("  {:<24} {:>10} execs  {} crashes  {} hangs", r.target, r.execs, r.crashes.len(), r.hangs);
        for c in &r.crashes {
            crashed.push(format!("{}: {}", r.target, c.display()));
        }
    }
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found crashes (to reproduce one, copy it into fuzz/corpus/<target>/ and run `cargo test -p mendian-fuzz --test corpus`):\n{}",
            crashed.join("\n")
        ))
    }
}

/// A `cargo` command that finds `cargo-afl` and its AFL++ build.
fn afl_cargo(tools: &Path) -> Command {
    let mut cmd = Command::new(cargo_bin());
    let mut paths = vec![tools.join("bin")];
    if let Some(p) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&p));
    }
    cmd.env("PATH", std::env::join_paths(paths).expect("valid PATH"));
    cmd.env("XDG_DATA_HOME", tools.join("share"));
    cmd
}

/// `<cache>/tools` with `cargo-afl` installed and AFL++ built for the current rustc.
fn cargo_afl() -> Result<PathBuf, String> {
    let tools = cache_dir().join("tools");
    let installed = ok(Command::new(tools.join("bin/cargo-afl")).args(["afl", "--version"]))
        && Command::new(tools.join("bin/cargo-afl"))
            .args(["afl", "--version"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(CARGO_AFL_VERSION));
    if !installed {
        step(&format!("bootstrap: cargo-afl {CARGO_AFL_VERSION} (crates.io)"));
        run(Command::new(cargo_bin())
            .args(["install", "--locked", "--force", "--root"])
            .arg(&tools)
            .arg(format!("cargo-afl@{CARGO_AFL_VERSION}"))
            .env_remove("CARGO_TARGET_DIR"))?;
    }
    if !afl_fuzz_built(&tools) {
        step("bootstrap: AFL++ from the source bundled with cargo-afl (cargo afl config --build)");
        let have_tools = ok(Command::new("make").arg("--version")) && ok(Command::new("cc").arg("--version"));
        if !have_tools && !ok(Command::new("apt-get").args(["install", "-y", "-qq", "make", "gcc"])) {
            run(Command::new("apt-get").args(["update", "-qq"]))?;
            run(Command::new("apt-get").args(["install", "-y", "-qq", "make", "gcc"]))?;
        }
        run(afl_cargo(&tools).args(["afl", "config", "--build", "--force"]))?;
        if !afl_fuzz_built(&tools) {
            return Err("cargo afl config --build finished but afl-fuzz is still missing".into());
        }
    }
    Ok(tools)
}

/// Whether AFL++ is built for this rustc (cargo-afl keeps one build per rustc version).
fn afl_fuzz_built(tools: &Path) -> bool {
    let Ok(out) = Command::new("rustc").arg("-vV").output() else { return false };
    let info = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| info.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or("").to_string();
    let (release, hash) = (field("release:"), field("commit-hash:"));
    let dir = tools
        .join("share/afl.rs")
        .join(format!("rustc-{release}-{}", hash.get(..7).unwrap_or("")))
        .join(format!("afl.rs-{CARGO_AFL_VERSION}"));
    dir.join("afl/bin/afl-fuzz").is_file() || dir.join("afl/afl-fuzz").is_file()
}

fn fuzz_one(
    root: &Path,
    tools: &Path,
    target_dir: &Path,
    target: &'static str,
    seconds: u64,
) -> Result<Report, String> {
    let binary = target_dir.join("release").join(target);
    let out = cache_dir().join("fuzz-out").join(target);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let corpus = root.join("fuzz/corpus").join(target);
    let log = out.with_extension("log");
    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let status = afl_cargo(tools)
        .args(["afl", "fuzz", "-V", &seconds.to_string(), "-t", "2000", "-i"])
        .arg(&corpus)
        .arg("-o")
        .arg(&out)
        .arg("--")
        .arg(&binary)
        .env("AFL_NO_UI", "1")
        .env("AFL_SKIP_CPUFREQ", "1")
        .env("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1")
        .env("AFL_NO_AFFINITY", "1")
        .env("RUST_BACKTRACE", "1")
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .status()
        .map_err(|e| format!("cannot start cargo afl fuzz: {e}"))?;
    let stats = std::fs::read_to_string(out.join("default/fuzzer_stats")).unwrap_or_default();
    if !status.success() || stats.is_empty() {
        let tail: Vec<String> =
            std::fs::read_to_string(&log).unwrap_or_default().lines().rev().take(25).map(str::to_string).collect();
        let tail: Vec<String> = tail.into_iter().rev().collect();
        return Err(format!(
            "afl-fuzz failed on {target} ({status}); a seed that crashes or hangs stops it before fuzzing (log: {}):\n{}",
            log.display(),
            tail.join("\n")
        ));
    }
    let stat = |name: &str| {
        stats
            .lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == name).map(|(_, v)| v.trim().to_string()))
    };
    let execs = stat("execs_done").and_then(|v| v.parse().ok()).unwrap_or(0);
    let listed = |dir: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(out.join("default").join(dir))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("id:")))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut crashes = Vec::new();
    for found in listed("crashes") {
        let keep = root.join("fuzz/crashes-found").join(target);
        std::fs::create_dir_all(&keep).map_err(|e| e.to_string())?;
        let name: String = found
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
            .collect();
        let kept = keep.join(name);
        std::fs::copy(&found, &kept).map_err(|e| format!("{}: {e}", kept.display()))?;
        println!("CRASH in {target}: {}", kept.display());
        crashes.push(kept);
    }
    let hangs = listed("hangs").len();
    println!("{target}: {execs} execs, {} crashes, {hangs} hangs", crashes.len());
    Ok(Report { target, execs, crashes, hangs })
}
