//! The call engine: one loop for every platform. It sends an attempt to the primary host,
//! fails over to the backup host when the primary could not be reached, asks the platform
//! to read the answer and to classify a failure, and repeats as [`RetryPolicy`] decides,
//! within the call's deadline.
//!
//! A platform plugs in through [`Protocol`]: how to build one attempt for a host (sign it,
//! attach a token), how to read an answer into the record the caller wants (verify it, unwrap
//! its envelope, decode it) and what kind of failure an error is. Everything else (hosts,
//! timeouts, backoff, deadline) lives here once.

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::options::{ClientOptions, PlatformDefaults, ResolvedOptions};
use super::retry::{Decision, Failure, RetryPolicy};
use super::transport::{HttpRequest, HttpResponse, Transport};
use crate::error::MendianError;
use crate::schema::{EndpointDescriptor, Retry};

/// What a platform supplies to the engine.
#[async_trait::async_trait]
pub trait Protocol: Send + Sync {
    /// A request laid out once per call (validated, encoded, encrypted).
    type Call: Send + Sync;
    /// What one attempt remembers between sending and reading (the signed string, the
    /// token used).
    type Ticket: Send + Sync;

    /// The HTTP request of one attempt against `base` (a base URL without trailing `/`).
    async fn build(&self, call: &Self::Call, base: &str) -> Result<(HttpRequest, Self::Ticket), MendianError>;

    /// Reads an answer: its payload decoded as `T` (the endpoint's response record), or the
    /// error it carries. A failure to decode is final like any other answer the platform
    /// gave.
    async fn read<T: DeserializeOwned + Send>(
        &self,
        call: &Self::Call,
        response: HttpResponse,
        ticket: &Self::Ticket,
    ) -> Result<T, MendianError>;

    /// What kind of failure `error` is.
    fn classify(&self, error: &MendianError) -> Failure;

    /// Renews the credential that `ticket` used, after a [`Failure::StaleCredential`].
    async fn renew(&self, _ticket: &Self::Ticket) -> Result<(), MendianError> {
        Ok(())
    }
}

/// The transport, hosts and policies of one client.
#[derive(Debug, Clone)]
pub struct Engine {
    transport: Transport,
    hosts: Vec<String>,
    policy: RetryPolicy,
    deadline: Option<Duration>,
}

impl Engine {
    /// An engine for `options`, filled from the platform's `defaults`.
    pub fn new(options: &ClientOptions, defaults: PlatformDefaults) -> Result<Engine, MendianError> {
        let r = options.resolve(defaults)?;
        Engine::from_resolved(r)
    }

    /// An engine for already resolved options.
    pub fn from_resolved(r: ResolvedOptions) -> Result<Engine, MendianError> {
        Ok(Engine {
            transport: Transport::with_network(r.timeout, &r.user_agent, r.proxy, r.roots, r.tls_roots)?.with_max_body(r.max_body),
            hosts: r.hosts,
            policy: RetryPolicy { max_retries: r.max_retries },
            deadline: r.call_deadline,
        })
    }

    /// The same engine (hosts, retries, connection pool) with another timeout per exchange.
    pub fn with_timeout(&self, timeout: Duration) -> Engine {
        Engine { transport: self.transport.with_timeout(timeout), ..self.clone() }
    }

    /// The primary base URL.
    pub fn primary(&self) -> &str {
        &self.hosts[0]
    }

    /// The underlying transport.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Runs one call of endpoint `d` through `protocol`, returning the answer's payload
    /// decoded as `T`.
    pub async fn execute<P: Protocol, T: DeserializeOwned + Send>(
        &self,
        protocol: &P,
        d: &EndpointDescriptor,
        call: &P::Call,
    ) -> Result<T, MendianError> {
        let deadline = self.deadline.map(|d| (Instant::now() + d, d));
        let mut retries = 0;
        let mut renewed = false;
        loop {
            let attempt = self.attempt(protocol, call);
            let outcome = match deadline {
                Some((at, total)) => {
                    match tokio::time::timeout(at.saturating_duration_since(Instant::now()), attempt).await {
                        Ok(o) => o,
                        Err(_) => {
                            let timeout = MendianError::Timeout { millis: total.as_millis() as u64 };
                            return Err(outcome_unknown(d, timeout, true));
                        }
                    }
                }
                None => attempt.await,
            };
            let (err, ticket, maybe_sent) = match outcome {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            match self.policy.decide(d, protocol.classify(&err), retries, renewed) {
                Decision::GiveUp => return Err(outcome_unknown(d, err, maybe_sent)),
                Decision::Renew => {
                    renewed = true;
                    match &ticket {
                        Some(t) => protocol.renew(t).await?,
                        None => return Err(err),
                    }
                }
                Decision::Wait(pause) => {
                    // A pause that would end after the deadline cannot help: the caller
                    // sees the failure now rather than a timeout later.
                    if deadline.is_some_and(|(at, _)| Instant::now() + pause >= at) {
                        return Err(outcome_unknown(d, err, maybe_sent));
                    }
                    retries += 1;
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// One attempt: sent with failover, then read by the protocol. A failure says whether
    /// the request may have reached the platform.
    async fn attempt<P: Protocol, T: DeserializeOwned + Send>(
        &self,
        protocol: &P,
        call: &P::Call,
    ) -> Result<T, (MendianError, Option<P::Ticket>, bool)> {
        let (resp, ticket) = self.send_marked(protocol, call).await?;
        // A 5xx page that is not the platform's JSON comes from a gateway or proxy: the same
        // on every platform, a failure in transit (repeated where safe; the request may have
        // been processed behind it).
        if resp.status >= 500 && !serde_json::from_slice::<serde_json::Value>(&resp.body).is_ok_and(|v| v.is_object()) {
            let e = MendianError::Network { reason: format!("HTTP {} without the platform's JSON answer", resp.status) };
            return Err((e, Some(ticket), true));
        }
        protocol.read::<T>(call, resp, &ticket).await.map_err(|e| (e, Some(ticket), false))
    }

    /// Sends one attempt to the primary host, then to the backup if the primary could not
    /// be reached (the request is rebuilt for the backup, so signatures cover the right
    /// host). Returns the raw answer unread, for protocols that read some answers their own
    /// way (the certificate download).
    pub async fn send<P: Protocol>(
        &self,
        protocol: &P,
        call: &P::Call,
    ) -> Result<(HttpResponse, P::Ticket), (MendianError, Option<P::Ticket>)> {
        self.send_marked(protocol, call).await.map_err(|(e, t, _)| (e, t))
    }

    /// [`Engine::send`], saying with a failure whether the request may have been sent.
    async fn send_marked<P: Protocol>(
        &self,
        protocol: &P,
        call: &P::Call,
    ) -> Result<(HttpResponse, P::Ticket), (MendianError, Option<P::Ticket>, bool)> {
        let last = self.hosts.len() - 1;
        for (i, host) in self.hosts.iter().enumerate() {
            let (req, ticket) = protocol.build(call, host).await.map_err(|e| (e, None, false))?;
            match self.transport.send_classified(req).await {
                Ok(resp) => return Ok((resp, ticket)),
                Err((_, true)) if i < last => continue,
                Err((e, before_sending)) => {
                    let maybe_sent = !before_sending && matches!(e, MendianError::Network { .. } | MendianError::Timeout { .. });
                    return Err((e, Some(ticket), maybe_sent));
                }
            }
        }
        unreachable!("a resolved engine has at least one host")
    }
}

/// `err` as [`MendianError::OutcomeUnknown`] when endpoint `d` creates something (never
/// repeated) and the request may have reached the platform.
fn outcome_unknown(d: &EndpointDescriptor, err: MendianError, maybe_sent: bool) -> MendianError {
    if !maybe_sent || d.retry != Retry::Never {
        return err;
    }
    match err {
        MendianError::Network { .. } | MendianError::Timeout { .. } => MendianError::OutcomeUnknown {
            endpoint: d.id.to_string(),
            reason: format!("{err}; the request may have reached the platform, so look before repeating it"),
        },
        other => other,
    }
}

/// The failure class of a transport error, the same on every platform: a call lost in
/// transit may be repeated only where repeating is safe.
pub fn transport_failure(error: &MendianError) -> Option<Failure> {
    matches!(error, MendianError::Network { .. } | MendianError::Timeout { .. }).then_some(Failure::Transient)
}
