//! Hand-written support for the generated code: the descriptor types that describe each
//! endpoint, the validation rules the generated `validate` methods call, and the serde
//! helpers for the platforms' wire quirks. The generated modules only hold data and calls
//! into this module, so a fix here fixes every endpoint at once.

pub mod descriptor;
pub mod validate;
pub mod wire;

pub use descriptor::*;
pub use validate::Validate;

/// A request record generated for one endpoint: it knows its endpoint and its response type,
/// so one generic call path per platform serves every endpoint.
pub trait Request: Validate + serde::Serialize {
    /// The record a successful response decodes into (`()` when there is no body).
    type Response: serde::de::DeserializeOwned + Send;
    /// The endpoint this request is for.
    fn descriptor() -> &'static EndpointDescriptor;
    /// The file contents sent as `multipart/form-data` parts (`bytes` fields), by wire name;
    /// empty for requests without files.
    fn multipart(&self) -> Vec<(&'static str, &[u8])> {
        Vec::new()
    }
}
