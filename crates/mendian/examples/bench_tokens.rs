//! `cargo xtask bench` (token part): what reading the access token costs per call when the
//! token lives in Redis, next to the in-memory store, both through `WxaClient::access_token`
//! (the path every 门店小程序 call takes first).
//!
//! A fixed-token provider keeps the platform out of it: after the first call the token is
//! fresh, so each call is one store read (in memory: a map lookup; in Redis: one `GET` on
//! loopback to a `redis-server` this program starts). Each round measures both, in
//! alternating order, one call at a time (latency) and with 32 in flight (throughput); the
//! report gives medians over the rounds, from one run. Usage:
//! `bench_tokens <path to redis-server>` (xtask passes the one it installed).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mendian::wxa::*;

const SEQUENTIAL: usize = 5_000;
const IN_FLIGHT: usize = 32;
const CONCURRENT_CALLS: usize = 20_000;
const ROUNDS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    v[v.len() / 2]
}

/// Client CPU (user + system) of this process so far, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the `)`.
    (ticks(11) + ticks(12)) / 100.0
}

fn client(store: Arc<dyn WxaTokenStore>) -> Arc<WxaClient> {
    WxaClient::new(WxaConfig::new("wxbenchmark0000001"), wxa_fixed_token_provider("bench-token".into(), 7200), Some(store))
        .expect("client")
}

/// µs per call, one at a time; and (µs wall, µs CPU) per call with IN_FLIGHT in flight.
async fn measure(wx: &Arc<WxaClient>) -> (f64, f64, f64) {
    let started = Instant::now();
    for _ in 0..SEQUENTIAL {
        wx.access_token().await.expect("token");
    }
    let sequential = started.elapsed().as_secs_f64() * 1e6 / SEQUENTIAL as f64;
    let cpu = cpu_seconds();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..IN_FLIGHT {
        let wx = wx.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..CONCURRENT_CALLS / IN_FLIGHT {
                wx.access_token().await.expect("token");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let wall = started.elapsed().as_secs_f64() * 1e6 / CONCURRENT_CALLS as f64;
    let cpu = (cpu_seconds() - cpu) * 1e6 / CONCURRENT_CALLS as f64;
    (sequential, wall, cpu)
}

struct RedisServer(std::process::Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(binary: &str) -> (RedisServer, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new(binary)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (RedisServer(child), format!("redis://127.0.0.1:{port}/"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let binary = std::env::args().nth(1).unwrap_or_else(|| "redis-server".into());
    let (_server, url) = start_redis(&binary);
    let memory = client(wxa_memory_token_store());
    let redis = client(wxa_redis_token_store(url, "bench:".into(), None).expect("store"));
    // Warm up: the first call fetches and saves; connections open.
    measure(&memory).await;
    measure(&redis).await;
    let (mut m, mut r) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            m.push(measure(&memory).await);
            r.push(measure(&redis).await);
        } else {
            r.push(measure(&redis).await);
            m.push(measure(&memory).await);
        }
    }
    let pick = |v: &[(f64, f64, f64)], f: fn(&(f64, f64, f64)) -> f64| median(v.iter().map(f).collect());
    let (m_seq, r_seq) = (pick(&m, |x| x.0), pick(&r, |x| x.0));
    let (m_wall, r_wall) = (pick(&m, |x| x.1), pick(&r, |x| x.1));
    let (m_cpu, r_cpu) = (pick(&m, |x| x.2), pick(&r, |x| x.2));
    println!("Access token read per call, WxaClient::access_token, medians of {ROUNDS} rounds (redis-server on loopback)");
    println!("{:<44} {:>12} {:>12} {:>14}", "", "memory", "Redis", "Redis adds");
    println!("{:<44} {:>9.2} µs {:>9.2} µs {:>11.2} µs", "one call at a time (latency)", m_seq, r_seq, r_seq - m_seq);
    println!("{:<44} {:>9.2} µs {:>9.2} µs {:>11.2} µs", format!("{IN_FLIGHT} in flight, wall per call"), m_wall, r_wall, r_wall - m_wall);
    println!("{:<44} {:>9.2} µs {:>9.2} µs {:>11.2} µs", format!("{IN_FLIGHT} in flight, client CPU per call"), m_cpu, r_cpu, r_cpu - m_cpu);
}
