//! How credentials show in `Debug` and `Display` output, and therefore in Python
//! `str`/`repr`, Kotlin `toString` and Swift `description` of the records that hold them
//! (those records export their Rust `Debug`/`Display` through UniFFI): as `<redacted>`.

use std::fmt;

/// Stands in for a credential in formatted output.
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A possibly absent credential as shown: `Some(<redacted>)` or `None`, so a reader can
/// still tell whether one is configured.
pub fn shown<T>(value: &Option<T>) -> &'static dyn fmt::Debug {
    static PRESENT: Option<Redacted> = Some(Redacted);
    static ABSENT: Option<Redacted> = None;
    if value.is_some() {
        &PRESENT
    } else {
        &ABSENT
    }
}

/// `Display` for records whose redacting `Debug` is also what foreign languages print:
/// UniFFI maps `Display` to Python `str`, Kotlin `toString` and Swift `description`.
#[macro_export]
#[doc(hidden)]
macro_rules! display_as_debug {
    ($($t:ty),+ $(,)?) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self, f)
            }
        }
    )+};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show() {
        assert_eq!(format!("{:?}", Redacted), "<redacted>");
        assert_eq!(format!("{:?}", shown(&Some("s3cret"))), "Some(<redacted>)");
        assert_eq!(format!("{:?}", shown::<String>(&None)), "None");
    }
}
