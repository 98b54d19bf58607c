//! The core's integration tests, in one binary: one module per concern, sharing the helpers
//! in [`common`]. End-to-end tests run against the bundled emulator, whose crypto is its
//! own: a passing test means two independent implementations agree.

mod common;

mod fault_matrix;
mod generated;
mod tls_roots;
mod top_e2e;
mod top_sign_vectors;
mod wechatpay_e2e;
mod wechatpay_notify;
mod wechatpay_vectors;
mod wxa_e2e;
mod wxa_events;
#[cfg(feature = "redis")]
mod wxa_redis;
mod wxa_token_failures;
