//! The `uniffi-bindgen` command (`src/main.rs`) at the exact UniFFI version the core is built
//! with. This library target is empty: it exists so that the `mendian` crate can name this
//! crate as a dev-dependency, which makes maturin put it into the Python sdist as a workspace
//! member, where a build from the sdist finds the matching `uniffi-bindgen`.
