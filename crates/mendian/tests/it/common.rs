//! Helpers shared by the integration tests: where the known-answer vectors live, and the
//! emulator's test credentials (imported from the emulator, never copied).

use std::path::PathBuf;

pub use mendian_emulator::credentials;

/// `tests/vectors/` at the workspace root.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// The text of a file under `tests/vectors/`.
pub fn vector_text(rel: &str) -> String {
    let path = vectors_dir().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A `redis-server` started on a free loopback port for one test, stopped when dropped. The
/// binary is `$MENDIAN_REDIS_SERVER` or `redis-server` on the PATH (Debian's `redis-server`
/// package; `cargo xtask test` installs it).
#[cfg(feature = "redis")]
pub struct RedisServer {
    child: std::process::Child,
    /// The TCP port (plain, or TLS for [`RedisServer::start_tls`]).
    pub port: u16,
    args: Vec<String>,
}

#[cfg(feature = "redis")]
impl RedisServer {
    /// A plain server without a password.
    pub fn start() -> RedisServer {
        Self::launch(free_port(), Vec::new())
    }

    /// A server that speaks only TLS (the certificates under `tests/vectors/redis-tls`) and
    /// requires `password`.
    pub fn start_tls(password: &str) -> RedisServer {
        let dir = vectors_dir().join("redis-tls");
        let port = free_port();
        let file = |f: &str| dir.join(f).display().to_string();
        let args = vec![
            "--port".into(), "0".into(),
            "--tls-port".into(), port.to_string(),
            "--tls-cert-file".into(), file("server.pem"),
            "--tls-key-file".into(), file("server.key"),
            "--tls-ca-cert-file".into(), file("ca.pem"),
            "--tls-auth-clients".into(), "no".into(),
            "--requirepass".into(), password.into(),
        ];
        Self::launch(port, args)
    }

    fn launch(port: u16, extra: Vec<String>) -> RedisServer {
        let mut args: Vec<String> = vec![
            "--bind".into(), "127.0.0.1".into(),
            "--port".into(), port.to_string(),
            "--save".into(), "".into(),
            "--appendonly".into(), "no".into(),
        ];
        args.extend(extra);
        let child = spawn_redis(&args);
        let server = RedisServer { child, port, args };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "redis-server did not listen on port {}", self.port);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (its data is gone: it keeps nothing on disk).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        self.child = spawn_redis(&self.args);
        self.wait_ready();
    }
}

#[cfg(feature = "redis")]
impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(feature = "redis")]
fn spawn_redis(args: &[String]) -> std::process::Child {
    let binary = std::env::var("MENDIAN_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    std::process::Command::new(&binary)
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary} ({e}): install Debian's redis-server or set MENDIAN_REDIS_SERVER"))
}

#[cfg(feature = "redis")]
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
