//! Blocking calls: the generated `*_blocking` methods run the same future as the async
//! ones on the calling thread, with I/O driven by one small Tokio runtime shared by the
//! whole process (started on first use). A blocking call honours the client's timeouts and
//! deadline exactly as the async form does, because it is the same future.

use std::future::Future;
use std::sync::OnceLock;

use crate::error::MendianError;

/// Worker threads of the shared runtime: they only drive sockets and timers, the call itself
/// runs on the caller's thread.
const WORKERS: usize = 2;

fn runtime() -> Result<&'static tokio::runtime::Runtime, MendianError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .thread_name("mendian-io")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| MendianError::Network { reason: format!("cannot start the I/O runtime for blocking calls: {e}") })
}

/// The shared runtime's handle, for work that must outlive the caller's own runtime (the
/// Redis store's connection tasks).
pub fn handle() -> Result<tokio::runtime::Handle, MendianError> {
    Ok(runtime()?.handle().clone())
}

/// Runs `call` to completion on the calling thread.
///
/// Fails with `InvalidArgument` (nothing sent) when called from inside a Tokio runtime,
/// where blocking would stall the runtime's own thread: use the async method there.
pub fn run<T>(call: impl Future<Output = Result<T, MendianError>>) -> Result<T, MendianError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(MendianError::invalid(
            "blocking call",
            "made from inside a Tokio runtime, where it would block the runtime's thread: await the async method instead",
        ));
    }
    runtime()?.block_on(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_outside_a_runtime_and_refuses_inside_one() {
        assert_eq!(run(async { Ok(7) }).unwrap(), 7);
        let inner = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let refused = inner.block_on(async { run(async { Ok(1) }) });
        assert!(matches!(refused, Err(MendianError::InvalidArgument { ref field, .. }) if field == "blocking call"), "{refused:?}");
    }
}
