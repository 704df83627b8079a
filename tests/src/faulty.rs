//! Fault injection: a receiver speaking raw HTTP/1.1 that can hang or reset the connection
//! ([`FaultyReceiver`], [`Fault`]), and a seeded generator so a fault run can be replayed
//! ([`Rng`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;

use crate::receiver::Received;

/// What a [`FaultyReceiver`] does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status.
    Status(u16),
    /// Say nothing for this long, then close.
    Hang(Duration),
    /// Reset the connection (RST) after reading the request.
    Reset,
    /// Answer 200 after this long.
    Slow(Duration),
}

/// A receiver speaking raw HTTP/1.1 over TCP, so it can misbehave in ways a framework would
/// not: hang past the client's timeout, or reset the connection.
#[derive(Clone)]
pub struct FaultyReceiver {
    /// Its base URL.
    pub url: String,
    received: Arc<Mutex<Vec<(Received, Fault)>>>,
}

impl FaultyReceiver {
    /// Starts a receiver answering the n-th request (0-based) as `behaviour` says.
    pub async fn start(behaviour: impl Fn(usize) -> Fault + Send + Sync + 'static) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let received: Arc<Mutex<Vec<(Received, Fault)>>> = Arc::default();
        let behaviour = Arc::new(behaviour);
        let log = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                let behaviour = Arc::clone(&behaviour);
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 8192];
                    let (head_end, content_length) = loop {
                        let Ok(n) = stream.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
                            let length = head
                                .lines()
                                .filter_map(|l| l.split_once(':'))
                                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (end + 4, length);
                        }
                    };
                    while buffer.len() < head_end + content_length {
                        let Ok(n) = stream.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                    }
                    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
                    let mut headers = HeaderMap::new();
                    for (name, value) in head.lines().skip(1).filter_map(|l| l.split_once(':')) {
                        if let (Ok(name), Ok(value)) = (
                            axum::http::HeaderName::from_bytes(name.trim().as_bytes()),
                            axum::http::HeaderValue::from_str(value.trim()),
                        ) {
                            headers.append(name, value);
                        }
                    }
                    let body = Bytes::copy_from_slice(&buffer[head_end..head_end + content_length]);
                    let fault = {
                        let mut log = log.lock().expect("lock");
                        let fault = behaviour(log.len());
                        log.push((Received { headers, body }, fault));
                        fault
                    };
                    match fault {
                        Fault::Status(status) => {
                            let response = format!(
                                "HTTP/1.1 {status} Whatever\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            );
                            let _ = stream.write_all(response.as_bytes()).await;
                            let _ = stream.shutdown().await;
                        }
                        // The hang is the fault under test: silence for the time the test chose
                        // (past the client's timeout), holding the connection open.
                        Fault::Hang(duration) => tokio::time::sleep(duration).await,
                        // A receiver that takes its time, as the test chose.
                        Fault::Slow(duration) => {
                            tokio::time::sleep(duration).await;
                            let response =
                                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                            let _ = stream.write_all(response.as_bytes()).await;
                            let _ = stream.shutdown().await;
                        }
                        Fault::Reset => {
                            #[expect(
                                deprecated,
                                reason = "SO_LINGER 0 is how a test forces a reset"
                            )]
                            let _ = stream.set_linger(Some(Duration::ZERO));
                            drop(stream);
                        }
                    }
                });
            }
        });
        Self { url, received }
    }

    /// Every request received, with what it was answered.
    pub fn received(&self) -> Vec<(Received, Fault)> {
        self.received.lock().expect("lock").clone()
    }
}

/// A small deterministic random generator (xorshift64*), so fault runs can be replayed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (never zero).
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// A uniform number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        bits as f64 / (1u64 << 53) as f64
    }
}
