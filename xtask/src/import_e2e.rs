//! The importer end to end, as `cargo xtask test` runs it: in a copy of the checkout, a
//! WeChat Pay page whose guide_id limit shrank from 64 to 32 characters is imported with
//! `--write`, the code is regenerated (`codegen`), a debug wheel is built from the copy, and
//! Python must then refuse a 40-character guide_id with `InvalidArgument` naming it (the
//! checkout's own wheel accepts it), while 32 characters still pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::{build_wheel, cache_dir, run, step, target_dir, tools_venv};

const PAGE: &str = "spec/docs/wechatpay/update-guide.txt";

/// What Python must see after the change.
const CHECK: &str = r#"
import mendian
longer = mendian.UpdateGuideRequest(guide_id="g" * 40, name="张三")
try:
    mendian.validate_update_guide_request(longer)
except mendian.MendianError.InvalidArgument as e:
    assert e.field == "guide_id", e
    print("40 characters refused:", e)
else:
    raise SystemExit("a 40-character guide_id passed; the page's new limit is 32")
mendian.validate_update_guide_request(mendian.UpdateGuideRequest(guide_id="g" * 32, name="张三"))
print("32 characters pass")
"#;

/// Runs the whole flow; the copy lives under the target directory.
pub fn run_flow(root: &Path) -> Result<(), String> {
    step("import end to end: a changed page → import --write → codegen → Python");
    let copy = target_dir(root).join("import-e2e").join("mendian");
    copy_checkout(root, &copy)?;
    let page_path = copy.join(PAGE);
    let page = std::fs::read_to_string(&page_path).map_err(|e| e.to_string())?;
    let from = "guide_id string[1,64]";
    if page.matches(from).count() != 1 {
        return Err(format!("{PAGE} no longer has one {from:?}; update the end-to-end check"));
    }
    std::fs::write(&page_path, page.replacen(from, "guide_id string[1,32]", 1)).map_err(|e| e.to_string())?;

    let spec = mendian_spec::read_sources(&copy.join("spec")).and_then(|s| mendian_spec::load_sources(&s)).map_err(|e| e.to_string())?;
    let raw = std::fs::read_to_string(&page_path).map_err(|e| e.to_string())?;
    let report = crate::import::import(&raw, None, &spec, &copy)?;
    print!("{}", report.text);
    if report.drift != 1 {
        return Err(format!("expected one drift (the guide_id limit), got {}", report.drift));
    }
    let left = crate::import::write_spec(&copy, &report)?;
    if left != 0 {
        return Err(format!("{left} drift left after --write"));
    }
    crate::codegen::run(&copy, false)?;

    let venv = tools_venv()?;
    step("import end to end: the debug wheel of the changed copy");
    let out = copy.join("wheels");
    let _ = std::fs::remove_dir_all(&out);
    let wheel = build_wheel(&venv, &copy.join("bindings/python"), &[], &out, &target_dir(root))?;
    forget_the_copys_library(root);
    let test_venv = cache_dir().join("import-e2e-venv");
    let _ = std::fs::remove_dir_all(&test_venv);
    run(Command::new("python3").args(["-m", "venv"]).arg(&test_venv))?;
    run(Command::new(test_venv.join("bin/pip")).args(["install", "--quiet"]).arg(&wheel))?;
    step("import end to end: Python sees the new limit");
    run(Command::new(test_venv.join("bin/python")).current_dir(std::env::temp_dir()).args(["-c", CHECK]))
}

/// The copy shares the target directory (its dependencies are the checkout's), but its own
/// library has no hash in its file name, so it replaced the checkout's debug library there,
/// which cargo would then still count as fresh: removing it makes the checkout's next build
/// link its own again.
fn forget_the_copys_library(root: &Path) {
    let target = target_dir(root);
    for dir in [target.join("debug"), target.join("debug/deps"), target.join("maturin")] {
        for name in ["libmendian.so", "libmendian.a", "libmendian.dylib"] {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }
}

/// Copies the checkout's files (tracked and untracked, not ignored) to `to`, replacing it.
fn copy_checkout(root: &Path, to: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(to);
    let out = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .output()
        .map_err(|e| format!("git ls-files: {e}"))?;
    if !out.status.success() {
        return Err(format!("git ls-files failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    for rel in out.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rel = PathBuf::from(String::from_utf8_lossy(rel).into_owned());
        let from = root.join(&rel);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().expect("a file has a parent")).map_err(|e| e.to_string())?;
        std::fs::copy(&from, &dest).map_err(|e| format!("{}: {e}", from.display()))?;
    }
    Ok(())
}
