//! The one call engine every platform runs on.
//!
//! - [`options`]: [`ClientOptions`], the settings each platform config embeds, and the
//!   platform defaults they fall back to.
//! - [`engine`]: [`Engine`] and the [`Protocol`] trait a platform implements (build an
//!   attempt, read an answer, classify a failure, renew a credential).
//! - [`retry`]: the retry policy driven by the endpoint descriptor, and the one backoff
//!   schedule (with jitter).
//! - [`transport`]: one SDK client's HTTP client, timeouts, and transport failures as errors.
//! - [`pool`]: the HTTP/1.1 connections kept between calls, each driven by the call using it.
//! - [`http_client`]: how those connections are opened (directly or through proxies, TLS).
//! - [`tls`]: which certificate roots HTTPS trusts ([`TlsRoots`]: system, or the bundle on
//!   Android).
//! - [`parsed_urls`]: the parsed form of the URLs a transport sends to, kept between calls.
//! - [`url`]: base-URL checks, hosts for errors and credential-free URLs (on the `url`
//!   crate).
//! - [`encode`]: text, percent and form encoding; the layout of a request record into
//!   path, query and body.
//! - [`errors`]: `Api` and `Decode` error constructors.
//! - [`answer`]: decoding a JSON answer straight into its record, noting the envelope on the
//!   way.
//! - [`clock`]: the injectable clock.
//! - [`log`]: the process-wide logger hook that sees every HTTP exchange, redacted.
//! - [`blocking`]: the generated `*_blocking` calls, each on its caller's thread.
//! - [`shared`]: the shared runtime behind the foreign languages' async calls, and what keeps
//!   runtimes and pools usable in a forked child.
//! - [`poll_fd`]: the epoll descriptor behind a runtime's I/O driver, for an event loop that
//!   watches it from its own selector (Linux).
//! - [`pager`]: walking every page of a list endpoint, with the limits that stop a
//!   misbehaving server.
//!
//! The platform modules (`wechatpay/`, `wxa/`, `top/`) keep only what differs between the
//! platforms: signing, trust, tokens and envelopes.

pub mod answer;
pub mod blocking;
pub mod clock;
pub mod encode;
pub mod engine;
pub mod errors;
pub mod http_client;
pub mod log;
pub mod options;
pub mod pager;
pub mod parsed_urls;
#[cfg(unix)]
pub mod poll_fd;
pub mod pool;
pub mod retry;
pub mod shared;
pub mod tls;
pub mod transport;
pub mod url;

pub use clock::{system_clock, system_now, Clock};
pub use engine::{Engine, Protocol};
pub use options::{ClientOptions, PlatformDefaults};
pub use retry::{Decision, Failure, RetryPolicy};
pub use tls::TlsRoots;
