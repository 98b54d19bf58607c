//! `cargo xtask package`: every artefact a user installs, built into `dist/` in release mode
//! with the workspace version, then checked as a user would use it.
//!
//! - `dist/python/`: the SDK wheel and the emulator wheel for Linux x86_64 on glibc 2.17+
//!   (manylinux2014: maturin links with zig against old glibc symbols), checked with
//!   `auditwheel show`; and the SDK's sdist.
//! - `dist/jvm/`: the Kotlin bindings as a jar holding the Linux x86_64 library as a JNA
//!   resource (`linux-x86-64/libmendian.so`: the same core, built the same way, without the
//!   wheel's Python accelerator), its sources jar (with the KDoc) and a POM naming its
//!   dependencies.
//! - `dist/SHA256SUMS`.
//!
//! Timestamps inside the archives come from the last commit (`SOURCE_DATE_EPOCH`), so two
//! builds of one commit give the same bytes. Targets this machine cannot build (aarch64,
//! macOS, Windows, Android, iOS) are recipes under `packaging/`, not artefacts.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::{self, run, step};

/// The Rust target of the portable Linux builds.
const LINUX_TARGET: &str = "x86_64-unknown-linux-gnu";
/// The platform tag every Linux wheel must carry (manylinux2014 is its alias).
pub const MANYLINUX_TAG: &str = "manylinux_2_17_x86_64";
/// ziglang from PyPI, the linker maturin uses for manylinux2014.
const ZIGLANG: &str = "ziglang>=0.13,<0.15";
/// auditwheel from PyPI, the reference check of a wheel's platform tag.
const AUDITWHEEL: &str = "auditwheel>=6,<7";
/// The `wheel` tool from PyPI, which unpacks and repacks a wheel (rewriting its RECORD).
const WHEEL: &str = "wheel>=0.43";

/// What `package` built.
pub struct Dist {
    /// The SDK wheel.
    pub sdk_wheel: PathBuf,
    /// The emulator wheel.
    pub emulator_wheel: PathBuf,
    /// The SDK sdist.
    pub sdist: PathBuf,
    /// The JVM library (jar with the native library inside).
    pub jar: PathBuf,
}

/// The workspace version (`[workspace.package] version` of the root Cargo.toml).
pub fn workspace_version(root: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| e.to_string())?;
    let value: toml::Table = text.parse().map_err(|e| format!("Cargo.toml: {e}"))?;
    value
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| "Cargo.toml has no [workspace.package] version".into())
}

/// Unix time of the last commit: the timestamp inside every archive.
fn source_date_epoch(root: &Path) -> String {
    if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
        return v;
    }
    Command::new("git")
        .current_dir(root)
        .args(["log", "-1", "--format=%ct"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "315532800".into())
}

/// The tools virtualenv with ziglang and auditwheel added.
fn packaging_venv() -> Result<PathBuf, String> {
    let venv = tools::tools_venv()?;
    if !tools::ok(Command::new(venv.join("bin/python")).args(["-c", "import ziglang, auditwheel, wheel"])) {
        step("bootstrap: ziglang, auditwheel and wheel from PyPI");
        run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", ZIGLANG, AUDITWHEEL, WHEEL]))?;
    }
    Ok(venv)
}

/// `cargo xtask package`.
pub fn package(root: &Path) -> Result<Dist, String> {
    let version = workspace_version(root)?;
    let epoch = source_date_epoch(root);
    let dist = root.join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    let (py, jvm) = (dist.join("python"), dist.join("jvm"));
    for d in [&py, &jvm] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let venv = packaging_venv()?;
    let portable = ["--quiet", "--release", "--zig", "--compatibility", "manylinux2014", "--target", LINUX_TARGET];

    step(&format!("package: the SDK wheel {version} (release, manylinux2014 via zig)"));
    let sdk_wheel = maturin(&venv, &root.join("bindings/python"), "build", &portable, &py, &epoch, "mendian-")?;
    strip_debug_info(root, &venv, &sdk_wheel, &epoch)?;
    step("package: the emulator wheel (release, manylinux2014 via zig)");
    let emulator_wheel =
        maturin(&venv, &root.join("bindings/emulator"), "build", &portable, &py, &epoch, "mendian_emulator-")?;
    strip_debug_info(root, &venv, &emulator_wheel, &epoch)?;
    step("package: the SDK sdist");
    let sdist = maturin(&venv, &root.join("bindings/python"), "sdist", &[], &py, &epoch, "mendian-")?;
    for wheel in [&sdk_wheel, &emulator_wheel] {
        check_wheel_tag(&venv, wheel)?;
    }

    step(&format!("package: the JVM library's core (release, manylinux2014 via zig, --features {})", tools::SERVER_FEATURES));
    // The wheel's library also holds the Python accelerator (feature `python`), which links
    // against CPython and cannot load in a JVM: the jar gets the same core without it, built
    // the same way (the features given to maturin replace pyproject.toml's).
    let jvm_build = tools::target_dir(root).join("package-jvm-wheel");
    let _ = std::fs::remove_dir_all(&jvm_build);
    std::fs::create_dir_all(&jvm_build).map_err(|e| e.to_string())?;
    let jvm_flags: Vec<&str> = portable.iter().copied().chain(["--features", tools::SERVER_FEATURES]).collect();
    let jvm_wheel = maturin(&venv, &root.join("bindings/python"), "build", &jvm_flags, &jvm_build, &epoch, "mendian-")?;
    strip_debug_info(root, &venv, &jvm_wheel, &epoch)?;
    step("package: the JVM library (jar with the native library, sources, POM)");
    let jar = jvm_library(root, &jvm_wheel, &jvm, &version, &epoch)?;

    let mut files: Vec<PathBuf> = list(&py).into_iter().chain(list(&jvm)).filter(|f| f.is_file()).collect();
    files.sort();
    let mut sums = String::new();
    println!("\ndist/ ({version}):");
    for f in &files {
        let out = Command::new("sha256sum").arg(f).output().map_err(|e| format!("sha256sum: {e}"))?;
        let sum = String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_string();
        let rel = f.strip_prefix(&dist).unwrap_or(f).display().to_string();
        sums.push_str(&format!("{sum}  {rel}\n"));
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        println!("  {size:>12} B  {rel}");
    }
    std::fs::write(dist.join("SHA256SUMS"), sums).map_err(|e| e.to_string())?;
    Ok(Dist { sdk_wheel, emulator_wheel, sdist, jar })
}

/// Runs `maturin <command>` in `project` into `out` and returns the new file whose name
/// starts with `prefix` (a wheel for `build`, the tarball for `sdist`).
fn maturin(
    venv: &Path,
    project: &Path,
    command: &str,
    flags: &[&str],
    out: &Path,
    epoch: &str,
    prefix: &str,
) -> Result<PathBuf, String> {
    let before: Vec<PathBuf> = list(out);
    run(Command::new(venv.join("bin/maturin"))
        .current_dir(project)
        .arg(command)
        .args(flags)
        .arg("--out")
        .arg(out)
        .env("SOURCE_DATE_EPOCH", epoch)
        // zig's linker reads rustc's `--strip-debug` (the release default) as "strip all",
        // which drops the symbol table uniffi-bindgen reads the bindings' metadata from;
        // debug info is stripped from the wheel afterwards instead (`strip_debug_info`).
        .env("CARGO_PROFILE_RELEASE_STRIP", "false")
        .env("PATH", tools::path_with(&venv.join("bin"))))?;
    list(out)
        .into_iter()
        .find(|p| !before.contains(p) && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
        .ok_or_else(|| format!("maturin {command} wrote nothing starting with {prefix} into {}", out.display()))
}

/// Strips debug information from every ELF file in the wheel (keeping the symbol table, which
/// uniffi-bindgen reads) and repacks it in place with a rewritten RECORD.
fn strip_debug_info(root: &Path, venv: &Path, wheel: &Path, epoch: &str) -> Result<(), String> {
    let work = tools::target_dir(root).join("package-strip");
    let _ = std::fs::remove_dir_all(&work);
    run(Command::new(venv.join("bin/wheel")).arg("unpack").arg(wheel).arg("--dest").arg(&work))?;
    let unpacked = list(&work).into_iter().find(|p| p.is_dir()).ok_or("wheel unpack wrote nothing")?;
    let mut files = Vec::new();
    walk(&unpacked, &mut files);
    let elf: Vec<PathBuf> =
        files.into_iter().filter(|f| std::fs::read(f).map(|b| b.starts_with(b"\x7fELF")).unwrap_or(false)).collect();
    if elf.is_empty() {
        return Err(format!("{} holds no ELF file", wheel.display()));
    }
    for f in &elf {
        run(Command::new("strip").arg("--strip-debug").arg(f))?;
    }
    let out = wheel.parent().expect("the wheel is in a directory");
    std::fs::remove_file(wheel).map_err(|e| e.to_string())?;
    run(Command::new(venv.join("bin/wheel"))
        .arg("pack")
        .arg(&unpacked)
        .arg("--dest-dir")
        .arg(out)
        .env("SOURCE_DATE_EPOCH", epoch))?;
    if !wheel.exists() {
        return Err(format!("wheel pack did not write {}", wheel.display()));
    }
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for p in list(dir) {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn list(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default()
}

/// The wheel's name carries the manylinux2014 tag and `auditwheel show` agrees that every
/// symbol it needs exists in glibc 2.17.
fn check_wheel_tag(venv: &Path, wheel: &Path) -> Result<(), String> {
    let name = wheel.file_name().unwrap_or_default().to_string_lossy().to_string();
    if !name.contains(MANYLINUX_TAG) {
        return Err(format!("{name} is not tagged {MANYLINUX_TAG}"));
    }
    let out = Command::new(venv.join("bin/auditwheel"))
        .arg("show")
        .arg(wheel)
        .output()
        .map_err(|e| format!("auditwheel: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if !out.status.success()
        || !text.contains(&format!("consistent with the following platform tag: \"{MANYLINUX_TAG}\""))
    {
        return Err(format!(
            "auditwheel show {name} does not confirm {MANYLINUX_TAG}:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    println!("auditwheel: {name} is consistent with {MANYLINUX_TAG}");
    Ok(())
}

/// Extracts the member of a zip archive whose path ends with `suffix` into `to`.
fn extract(archive: &Path, suffix: &str, to: &Path) -> Result<(), String> {
    let script = "import sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  [name] = [n for n in z.namelist() if n.endswith(sys.argv[2])]\n\
                  open(sys.argv[3], 'wb').write(z.read(name))\n";
    run(Command::new("python3").args(["-c", script]).arg(archive).arg(suffix).arg(to))
}

/// Reads one member of a zip archive as text.
fn read_member(archive: &Path, name: &str) -> Result<String, String> {
    let out = Command::new("python3")
        .args(["-c", "import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())"])
        .arg(archive)
        .arg(name)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("{}: no {name}", archive.display()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The jar: Kotlin generated from the library it ships (so the bindings and the library are
/// one build; `wheel` is the build of the core without the Python accelerator), the hand-written library sources (`bindings/kotlin/src`), the library as a
/// JNA resource; its sources jar and POM.
fn jvm_library(root: &Path, wheel: &Path, out: &Path, version: &str, epoch: &str) -> Result<PathBuf, String> {
    let work = tools::target_dir(root).join("package-jvm");
    let _ = std::fs::remove_dir_all(&work);
    let (classes, generated) = (work.join("classes"), work.join("generated"));
    let native = classes.join("linux-x86-64");
    std::fs::create_dir_all(&native).map_err(|e| e.to_string())?;
    let lib = native.join("libmendian.so");
    extract(wheel, "/libmendian.so", &lib)?;
    run(Command::new(tools::cargo_bin())
        .current_dir(root)
        .args([
            "run",
            "-q",
            "-p",
            "uniffi-bindgen",
            "--",
            "generate",
            "--no-format",
            "--language",
            "kotlin",
            "--out-dir",
        ])
        .arg(&generated)
        .arg(&lib))?;
    crate::kotlin_passes::apply_passes(&generated)?;
    let kotlin = tools::kotlin_tools()?;
    let mut sources = Vec::new();
    tools::collect_files(&generated, "kt", &mut sources);
    tools::collect_files(&root.join("bindings/kotlin/src"), "kt", &mut sources);
    run(Command::new(&kotlin.kotlinc)
        .args(["-nowarn", "-jvm-target", "17", "-cp"])
        .arg(tools::join_cp(&kotlin.classpath[..2]))
        .arg("-d")
        .arg(&classes)
        .args(&sources))?;
    let date = iso_date(epoch)?;
    let jar = out.join(format!("mendian-{version}.jar"));
    make_jar(&jar, &date, &[&classes])?;
    let sources_jar = out.join(format!("mendian-{version}-sources.jar"));
    make_jar(&sources_jar, &date, &[&generated, &root.join("bindings/kotlin/src")])?;
    let lib_dir = kotlin.classpath[1].parent().expect("kotlinc's lib directory").to_path_buf();
    let coroutines = read_member(&kotlin.classpath[1], "META-INF/kotlinx_coroutines_core.version")?;
    let stdlib = read_member(&lib_dir.join("kotlin-stdlib.jar"), "META-INF/MANIFEST.MF")?
        .lines()
        .find_map(|l| l.strip_prefix("Implementation-Version:").map(|v| v.trim().to_string()))
        .ok_or("kotlin-stdlib.jar names no Implementation-Version")?;
    let jna = jna_version(&kotlin.classpath[0])?;
    std::fs::write(out.join(format!("mendian-{version}.pom")), pom(version, &stdlib, &coroutines, &jna))
        .map_err(|e| e.to_string())?;
    Ok(jar)
}

/// A jar of the contents of `dirs`, every entry dated `date` (reproducible).
fn make_jar(jar: &Path, date: &str, dirs: &[&Path]) -> Result<(), String> {
    let mut cmd = Command::new("jar");
    cmd.arg("--create").arg(format!("--date={date}")).arg("--file").arg(jar);
    for d in dirs {
        cmd.arg("-C").arg(d).arg(".");
    }
    run(&mut cmd)
}

/// JNA's version from its manifest.
fn jna_version(jar: &Path) -> Result<String, String> {
    read_member(jar, "META-INF/MANIFEST.MF")?
        .lines()
        .find_map(|l| {
            l.strip_prefix("Implementation-Version:")
                .or_else(|| l.strip_prefix("Bundle-Version:"))
                .map(|v| v.trim().to_string())
        })
        .map(|v| v.split(' ').next().unwrap_or_default().to_string())
        .ok_or_else(|| format!("{} names no version", jar.display()))
}

/// `SOURCE_DATE_EPOCH` as the ISO-8601 time `jar --date` takes.
fn iso_date(epoch: &str) -> Result<String, String> {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{epoch}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn pom(version: &str, stdlib: &str, coroutines: &str, jna: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>mendian</groupId>
  <artifactId>mendian</artifactId>
  <version>{version}</version>
  <packaging>jar</packaging>
  <name>mendian</name>
  <description>Stores and service staff on WeChat Pay, WeChat store mini-programs and Tmall's service center, from one Rust core (Kotlin bindings; Linux x86_64 library included as a JNA resource).</description>
  <url>https://example.invalid/mendian</url>
  <licenses>
    <license><name>Apache-2.0</name><url>https://www.apache.org/licenses/LICENSE-2.0</url></license>
  </licenses>
  <dependencies>
    <dependency><groupId>org.jetbrains.kotlin</groupId><artifactId>kotlin-stdlib</artifactId><version>{stdlib}</version></dependency>
    <dependency><groupId>org.jetbrains.kotlinx</groupId><artifactId>kotlinx-coroutines-core-jvm</artifactId><version>{coroutines}</version></dependency>
    <dependency><groupId>net.java.dev.jna</groupId><artifactId>jna</artifactId><version>{jna}</version></dependency>
  </dependencies>
</project>
"#
    )
}
