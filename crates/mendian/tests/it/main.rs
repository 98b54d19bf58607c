//! The core's integration tests, in one binary: one module per concern, sharing the helpers
//! in [`common`]. End-to-end tests run against the bundled emulator, whose crypto is its
//! own: a passing test means two independent implementations agree.

mod common;

mod fault_matrix;
mod generated;
mod spec_examples;
mod top_e2e;
mod top_sign_vectors;
mod tls_roots;
mod wechatpay_e2e;
mod wechatpay_notify;
mod wechatpay_vectors;
mod wxa_e2e;
mod wxa_events;
mod wxa_token_failures;
#[cfg(feature = "redis")]
mod wxa_redis;
