//! The commands behind `cargo xtask bindings | test | demo`, and the bootstrap of the tools
//! they need (a Python virtualenv with maturin and pytest, kotlinc from the npm
//! `kotlin-compiler` package, JNA from Debian's `libjna-java`, `redis-server` from Debian's
//! `redis-server` for the Redis token-store tests).
//!
//! Tools go into a cache outside the clone (`$MENDIAN_CACHE`, default `~/.cache/mendian`) so a
//! fresh clone reuses them; anything that cannot be installed is an error, never a skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// kotlinc version installed from npm when none is cached.
const KOTLIN_COMPILER_NPM: &str = "kotlin-compiler@2.4.20";
/// maturin version range for the tools virtualenv.
const MATURIN: &str = "maturin>=1.9,<2";

pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"))
}

pub(crate) fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("MENDIAN_CACHE") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("mendian")
}

pub(crate) fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Runs a command with inherited output; an error names the command.
pub(crate) fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().map_err(|e| format!("cannot start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

pub(crate) fn ok(cmd: &mut Command) -> bool {
    cmd.output().map(|o| o.status.success()).unwrap_or(false)
}

pub(crate) fn step(name: &str) {
    println!("\n==> {name}");
}

/// The cargo features of the server builds (the Python wheel, the JVM library, the `mendian`
/// binary): the Redis token store and the command line. Mobile builds (the Swift package, an
/// Android AAR) leave them out. `bindings/python/pyproject.toml` and `crates/mendian-cli` name
/// the same set, so the core is compiled once for all of them.
pub const SERVER_FEATURES: &str = "redis,cli";

/// [`SERVER_FEATURES`] as features of the `mendian` package, for workspace-wide commands.
fn server_features_of_core() -> String {
    SERVER_FEATURES.split(',').map(|f| format!("mendian/{f}")).collect::<Vec<_>>().join(",")
}

/// Builds the core library (debug) with `features` and returns the path of a copy of the
/// shared library in a directory of its own (`<target>/native/<features or default>/`), so
/// a later build with other features does not replace it.
fn build_core(root: &Path, features: Option<&str>) -> Result<PathBuf, String> {
    let mut cmd = Command::new(cargo_bin());
    cmd.current_dir(root).args(["build", "-p", "mendian", "--lib"]);
    if let Some(f) = features {
        cmd.args(["--features", f]);
    }
    run(&mut cmd)?;
    let name = format!("{}mendian{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    let built = target_dir(root).join("debug").join(&name);
    if !built.exists() {
        return Err(format!("{} was not built", built.display()));
    }
    let dir = target_dir(root).join("native").join(features.unwrap_or("default"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let lib = dir.join(name);
    std::fs::copy(&built, &lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    Ok(lib)
}

/// `redis-server` for the Redis token-store tests: `$MENDIAN_REDIS_SERVER`, or on the PATH,
/// or installed from Debian's `redis-server` package.
fn redis_server() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("MENDIAN_REDIS_SERVER") {
        return Ok(PathBuf::from(p));
    }
    let found = || {
        std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("redis-server")).find(|p| p.is_file()))
    };
    if let Some(p) = found() {
        return Ok(p);
    }
    step("bootstrap: redis-server from Debian's redis-server package");
    if !ok(Command::new("apt-get").args(["install", "-y", "-qq", "redis-server"])) {
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        run(Command::new("apt-get").args(["install", "-y", "-qq", "redis-server"]))?;
    }
    // The package starts a system service; the tests start their own servers.
    let _ = Command::new("sh").args(["-c", "service redis-server stop >/dev/null 2>&1 || true"]).status();
    found().ok_or_else(|| "redis-server is still missing after installing Debian's redis-server".to_string())
}

fn build_emulator(root: &Path) -> Result<PathBuf, String> {
    run(Command::new(cargo_bin()).current_dir(root).args(["build", "-p", "mendian-emulator", "--bin", "mendian-emulator"]))?;
    Ok(target_dir(root).join("debug").join(format!("mendian-emulator{}", std::env::consts::EXE_SUFFIX)))
}

/// The Swift package files that are committed, and where uniffi-bindgen writes them.
fn swift_files(generated: &Path, root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let pkg = root.join("bindings/swift/Sources");
    vec![
        (generated.join("swift/Mendian.swift"), pkg.join("Mendian/Mendian.swift")),
        (generated.join("swift/MendianFFI.h"), pkg.join("MendianFFI/include/MendianFFI.h")),
        (generated.join("swift/MendianFFI.modulemap"), pkg.join("MendianFFI/include/module.modulemap")),
    ]
}

/// Generates Kotlin, Swift and Python bindings from the built library into
/// `<target>/bindings/<language>`; copies (or with `check`, compares) the Swift sources into
/// the committed Swift package and the Python error stub (`crate::pystub`) into the package.
/// Returns the output directory.
pub fn bindings(root: &Path, check: bool) -> Result<PathBuf, String> {
    step("bindings: build the core library (mobile: default features)");
    let mobile = build_core(root, None)?;
    step(&format!("bindings: build the core library (servers: --features {SERVER_FEATURES})"));
    let server = build_core(root, Some(SERVER_FEATURES))?;
    let out = target_dir(root).join("bindings");
    let _ = std::fs::remove_dir_all(&out);
    for (lang, lib) in [("kotlin", &server), ("swift", &mobile), ("python", &server)] {
        step(&format!("bindings: generate {lang}"));
        run(Command::new(cargo_bin()).current_dir(root).args(["run", "-q", "-p", "uniffi-bindgen", "--", "generate", "--no-format", "--language", lang, "--out-dir"]).arg(out.join(lang)).arg(lib))?;
    }
    crate::kotlin_passes::apply_passes(&out.join("kotlin"))?;
    let mut stale = Vec::new();
    let generated_py = out.join("python/mendian.py");
    let py = std::fs::read_to_string(&generated_py).map_err(|e| format!("{}: {e}", generated_py.display()))?;
    let stub = out.join("python/_error_types.pyi");
    std::fs::write(&stub, crate::pystub::error_stub(&py)?).map_err(|e| e.to_string())?;
    let mut committed = swift_files(&out, root);
    committed.push((stub, root.join("bindings/python/python/mendian/_error_types.pyi")));
    for (from, to) in committed {
        let new = std::fs::read_to_string(&from).map_err(|e| format!("{}: {e}", from.display()))?;
        let current = std::fs::read_to_string(&to).ok();
        if current.as_deref() == Some(new.as_str()) {
            continue;
        }
        if check {
            stale.push(to.strip_prefix(root).unwrap_or(&to).display().to_string());
        } else {
            std::fs::create_dir_all(to.parent().expect("has a parent")).map_err(|e| e.to_string())?;
            std::fs::write(&to, new).map_err(|e| e.to_string())?;
            println!("updated {}", to.strip_prefix(root).unwrap_or(&to).display());
        }
    }
    if !stale.is_empty() {
        return Err(format!("committed bindings are stale: {}\nrun `cargo xtask bindings` and commit the result", stale.join(", ")));
    }
    println!("bindings written to {}", out.display());
    Ok(out)
}

/// The tools virtualenv (maturin, pytest), created on first use.
pub(crate) fn tools_venv() -> Result<PathBuf, String> {
    let venv = cache_dir().join("venv");
    let python = venv.join("bin/python");
    if !ok(Command::new(&python).args(["-c", "import maturin, pytest"])) {
        step("bootstrap: Python virtualenv with maturin and pytest");
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))
            .map_err(|e| format!("{e}\n(needs python3 with the venv module: `apt-get install python3-venv`)"))?;
        run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "--upgrade", MATURIN, "pytest"]))?;
    }
    Ok(venv)
}

/// Which wheels the Python suite runs on. Both run the whole suite: debug has overflow checks
/// (arithmetic that would wrap panics, so a test hits it); the packaged wheels are what users
/// install (release, manylinux2014).
#[derive(Clone, Copy)]
enum Wheels<'a> {
    /// `maturin build`: debug assertions and overflow checks on; the emulator is the debug
    /// binary named by MENDIAN_EMULATOR_BIN.
    Debug,
    /// The SDK and emulator wheels from `dist/`; the emulator is found on PATH, where its
    /// wheel installs it (MENDIAN_EMULATOR_BIN stays unset), as a user's tests find it.
    Dist(&'a crate::package::Dist),
}

/// Installs the wheels into a fresh virtualenv and runs pytest.
fn python_suite(root: &Path, emulator: &Path, redis: &Path, wheels: Wheels) -> Result<(), String> {
    let venv = tools_venv()?;
    let (name, install) = match wheels {
        Wheels::Debug => {
            step("python: build the debug wheel (maturin, bindings = \"uniffi\")");
            let out = target_dir(root).join("wheels").join("debug");
            let _ = std::fs::remove_dir_all(&out);
            ("debug", vec![build_wheel(&venv, &root.join("bindings/python"), &[], &out, &target_dir(root))?])
        }
        Wheels::Dist(d) => ("packaged", vec![d.sdk_wheel.clone(), d.emulator_wheel.clone()]),
    };
    step(&format!("python: install the {name} wheel into a fresh virtualenv"));
    let test_venv = cache_dir().join("pytest-venv");
    let _ = std::fs::remove_dir_all(&test_venv);
    run(Command::new("python3").args(["-m", "venv"]).arg(&test_venv))?;
    // mypy for the typing tests (`mypy --strict` on a typed sample script).
    run(Command::new(test_venv.join("bin/pip")).args(["install", "--quiet", "pytest", "mypy"]).args(&install))?;
    // The debug wheel's runs await on standard asyncio loops, first with each loop running its
    // calls on its own thread (Linux), then on the SDK's I/O thread (as on macOS and Windows);
    // the packaged wheel's on loops of `mendian.new_event_loop()`: every asyncio test runs on
    // all three.
    let runs: &[(&str, Option<&str>)] = match wheels {
        Wheels::Debug => &[("standard loops", Some("1")), ("standard loops, calls on the I/O thread", Some("0"))],
        Wheels::Dist(_) => &[("mendian.new_event_loop()", None)],
    };
    for (loops, on_loop_thread) in runs {
        step(&format!("python: pytest ({name} wheel, {loops})"));
        // Run from the tests directory so `import mendian` resolves to the installed wheel,
        // not to any source tree.
        let mut pytest = Command::new(test_venv.join("bin/python"));
        pytest
            .current_dir(root.join("bindings/python/tests"))
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "."])
            .env("MENDIAN_REDIS_SERVER", redis);
        match on_loop_thread {
            Some(v) => pytest.env("MENDIAN_PYTHON_LOOP_THREAD", v),
            None => pytest.env_remove("MENDIAN_PYTHON_LOOP_THREAD"),
        };
        match wheels {
            Wheels::Debug => pytest.env("MENDIAN_EMULATOR_BIN", emulator).env_remove("MENDIAN_TEST_EVENT_LOOP"),
            Wheels::Dist(_) => pytest
                .env_remove("MENDIAN_EMULATOR_BIN")
                .env("PATH", path_with(&test_venv.join("bin")))
                .env("MENDIAN_TEST_EVENT_LOOP", "mendian"),
        };
        let status = pytest.status().map_err(|e| e.to_string())?;
        match status.code() {
            Some(0) => {}
            Some(5) => return Err("pytest collected no tests".into()),
            _ => return Err(format!("pytest failed with {status}")),
        }
    }
    Ok(())
}

/// The sdist builds into a wheel as `pip` builds it for a user on a platform without a
/// published wheel (with the tools virtualenv's maturin instead of a download).
fn sdist_builds(root: &Path, sdist: &Path) -> Result<(), String> {
    let venv = tools_venv()?;
    step("python: build a wheel from the sdist with pip");
    let out = target_dir(root).join("wheels").join("from-sdist");
    let _ = std::fs::remove_dir_all(&out);
    run(Command::new(venv.join("bin/pip"))
        .args(["wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir"])
        .arg(&out)
        .arg(sdist)
        .env("PATH", path_with(&venv.join("bin"))))?;
    let built = std::fs::read_dir(&out)
        .map_err(|e| e.to_string())?
        .flatten()
        .any(|e| e.path().extension().is_some_and(|x| x == "whl"));
    if built {
        Ok(())
    } else {
        Err(format!("pip wheel {} produced no wheel", sdist.display()))
    }
}

/// Builds the maturin project in `project` into `out`, compiling into `target`, and returns
/// the wheel.
pub(crate) fn build_wheel(tools: &Path, project: &Path, flags: &[&str], out: &Path, target: &Path) -> Result<PathBuf, String> {
    run(Command::new(tools.join("bin/maturin"))
        .current_dir(project)
        .args(["build", "--quiet"])
        .args(flags)
        .arg("--out")
        .arg(out)
        .env("CARGO_TARGET_DIR", target)
        .env("PATH", path_with(&tools.join("bin"))))?;
    std::fs::read_dir(out)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| format!("maturin produced no wheel in {}", out.display()))
}

pub(crate) fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(p) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(paths).expect("valid PATH")
}

/// kotlinc and the jars the bindings compile and run against.
pub(crate) struct KotlinTools {
    /// The compiler.
    pub kotlinc: PathBuf,
    /// JNA, kotlinx-coroutines-core-jvm, kotlin-stdlib (in this order).
    pub classpath: Vec<PathBuf>,
}

pub(crate) fn kotlin_tools() -> Result<KotlinTools, String> {
    let home = cache_dir().join("kotlin");
    let pkg = home.join("node_modules/kotlin-compiler");
    if !pkg.join("bin/kotlinc").exists() {
        step("bootstrap: kotlinc from the npm kotlin-compiler package");
        std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
        run(Command::new("npm").args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"]).arg(&home).arg(KOTLIN_COMPILER_NPM))
            .map_err(|e| format!("{e}\n(needs node and npm)"))?;
    }
    let jna = PathBuf::from("/usr/share/java/jna.jar");
    if !jna.exists() {
        step("bootstrap: JNA from Debian's libjna-java");
        if !ok(Command::new("apt-get").args(["install", "-y", "-qq", "libjna-java"])) {
            run(Command::new("apt-get").args(["update", "-qq"]))?;
            run(Command::new("apt-get").args(["install", "-y", "-qq", "libjna-java"]))?;
        }
        if !jna.exists() {
            return Err(format!("{} is still missing after installing libjna-java", jna.display()));
        }
    }
    let lib = pkg.join("lib");
    Ok(KotlinTools {
        kotlinc: pkg.join("bin/kotlinc"),
        classpath: vec![jna, lib.join("kotlinx-coroutines-core-jvm.jar"), lib.join("kotlin-stdlib.jar")],
    })
}

pub(crate) fn join_cp(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":")
}

/// Compiles the Kotlin tests against the packaged jar and runs them on the JVM with only the
/// jar and its POM's dependencies on the classpath: the native library is loaded from inside
/// the jar, as it is for a user.
fn kotlin_suite(root: &Path, jar: &Path, emulator: &Path, redis: &Path) -> Result<(), String> {
    let tools = kotlin_tools()?;
    step("kotlin: compile the tests against the packaged jar");
    let out_jar = compile_kotlin(root, &tools, jar, "bindings/kotlin/tests", "mendian-kotlin-tests.jar")?;
    step("kotlin: run the tests on the JVM (the library from the jar)");
    run(java_with_jar(&tools, &out_jar, jar)
        .arg("-Dmendian.libraryFromJar=true")
        .arg(format!("-Dmendian.version={}", crate::package::workspace_version(root)?))
        .arg(format!("-Dmendian.emulator={}", emulator.display()))
        .arg(format!("-Dmendian.redis={}", redis.display()))
        .arg("mendian.tests.MainKt"))
}

/// Compiles the Kotlin sources under `dir` against `jar` into the target directory's
/// `kotlin/<name>`.
fn compile_kotlin(root: &Path, tools: &KotlinTools, jar: &Path, dir: &str, name: &str) -> Result<PathBuf, String> {
    let out_jar = target_dir(root).join("kotlin").join(name);
    std::fs::create_dir_all(out_jar.parent().expect("has a parent")).map_err(|e| e.to_string())?;
    let mut sources = Vec::new();
    collect_files(&root.join(dir), "kt", &mut sources);
    let mut compile_cp = vec![jar.to_path_buf()];
    compile_cp.extend(tools.classpath[..2].iter().cloned());
    run(Command::new(&tools.kotlinc)
        .args(["-nowarn", "-jvm-target", "17", "-cp"])
        .arg(join_cp(&compile_cp))
        .arg("-d")
        .arg(&out_jar)
        .args(&sources))?;
    Ok(out_jar)
}

/// `java` with `compiled`, `jar` and their dependencies on the classpath, and the library
/// loaded from the jar: `cargo xtask` runs under cargo, which puts the target's library
/// directories on LD_LIBRARY_PATH, where JNA would find a libmendian.so before the jar's.
fn java_with_jar(tools: &KotlinTools, compiled: &Path, jar: &Path) -> Command {
    let mut cp = vec![compiled.to_path_buf(), jar.to_path_buf()];
    cp.extend(tools.classpath.iter().cloned());
    let mut java = Command::new("java");
    java.env_remove("LD_LIBRARY_PATH").arg("-cp").arg(join_cp(&cp));
    java
}

pub(crate) fn collect_files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

fn nextest(root: &Path, redis: &Path) -> Result<(), String> {
    if !ok(Command::new(cargo_bin()).args(["nextest", "--version"])) {
        step("bootstrap: cargo-nextest");
        run(Command::new(cargo_bin()).args(["install", "--locked", "cargo-nextest"]))?;
    }
    step(&format!("rust: cargo nextest run --workspace --features {}", server_features_of_core()));
    run(Command::new(cargo_bin())
        .current_dir(root)
        .args(["nextest", "run", "--workspace", "--no-fail-fast", "--features", &server_features_of_core()])
        .env("MENDIAN_REDIS_SERVER", redis))?;
    step("rust: the WeChat Pay vectors and end-to-end tests with the pure-Rust rsa backend");
    run(Command::new(cargo_bin()).current_dir(root).args([
        "nextest", "run", "-p", "mendian", "--features", "rsa-backend", "--no-fail-fast",
        "--test", "it", "-E", "test(/^wechatpay_(vectors|e2e|notify)::/)",
    ]))
}

/// `cargo xtask test`: every check and every language's suite. Runs them all, then fails if
/// any failed.
pub fn test_all(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    let mut results: Vec<(&str, Result<(), String>)> = Vec::new();
    step("codegen --check");
    results.push(("codegen is fresh", crate::codegen::run(root, true)));
    let redis = match redis_server() {
        Ok(r) => r,
        Err(e) => return Err(format!("cannot provide redis-server for the tests: {e}")),
    };
    results.push(("rust (nextest)", nextest(root, &redis)));
    results.push(("fuzz (bounded AFL++ pass)", crate::fuzz::run_all(root, crate::fuzz::TEST_SECONDS)));
    let prepared = bindings(root, true).and_then(|_| build_emulator(root));
    match prepared {
        Ok(emulator) => {
            results.push(("swift bindings are fresh (generated, not compiled)", Ok(())));
            results.push(("python (debug wheel + pytest)", python_suite(root, &emulator, &redis, Wheels::Debug)));
            results.push(("import end to end (changed page → import --write → codegen → Python)", crate::import_e2e::run_flow(root)));
            step("package: cargo xtask package");
            match crate::package::package(root) {
                Ok(dist) => {
                    results
                        .push(("package (dist/: manylinux2014 wheels checked by auditwheel, sdist, jar, POM)", Ok(())));
                    results.push((
                        "python (packaged wheels + pytest, emulator from PATH)",
                        python_suite(root, &emulator, &redis, Wheels::Dist(&dist)),
                    ));
                    results.push(("python (the sdist builds)", sdist_builds(root, &dist.sdist)));
                    results
                        .push(("kotlin (JVM, on the packaged jar)", kotlin_suite(root, &dist.jar, &emulator, &redis)));
                }
                Err(e) => {
                    results.push(("package", Err(e)));
                    results.push((
                        "python (packaged wheels) and kotlin (packaged jar)",
                        Err("not run: packaging failed".into()),
                    ));
                }
            }
        }
        Err(e) => {
            results.push(("bindings", Err(e)));
            results.push(("python, package and kotlin", Err("not run: bindings failed".into())));
        }
    }
    println!("\n==> summary ({:.0} s)", started.elapsed().as_secs_f64());
    let mut failed = 0;
    for (name, r) in &results {
        match r {
            Ok(()) => println!("  ok      {name}"),
            Err(e) => {
                failed += 1;
                println!("  FAILED  {name}: {}", e.lines().next().unwrap_or(""));
            }
        }
    }
    if failed > 0 {
        for (name, r) in &results {
            if let Err(e) = r {
                eprintln!("\n{name}:\n{e}");
            }
        }
        return Err(format!("{failed} of {} test steps failed", results.len()));
    }
    Ok(())
}

/// `cargo xtask demo`: the walkthrough example against the in-process emulator.
pub fn demo(root: &Path) -> Result<(), String> {
    // Not `-q`: a first run compiles for minutes, and cargo's progress shows it is working.
    step("demo: build (the first run compiles the core and the emulator; later runs start at once)");
    run(Command::new(cargo_bin()).current_dir(root).args(["build", "-p", "mendian", "--example", "demo"]))?;
    step("demo: run");
    run(Command::new(cargo_bin()).current_dir(root).args(["run", "-q", "-p", "mendian", "--example", "demo"]))
}

/// `cargo xtask bench`: the WeChat Pay CPU benchmark, optimised build, with the default
/// aws-lc-rs backend and then with the pure-Rust `rsa` backend; then 门店小程序 calls per
/// second against the emulator next to plain reqwest; then the access-token read from Redis
/// next to memory; then client CPU per call from Python and from Kotlin. `only` runs one of
/// the last two alone (`python`, `kotlin`).
pub fn bench(root: &Path, only: Option<&str>) -> Result<(), String> {
    match only {
        Some("python") => return python_bench(root),
        Some("kotlin") => return kotlin_bench(root),
        Some(other) => return Err(format!("bench --{other}: the parts that run alone are --python and --kotlin")),
        None => {}
    }
    run(Command::new(cargo_bin()).current_dir(root).args(["run", "-q", "--release", "-p", "mendian", "--example", "bench_wechatpay"]))?;
    println!();
    run(Command::new(cargo_bin()).current_dir(root).args([
        "run", "-q", "--release", "-p", "mendian", "--features", "rsa-backend", "--example", "bench_wechatpay",
    ]))?;
    println!();
    run(Command::new(cargo_bin()).current_dir(root).args(["run", "-q", "--release", "-p", "mendian", "--example", "bench_wxa"]))?;
    println!();
    let redis = redis_server()?;
    run(Command::new(cargo_bin())
        .current_dir(root)
        .args(["run", "-q", "--release", "-p", "mendian", "--features", SERVER_FEATURES, "--example", "bench_tokens", "--"])
        .arg(&redis))?;
    python_bench(root)?;
    kotlin_bench(root)
}

/// Release builds of the emulator and of the plain-reqwest baseline the language benches
/// measure against: their paths.
fn bench_processes(root: &Path) -> Result<(PathBuf, PathBuf), String> {
    step("bench: release builds of the emulator and the plain-reqwest baseline");
    run(Command::new(cargo_bin()).current_dir(root).args(["build", "-q", "--release", "-p", "mendian-emulator", "--bin", "mendian-emulator"]))?;
    run(Command::new(cargo_bin()).current_dir(root).args(["build", "-q", "--release", "-p", "mendian", "--example", "bench_baseline"]))?;
    let release = target_dir(root).join("release");
    let emulator = release.join(format!("mendian-emulator{}", std::env::consts::EXE_SUFFIX));
    let baseline = release.join("examples").join(format!("bench_baseline{}", std::env::consts::EXE_SUFFIX));
    Ok((emulator, baseline))
}

/// Client CPU per call from Kotlin (`bindings/kotlin/bench`): compiled against the packaged
/// jar (release library inside) and run on the JVM with the jar's library, next to the
/// plain-reqwest baseline.
fn kotlin_bench(root: &Path) -> Result<(), String> {
    let (emulator, baseline) = bench_processes(root)?;
    step("bench: the packaged jar (cargo xtask package)");
    let dist = crate::package::package(root)?;
    let tools = kotlin_tools()?;
    step("bench: compile the Kotlin bench against the jar");
    let out_jar = compile_kotlin(root, &tools, &dist.jar, "bindings/kotlin/bench", "mendian-kotlin-bench.jar")?;
    step("bench: client CPU per call from Kotlin");
    run(java_with_jar(&tools, &out_jar, &dist.jar).arg("mendian.bench.BenchKt").arg(&emulator).arg(&baseline))
}

/// Client CPU per call from Python (`bindings/python/bench/bench_calls.py`): the release
/// wheel in its own virtualenv with `requests`, the release emulator as its own process and
/// the plain-reqwest baseline (`examples/bench_baseline.rs`) as another.
fn python_bench(root: &Path) -> Result<(), String> {
    let (emulator, baseline) = bench_processes(root)?;

    let tools = tools_venv()?;
    step("bench: build the release wheel (maturin --release)");
    let wheels = target_dir(root).join("bench-wheels");
    let _ = std::fs::remove_dir_all(&wheels);
    let wheel = build_wheel(&tools, &root.join("bindings/python"), &["--release"], &wheels, &target_dir(root))?;

    step("bench: install the wheel, requests and cryptography into the bench virtualenv");
    let venv = cache_dir().join("bench-venv");
    let python = venv.join("bin/python");
    // `cryptography` (OpenSSL) signs and encrypts for the pure-Python WeChat Pay client.
    if !ok(Command::new(&python).args(["-c", "import requests, cryptography"])) {
        let _ = std::fs::remove_dir_all(&venv);
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "requests", "cryptography"]))?;
    }
    // Same version number every build: force the freshly built wheel in.
    run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "--force-reinstall", "--no-deps"]).arg(&wheel))?;

    step("bench: client CPU per call from Python");
    // Run from the bench directory so `import mendian` is the installed wheel.
    run(Command::new(&python)
        .current_dir(root.join("bindings/python/bench"))
        .arg("bench_calls.py")
        .arg("--emulator")
        .arg(&emulator)
        .arg("--baseline")
        .arg(&baseline)
        .arg("--json")
        .arg(target_dir(root).join("bench-python.json")))
}
