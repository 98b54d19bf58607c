//! The machine-readable model of the platform APIs mendian implements.
//!
//! `spec/*.toml` (documented in `spec/README.md`) holds every fact the platform documents
//! give: endpoints, fields, limits, enums, error codes, quirks. This crate parses and checks
//! those files; `cargo xtask codegen` turns them into Rust, and the emulator reads them to
//! answer like the platforms do. Keeping the model in its own small crate lets both use it
//! without pulling the SDK runtime into the generator or the SDK into the emulator.

mod load;
mod model;

pub use load::{line_of, load_dir, load_sources, pascal_case, placeholders, read_sources, LoadedFile, NamedType, Spec, SpecError};
pub use model::*;
/// The TOML crate the model uses for free-form values (examples, enum values).
pub use toml;
