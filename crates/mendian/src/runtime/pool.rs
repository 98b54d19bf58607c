//! The HTTP/1.1 connection pool under [`super::transport`]: connections kept open between
//! calls, each one driven by the call that is using it, on that call's thread.
//!
//! Why not hyper-util's pool, which the SDK used before: it runs every connection as a task
//! of its own, and a call hands its request to that task and waits for the answer to be handed
//! back. A suspend call from Kotlin or Swift is polled on the caller's thread, while the
//! connection task ran on the SDK's I/O thread: the request crossed to that thread to be
//! written and the answer came back, so the I/O thread woke twice per call. Here the call
//! writes its request and reads its answer itself, and the I/O thread only tells it that the
//! answer has arrived: one wake-up. Blocking calls and the Python accelerator's calls were
//! already on one thread; for them the connection is simply polled in the call's own task.
//!
//! While a connection sits in the pool nobody polls it. Taking it out, the pool polls it once
//! (without a waker) so that one the server closed meanwhile is seen closed and dropped; a
//! request that a reused connection could not even start to send (it closed just then) is
//! sent again on a new one, as hyper-util did. Connections idle longer than [`POOL_IDLE`] are
//! dropped whenever the pool is used. A call that is dropped (cancelled, timed out) drops its
//! connection with it, closing it. A pool dropped in a forked child leaves its connections
//! (the parent's) alone.

use std::collections::HashMap;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::HOST;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{Connection, SendRequest};
use tower_service::Service;

use super::http_client::{BoxError, Conn, Connector};
use super::shared::Pid;

/// How long an idle kept connection stays in the pool.
pub const POOL_IDLE: Duration = Duration::from_secs(90);

/// A pool of HTTP/1.1 connections opened by one connector: cheap to clone (the clones share
/// the pool). Its `Debug` shows how many connections it keeps, nothing of where they go.
#[derive(Clone)]
pub struct HttpClient(Arc<Pool>);

struct Pool {
    connector: Connector,
    idle: Mutex<HashMap<(bool, Authority), Vec<Idle>>>,
    /// The process that made it (see `Drop`).
    pid: Pid,
}

impl Drop for Pool {
    /// In a forked child the kept connections are the parent's too: dropping them would take
    /// their sockets out of the epoll instance both processes share (see [`super::shared`]).
    /// There they are left alone.
    fn drop(&mut self) {
        if !self.pid.is_current() {
            let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(PoisonError::into_inner));
            std::mem::forget(idle);
        }
    }
}

/// A kept connection and when it was put back.
struct Idle {
    live: Live,
    since: Instant,
}

/// hyper's side of a connection, boxed: with the TLS state in it, it is nearly 3 KB, which
/// every move of a [`Live`] (into and out of the pool, through the exchange's future) would
/// copy.
type Driven = Box<Connection<Conn, Full<Bytes>>>;

/// An open connection: the handle requests are sent through, and the connection itself, to be
/// polled while a request uses it (`None` once it has ended).
struct Live {
    sender: SendRequest<Full<Bytes>>,
    conn: Option<Driven>,
    /// Whether requests on it go to a forwarding proxy (they then name their absolute URL).
    proxied: bool,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let idle: usize = self.0.idle.lock().unwrap_or_else(PoisonError::into_inner).values().map(Vec::len).sum();
        f.debug_struct("HttpClient").field("idle_connections", &idle).finish()
    }
}

/// Why an exchange failed.
#[derive(Debug)]
pub enum ExchangeError<E> {
    /// No connection could be opened (DNS, TCP, proxy, TLS): nothing was sent.
    Connect(BoxError),
    /// The connection failed while the request was sent or the answer's head was read.
    Send(hyper::Error),
    /// Reading the answer failed (the reader's own error).
    Read(E),
}

impl HttpClient {
    /// An empty pool whose connections `connector` opens.
    pub fn new(connector: Connector) -> HttpClient {
        HttpClient(Arc::new(Pool { connector, idle: Mutex::new(HashMap::new()), pid: Pid::current() }))
    }

    /// Sends `request` (its URI absolute) on a kept connection to its host, or a new one, and
    /// hands the answer to `read`, driving the connection while `read` reads the body. The
    /// connection goes back to the pool when `read` succeeded and the connection can carry
    /// another request. The request gets a `Host` header unless it has one.
    pub async fn exchange<T, E, F, Fut>(
        &self,
        mut request: Request<Full<Bytes>>,
        read: F,
    ) -> Result<T, ExchangeError<E>>
    where
        F: FnOnce(Response<Incoming>) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let dst = request.uri().clone();
        let (Some(scheme), Some(authority)) = (dst.scheme(), dst.authority()) else {
            return Err(ExchangeError::Connect("the URL has no scheme or host".into()));
        };
        let key = (scheme == &Scheme::HTTPS, authority.clone());
        if !request.headers().contains_key(HOST) {
            request.headers_mut().insert(HOST, host_header(&dst)?);
        }
        let mut reused = true;
        let (mut live, response) = loop {
            let mut live = match reused.then(|| self.take_idle(&key)).flatten() {
                Some(live) => live,
                None => {
                    reused = false;
                    self.connect(dst.clone()).await?
                }
            };
            *request.uri_mut() = if live.proxied { dst.clone() } else { origin_form(&dst) };
            let Live { sender, conn, .. } = &mut live;
            let sent = drive(conn, async {
                if let Err(e) = std::future::poll_fn(|cx| sender.poll_ready(cx)).await {
                    return Err((e, Some(request)));
                }
                sender.try_send_request(request).await.map_err(|mut e| {
                    let unsent = e.take_message();
                    (e.into_error(), unsent)
                })
            })
            .await;
            match sent {
                Ok(response) => break (live, response),
                // Closed before the request could start: again, on a new connection.
                Err((_, Some(unsent))) if reused => {
                    request = unsent;
                    reused = false;
                }
                Err((e, _)) => return Err(ExchangeError::Send(e)),
            }
        };
        let Live { conn, .. } = &mut live;
        let outcome = drive(conn, read(response)).await.map_err(ExchangeError::Read)?;
        self.put_back(key, live);
        Ok(outcome)
    }

    async fn connect<E>(&self, dst: Uri) -> Result<Live, ExchangeError<E>> {
        let conn = self.0.connector.clone().call(dst).await.map_err(ExchangeError::Connect)?;
        let proxied = conn.proxied();
        let (sender, conn) = hyper::client::conn::http1::handshake(conn).await.map_err(ExchangeError::Send)?;
        Ok(Live { sender, conn: Some(Box::new(conn)), proxied })
    }

    /// The most recently kept connection to `key` that is still open; older and closed ones
    /// are dropped on the way.
    fn take_idle(&self, key: &(bool, Authority)) -> Option<Live> {
        let mut idle = self.0.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = idle.get_mut(key)?;
        while let Some(Idle { mut live, since }) = kept.pop() {
            if since.elapsed() < POOL_IDLE && live.still_open() {
                return Some(live);
            }
        }
        None
    }

    /// Keeps `live` for the next request to `key` if it can carry one.
    fn put_back(&self, key: (bool, Authority), mut live: Live) {
        // Lets the connection finish the exchange (and see a `Connection: close`), and leaves
        // no waker of the finished call with it.
        if !live.still_open() {
            return;
        }
        let mut idle = self.0.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.retain(|_, kept| {
            kept.retain(|i| i.since.elapsed() < POOL_IDLE);
            !kept.is_empty()
        });
        idle.entry(key).or_default().push(Idle { live, since: Instant::now() });
    }
}

impl Live {
    /// Polls the connection once without a waker: whether it is still open and ready for a
    /// request.
    fn still_open(&mut self) -> bool {
        let Some(conn) = self.conn.as_mut() else { return false };
        let mut cx = Context::from_waker(Waker::noop());
        if Pin::new(&mut **conn).poll(&mut cx).is_ready() {
            self.conn = None;
            return false;
        }
        self.sender.is_ready()
    }
}

/// The `Host` header for `uri`: its host, and its port unless the scheme's default.
fn host_header<E>(uri: &Uri) -> Result<HeaderValue, ExchangeError<E>> {
    let host = uri.host().unwrap_or_default();
    let value = match (uri.port_u16(), uri.scheme_str()) {
        (Some(80), Some("http")) | (Some(443), Some("https")) | (None, _) => HeaderValue::from_str(host),
        (Some(port), _) => HeaderValue::from_str(&format!("{host}:{port}")),
    };
    value.map_err(|_| ExchangeError::Connect("the URL's host is not a valid Host header".into()))
}

/// `uri` as a request to the server itself names it: its path and query.
fn origin_form(uri: &Uri) -> Uri {
    let path = uri.path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/"));
    let mut parts = http::uri::Parts::default();
    parts.path_and_query = Some(if path.as_str().is_empty() { PathAndQuery::from_static("/") } else { path });
    Uri::from_parts(parts).unwrap_or_else(|_| Uri::from_static("/"))
}

/// How many times [`drive`] polls `work` and the connection within one poll of its own.
/// Two passes carry the usual exchange (the connection reads the answer, then `work` takes
/// it); a bound is needed because a resource that has used up Tokio's cooperative budget
/// answers `Pending` and wakes its task at once, expecting the task to yield to its
/// scheduler, which alone restores the budget.
const PASSES: usize = 4;

/// Runs `work` while polling `conn` (the connection `work`'s request and answer go through),
/// until `work` is done. A connection that ends is dropped (its pending answer then fails).
///
/// Both are polled with a waker that notes being woken: when polling one wakes the other
/// (the connection read the answer `work` waits for), they are polled again in the same
/// poll (up to [`PASSES`] times) instead of waking the caller's task for another one, which
/// for a call polled from Kotlin or Swift would be another round trip through the foreign
/// runtime.
async fn drive<W: Future>(conn: &mut Option<Driven>, work: W) -> W::Output {
    let mut work = pin!(work);
    std::future::poll_fn(move |cx| {
        let noted = Arc::new(Noted {
            outer: cx.waker().clone(),
            polling: AtomicBool::new(true),
            woken: AtomicBool::new(false),
        });
        let waker = Waker::from(noted.clone());
        let mut inner = Context::from_waker(&waker);
        let mut outcome = Poll::Pending;
        for _ in 0..PASSES {
            noted.woken.store(false, Ordering::SeqCst);
            outcome = work.as_mut().poll(&mut inner);
            if outcome.is_ready() {
                break;
            }
            if let Some(c) = conn.as_mut() {
                if Pin::new(&mut **c).poll(&mut inner).is_ready() {
                    // Ended (closed, or failed): dropping it fails what still waits on it.
                    *conn = None;
                    noted.woken.store(true, Ordering::SeqCst);
                }
            }
            if !noted.woken.load(Ordering::SeqCst) {
                break;
            }
        }
        if outcome.is_ready() {
            // This waker keeps swallowing wakes: whatever it is still registered with (the
            // connection) is polled again with a newer one before anyone waits on it (by
            // the next `drive` of the exchange, or by the pool with no waker), so a wake it
            // gets now is stale, and forwarding it would cost the caller a poll for nothing.
            return outcome;
        }
        // Waiting: from now on a wake goes to the caller's task.
        noted.polling.store(false, Ordering::SeqCst);
        // Woken after the last look (from another thread, or in the last pass): the task
        // must poll again.
        if noted.woken.load(Ordering::SeqCst) {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    })
    .await
}

/// The waker [`drive`] polls with: wakes the caller's task, unless [`drive`] is polling and
/// will look again itself.
struct Noted {
    outer: Waker,
    polling: AtomicBool,
    woken: AtomicBool,
}

impl Wake for Noted {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if !self.polling.load(Ordering::SeqCst) {
            self.outer.wake_by_ref();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::sync::atomic::AtomicUsize;

    use http_body_util::BodyExt;

    use super::*;
    use crate::runtime::http_client::Proxies;
    use crate::runtime::tls::{client_config, TlsRoots};

    /// A keep-alive server on loopback answering every request `answer`; with `close_after`,
    /// it closes each connection after its first answer (without saying so). Counts the
    /// connections it accepted and those that ended.
    fn server(answer: &'static str, close_after: bool) -> (Uri, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let uri: Uri = format!("http://{}/x?a=1", listener.local_addr().unwrap()).parse().unwrap();
        let (accepted, ended) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (a, e) = (accepted.clone(), ended.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                a.fetch_add(1, Ordering::SeqCst);
                let e = e.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut buf = [0u8; 1024];
                    loop {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                        // Requests without a body: one answer per head.
                        while let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                            got.drain(..end + 4);
                            stream.write_all(answer.as_bytes()).unwrap();
                            if close_after {
                                e.fetch_add(1, Ordering::SeqCst);
                                return;
                            }
                        }
                    }
                    e.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        (uri, accepted, ended)
    }

    fn client() -> HttpClient {
        let tls = Arc::new(client_config(TlsRoots::Bundled, &[]).unwrap());
        HttpClient::new(Connector::new(tls, Proxies::none(), HeaderValue::from_static("t"), Duration::from_secs(5)))
    }

    async fn get(client: &HttpClient, uri: &Uri) -> Result<String, ExchangeError<hyper::Error>> {
        let request = Request::get(uri.clone()).body(Full::default()).unwrap();
        client
            .exchange(request, |resp| async move {
                let body = resp.into_body().collect().await?.to_bytes();
                Ok(String::from_utf8(body.to_vec()).unwrap())
            })
            .await
    }

    const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    #[tokio::test]
    async fn one_connection_carries_call_after_call() {
        let (uri, accepted, _) = server(OK, false);
        let c = client();
        for _ in 0..3 {
            assert_eq!(get(&c, &uri).await.unwrap(), "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert!(format!("{c:?}").contains("idle_connections: 1"), "{c:?}");
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_is_replaced_without_an_error() {
        let (uri, accepted, ended) = server(OK, true);
        let c = client();
        assert_eq!(get(&c, &uri).await.unwrap(), "ok");
        // The server has closed it by now.
        while ended.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(get(&c, &uri).await.unwrap(), "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_answer_that_closes_the_connection_is_not_kept() {
        let (uri, accepted, _) = server("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok", false);
        let c = client();
        assert_eq!(get(&c, &uri).await.unwrap(), "ok");
        assert_eq!(get(&c, &uri).await.unwrap(), "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        assert!(format!("{c:?}").contains("idle_connections: 0"), "{c:?}");
    }

    #[tokio::test]
    async fn a_dropped_exchange_closes_its_connection() {
        // Answers only the head: the body never comes.
        let (uri, accepted, ended) = server("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nok", false);
        let c = client();
        let cut = tokio::time::timeout(Duration::from_millis(200), get(&c, &uri)).await;
        assert!(cut.is_err(), "the body never completes");
        let deadline = Instant::now() + Duration::from_secs(5);
        while ended.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!((accepted.load(Ordering::SeqCst), ended.load(Ordering::SeqCst)), (1, 1), "closed, not kept");
        assert!(format!("{c:?}").contains("idle_connections: 0"), "{c:?}");
    }

    #[tokio::test]
    async fn a_pool_dropped_in_a_forked_child_leaves_the_parents_connections_alone() {
        let (uri, _, ended) = server(OK, false);
        let mut c = client();
        assert_eq!(get(&c, &uri).await.unwrap(), "ok");
        // As a child sees the pool it inherited: made by another process.
        Arc::get_mut(&mut c.0).unwrap().pid = Pid::of_another_process();
        drop(c);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(ended.load(Ordering::SeqCst), 0, "the kept connection was neither closed nor deregistered");
        // In its own process a dropped pool closes what it kept.
        let c = client();
        assert_eq!(get(&c, &uri).await.unwrap(), "ok");
        drop(c);
        let deadline = Instant::now() + Duration::from_secs(5);
        while ended.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(ended.load(Ordering::SeqCst), 1);
    }

    /// A call whose task has used up Tokio's cooperative budget: every resource it polls
    /// answers `Pending` and wakes it at once. The exchange must give the task back to its
    /// scheduler (which restores the budget), not poll again and again within one poll.
    #[test]
    fn an_exchange_yields_when_its_task_has_no_budget_left() {
        let (uri, _, _) = server(OK, false);
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // `block_on` of a multi-thread runtime: no scheduler to defer a wake to, so a
            // resource out of budget wakes the task right away.
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            rt.block_on(async {
                let c = client();
                assert_eq!(get(&c, &uri).await.unwrap(), "ok");
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                for i in 0..1000 {
                    tx.send(i).unwrap();
                }
                // Ready messages cost budget and never yield until it is gone.
                while tokio::task::coop::has_budget_remaining() {
                    rx.recv().await.unwrap();
                }
                let _ = done_tx.send(get(&c, &uri).await.map_err(|e| format!("{e:?}")));
            });
        });
        let outcome = done.recv_timeout(Duration::from_secs(10)).expect("the exchange finished (no busy loop)");
        assert_eq!(outcome.unwrap(), "ok");
    }

    /// The point of driving the connection in the call: a call polled from another thread
    /// (as Kotlin and Swift poll it) is woken at most once per exchange on a kept connection,
    /// when its answer has arrived (not at all when the answer is in by the end of its first
    /// poll), and the rest runs where it is polled.
    #[test]
    fn a_call_polled_from_outside_the_runtime_is_woken_once_per_exchange() {
        struct Count(AtomicUsize, std::thread::Thread);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
                self.1.unpark();
            }
        }
        let (uri, accepted, _) = server(OK, false);
        let c = client();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let mut wakes = Vec::new();
        for _ in 0..3 {
            let count = Arc::new(Count(AtomicUsize::new(0), std::thread::current()));
            let waker = Waker::from(count.clone());
            let mut call = Box::pin(get(&c, &uri));
            let body = loop {
                let polled = {
                    let _context = rt.enter();
                    call.as_mut().poll(&mut Context::from_waker(&waker))
                };
                match polled {
                    Poll::Ready(r) => break r.unwrap(),
                    Poll::Pending => std::thread::park(),
                }
            };
            assert_eq!(body, "ok");
            wakes.push(count.0.load(Ordering::SeqCst));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert!(wakes[1..].iter().all(|&w| w <= 1), "kept connection: at most one wake per exchange ({wakes:?})");
    }

    #[test]
    fn a_kept_connection_is_small_to_move() {
        assert!(std::mem::size_of::<Live>() <= 64, "{} bytes", std::mem::size_of::<Live>());
    }

    #[test]
    fn requests_name_the_path_and_hosts_their_port_unless_the_default() {
        assert_eq!(origin_form(&Uri::from_static("http://a:8080/x/y?q=1")), "/x/y?q=1");
        assert_eq!(origin_form(&Uri::from_static("https://a")), "/");
        let host = |u: &'static str| host_header::<()>(&Uri::from_static(u)).unwrap();
        assert_eq!(host("http://a:8080/x"), "a:8080");
        assert_eq!(host("http://a:80/x"), "a");
        assert_eq!(host("https://a:443/x"), "a");
        assert_eq!(host("https://a:80/x"), "a:80");
        assert_eq!(host("http://[::1]:9/x"), "[::1]:9");
    }
}
