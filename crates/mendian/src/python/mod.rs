//! The Python accelerator (feature `python`, the wheel only): a CPython extension module,
//! `mendian._accel`, in the same library as the UniFFI scaffolding. The Python package loads
//! it from that library and puts its functions in place of the UniFFI-generated methods of
//! each endpoint (`client.get_store_list(…)` and `…_async`) and of the validation functions
//! (`validate_get_store_list_request`), so those calls lower their
//! request and lift their answer in Rust, straight from and into the very classes UniFFI
//! generated, instead of through UniFFI's Python converters (a field at a time, in Python).
//! Everything else (constructors, configuration, callbacks, events) stays on UniFFI, and
//! Kotlin and Swift never see this module. One spec, one core: the functions and
//! conversions are generated (`python::generated`, by `cargo xtask codegen`) and call the
//! same client methods as the UniFFI layer.
//!
//! Why: a page of 50 stores took about 8,300 Python function calls to lift through UniFFI's
//! converters, and the asyncio form paid for UniFFI's poll-and-wake protocol on every call;
//! `cargo xtask bench --python` measures both paths in one run.

pub mod call;
pub mod convert;
pub mod pending;
#[cfg(unix)]
pub mod selector;
pub mod waker;
#[allow(missing_docs)]
mod generated;

use pyo3::exceptions::PyAssertionError;
use pyo3::prelude::*;
use pyo3::types::PyList;

/// Sets the function that turns a `MendianError` written by UniFFI's converter into the
/// exception UniFFI raises for it (the bindings' own reader, handed over by the package), and
/// registers [`forked`] to run in every child `os.fork` makes, so the core may cache the
/// process id (see `runtime::shared`). The package calls it once, when it loads.
#[pyfunction]
fn install(py: Python<'_>, lift_error: Py<PyAny>) -> PyResult<()> {
    let _ = call::LIFT_ERROR.set(py, lift_error);
    // Windows has no fork (nor `os.register_at_fork`): nothing to cache there.
    let Ok(register) = py.import("os")?.getattr("register_at_fork") else { return Ok(()) };
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("after_in_child", wrap_pyfunction!(forked, py)?)?;
    register.call((), Some(&kwargs))?;
    crate::runtime::shared::fork_hook_installed();
    Ok(())
}

/// Run by Python in a child of `os.fork`, first thing: the child is another process.
#[pyfunction]
fn forked() {
    crate::runtime::shared::forked();
}

/// Every method this module replaces, as `(class, method, function)`; the asyncio form of
/// each is `method + "_async"` → `function + "_async"`.
#[pyfunction]
fn methods(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    PyList::new(py, generated::methods().copied())
}

/// Every validation function this module replaces, as `(name, function)`.
#[pyfunction]
fn validators(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    PyList::new(py, generated::validators().copied())
}

/// Checks that every class and attribute the generated conversions name exists in the
/// bindings, with the same fields (raises `AssertionError` naming the first mismatch);
/// returns how many classes were checked.
#[pyfunction]
fn self_check(py: Python<'_>) -> PyResult<usize> {
    let signature = py.import("inspect")?.getattr("signature")?;
    let mut checked = 0;
    for (class, fields) in generated::records() {
        let cls = class.get(py)?;
        let params = signature.call1((cls.getattr("__init__")?,))?.getattr("parameters")?;
        let names: Vec<String> = params.try_iter()?.map(|p| p?.extract::<String>()).collect::<PyResult<_>>()?;
        let names: Vec<&str> = names.iter().map(String::as_str).filter(|n| *n != "self").collect();
        if names != *fields {
            return Err(PyAssertionError::new_err(format!("{}: the bindings have fields {names:?}, the accelerator {fields:?}", class.path())));
        }
        checked += 1;
    }
    for class in generated::variants() {
        class.get(py)?;
        checked += 1;
    }
    Ok(checked)
}

/// The extension module.
#[pymodule]
fn _accel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(install, m)?)?;
    m.add_function(wrap_pyfunction!(methods, m)?)?;
    m.add_function(wrap_pyfunction!(validators, m)?)?;
    m.add_function(wrap_pyfunction!(self_check, m)?)?;
    m.add_function(wrap_pyfunction!(call::current_loop, m)?)?;
    m.add_class::<pending::Pending>()?;
    m.add_class::<waker::Waker>()?;
    #[cfg(unix)]
    m.add_class::<selector::Reactor>()?;
    generated::register(m)
}
