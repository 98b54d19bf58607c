//! `mendian-emulator`: starts the emulator on loopback and prints its connection profile as
//! one line of JSON on stdout (base URLs, admin URL), then serves until interrupted.
//!
//! ```text
//! mendian-emulator [--port N] [--host 127.0.0.1]
//! ```

use std::net::IpAddr;

fn parse_args() -> Result<mendian_emulator::Config, String> {
    let mut config = mendian_emulator::Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => {
                let v = args.next().ok_or("--port needs a value")?;
                config.port = v.parse().map_err(|_| format!("--port: `{v}` is not a port number"))?;
            }
            "--host" => {
                let v = args.next().ok_or("--host needs a value")?;
                config.host = v.parse::<IpAddr>().map_err(|_| format!("--host: `{v}` is not an IP address"))?;
            }
            "-h" | "--help" => {
                println!("usage: mendian-emulator [--port N] [--host 127.0.0.1]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() {
    let config = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mendian-emulator: {e}");
            std::process::exit(2);
        }
    };
    let emulator = match mendian_emulator::Emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("mendian-emulator: {e}");
            std::process::exit(1);
        }
    };
    println!("{}", serde_json::to_string(&emulator.profile()).expect("profile serializes"));
    let _ = tokio::signal::ctrl_c().await;
    emulator.stop().await;
}
