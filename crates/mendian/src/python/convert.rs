//! Lowering and lifting for the Python accelerator: a request is read straight from the
//! UniFFI-generated Python record the caller built, and an answer is built straight as those
//! classes (the same objects UniFFI's own converters would return), without UniFFI's
//! byte-by-byte Python converters. The generated impls (`python::generated`) cover the
//! spec's records and enums; this file holds the primitives and the class lookup.
//!
//! Wrong Python types fail as UniFFI's converters fail (`TypeError`, `ValueError` for an
//! integer out of range), with the field's path in front of the message.

use std::collections::HashMap;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyType};

/// The module UniFFI generated, whose classes the accelerator builds.
const BINDINGS: &str = "mendian._ffi.mendian";

/// A class of the generated bindings (`Name`, or `Enum.VARIANT` for a variant), resolved
/// on first use and kept for the life of the interpreter.
pub struct Class {
    path: &'static str,
    cell: PyOnceLock<Py<PyType>>,
}

impl Class {
    /// The class at `path` in the generated bindings.
    pub const fn new(path: &'static str) -> Self {
        Self { path, cell: PyOnceLock::new() }
    }

    /// Its dotted path in the bindings module.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The class object.
    pub fn get<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyType>> {
        self.cell
            .get_or_try_init(py, || {
                let mut obj = py.import(BINDINGS)?.into_any();
                for part in self.path.split('.') {
                    obj = obj.getattr(part)?;
                }
                Ok::<_, PyErr>(obj.cast_into::<PyType>()?.unbind())
            })
            .map(|c| c.bind(py))
    }

    /// A new instance whose attributes are `fields`, made without running `__init__` (the
    /// values are already of the declared types).
    pub fn record<'py>(&self, py: Python<'py>, fields: &[(&Bound<'py, PyString>, Bound<'py, PyAny>)]) -> PyResult<Bound<'py, PyAny>> {
        static NEW: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let new = NEW.get_or_try_init(py, || py.import("builtins")?.getattr("object")?.getattr("__new__").map(Bound::unbind))?;
        let obj = new.bind(py).call1((self.get(py)?,))?;
        for (name, value) in fields {
            obj.setattr(*name, value)?;
        }
        Ok(obj)
    }

    /// Whether `v` is an instance of this class.
    pub fn holds(&self, v: &Bound<'_, PyAny>) -> PyResult<bool> {
        v.is_instance(self.get(v.py())?)
    }
}

/// A Rust value as the Python object UniFFI would have lifted.
pub trait ToPy {
    /// The Python object.
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}

/// A Rust value read from the Python object UniFFI would have lowered.
pub trait FromPy: Sized {
    /// The value, or the `TypeError` / `ValueError` UniFFI's converter raises.
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self>;
}

/// Reads attribute `name` of `obj` as `T`, naming the attribute in a failure.
pub fn field<T: FromPy>(obj: &Bound<'_, PyAny>, name: &Bound<'_, PyString>) -> PyResult<T> {
    let v = obj.getattr(name)?;
    T::from_py(&v).map_err(|e| at(obj.py(), name.as_any(), e))
}

/// `e` with the path of the field that failed in front of its message (`base_info.city: …`,
/// `items[2]: …`), same exception type. Other exceptions pass unchanged.
pub fn at(py: Python<'_>, name: &Bound<'_, PyAny>, e: PyErr) -> PyErr {
    let ty = e.get_type(py);
    let type_error = ty.is(py.get_type::<PyTypeError>());
    if !(type_error || ty.is(py.get_type::<PyValueError>())) {
        return e;
    }
    let value = e.value(py);
    let (inner, message) = match (value.getattr(intern!(py, "_mendian_path")), value.getattr(intern!(py, "_mendian_message"))) {
        (Ok(p), Ok(m)) => (Some(p.to_string()), m.to_string()),
        _ => (None, value.str().map(|s| s.to_string()).unwrap_or_default()),
    };
    let path = match inner {
        Some(p) if p.starts_with('[') => format!("{name}{p}"),
        Some(p) => format!("{name}.{p}"),
        None => name.to_string(),
    };
    let text = format!("{path}: {message}");
    let err = if type_error { PyTypeError::new_err(text) } else { PyValueError::new_err(text) };
    let v = err.value(py);
    if v.setattr(intern!(py, "_mendian_path"), &path).is_err() || v.setattr(intern!(py, "_mendian_message"), &message).is_err() {
        return e;
    }
    err
}

impl ToPy for () {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(py.None().into_bound(py))
    }
}

impl ToPy for String {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, self).into_any())
    }
}

impl FromPy for String {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        match v.cast::<PyString>() {
            Ok(s) => Ok(s.to_cow()?.into_owned()),
            Err(_) => Err(PyTypeError::new_err(format!("argument must be str, not {}", type_name(v)))),
        }
    }
}

impl ToPy for bool {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyBool::new(py, *self).to_owned().into_any())
    }
}

impl FromPy for bool {
    /// Any object, by its truth value, as UniFFI's converter takes it.
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        v.is_truthy()
    }
}

impl ToPy for f64 {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyFloat::new(py, *self).into_any())
    }
}

impl FromPy for f64 {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(f) = v.cast::<PyFloat>() {
            return Ok(f.value());
        }
        if !v.hasattr(intern!(v.py(), "__float__"))? {
            return Err(PyTypeError::new_err(format!("must be real number, not {}", type_name(v))));
        }
        v.extract()
    }
}

macro_rules! int {
    ($($t:ty => $name:literal),*) => {$(
        impl ToPy for $t {
            fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(self.into_pyobject(py)?.into_any())
            }
        }

        impl FromPy for $t {
            /// Anything with `__index__`, in range, as UniFFI's converter takes it.
            fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
                let i = if v.is_exact_instance_of::<PyInt>() {
                    v.clone()
                } else {
                    v.call_method0(intern!(v.py(), "__index__")).map_err(|_| {
                        PyTypeError::new_err(format!("'{}' object cannot be interpreted as an integer", type_name(v)))
                    })?
                };
                let out_of_range =
                    || PyValueError::new_err(format!("{} requires {} <= value < {}", $name, <$t>::MIN, i128::from(<$t>::MAX) + 1));
                // Beyond even i128 is out of range too, not an OverflowError.
                let wide: i128 = i.extract().map_err(|_| out_of_range())?;
                <$t>::try_from(wide).map_err(|_| out_of_range())
            }
        }
    )*};
}

int!(i32 => "i32", i64 => "i64", u16 => "u16", u32 => "u32", u64 => "u64");

impl ToPy for Vec<u8> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyBytes::new(py, self).into_any())
    }
}

impl FromPy for Vec<u8> {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        match v.cast::<PyBytes>() {
            Ok(b) => Ok(b.as_bytes().to_vec()),
            Err(_) => Err(PyTypeError::new_err(format!("a bytes object is required, not '{}'", type_name(v)))),
        }
    }
}

impl<T: ToPy> ToPy for Option<T> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Some(v) => v.to_py(py),
            None => Ok(py.None().into_bound(py)),
        }
    }
}

impl<T: FromPy> FromPy for Option<T> {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        if v.is_none() {
            Ok(None)
        } else {
            T::from_py(v).map(Some)
        }
    }
}

/// Lists of anything but bytes (a `Vec<u8>` is Python `bytes`, above).
pub trait ListItem {}
impl ListItem for String {}
impl ListItem for i32 {}
impl ListItem for i64 {}
impl ListItem for f64 {}
impl ListItem for bool {}
impl<T> ListItem for Vec<T> {}

impl<T: ToPy + ListItem> ToPy for Vec<T> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let items = self.iter().map(|v| v.to_py(py)).collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, items)?.into_any())
    }
}

impl<T: FromPy + ListItem> FromPy for Vec<T> {
    /// Any iterable, as UniFFI's converter takes it; a failing item is named by its index.
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        if v.is_instance_of::<PyString>() || v.is_instance_of::<PyBytes>() {
            return Err(PyTypeError::new_err(format!("expected a list, not {}", type_name(v))));
        }
        let iter = v.try_iter().map_err(|_| PyTypeError::new_err(format!("'{}' object is not iterable", type_name(v))))?;
        let mut out = Vec::new();
        for (i, item) in iter.enumerate() {
            out.push(T::from_py(&item?).map_err(|e| at(v.py(), PyString::new(v.py(), &format!("[{i}]")).as_any(), e))?);
        }
        Ok(out)
    }
}

impl ToPy for HashMap<String, String> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = PyDict::new(py);
        for (k, v) in self {
            d.set_item(k, v)?;
        }
        Ok(d.into_any())
    }
}

impl FromPy for HashMap<String, String> {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        let d = v.cast::<PyDict>().map_err(|_| PyTypeError::new_err(format!("expected a dict, not {}", type_name(v))))?;
        d.iter().map(|(k, v)| Ok((String::from_py(&k)?, String::from_py(&v)?))).collect()
    }
}

/// The name of `v`'s type, for messages.
pub fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}
