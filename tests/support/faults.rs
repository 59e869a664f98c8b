//! A fault-injecting HTTP proxy in front of the real registry, for the failures a real
//! registry will not produce on demand: 429 with `Retry-After`, 503, dropped
//! connections, answers slower than the client's timeout, a `HEAD` without
//! `Docker-Content-Digest`, a `GET` body that does not match its digest or that stops
//! half-way when the connection drops, a canned answer of any kind. It forwards
//! everything else faithfully (one upstream connection per request) and records every
//! request it sees. Faults apply to manifest requests only, in order, each a given
//! number of times.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// One kind of misbehaviour.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer 429 with this `Retry-After` (seconds).
    TooManyRequests(u64),
    /// Answer 503.
    Unavailable,
    /// Close the connection without answering.
    Reset,
    /// Wait this long before forwarding.
    Slow(Duration),
    /// Forward, but drop `Docker-Content-Digest` from the answer.
    StripDigest,
    /// Forward, but change one byte of a `GET` body (headers kept).
    CorruptBody,
    /// Forward a `GET`'s headers and half its body, then close the connection.
    TruncateBody,
    /// Forward, adding this header line to the answer.
    AddHeader(String),
    /// Answer this instead: status, extra header lines (each ending in CRLF), body.
    Canned(u16, String, Vec<u8>),
    /// Answer the `GET /v2/` ping with this status and header lines (applies to the
    /// ping, not to manifest requests).
    Ping(u16, String),
    /// Hold the request until this many requests have reached the barrier, then
    /// forward them all at once (to make concurrent clients act at the same moment).
    Barrier(usize),
}

struct State {
    /// Added before every answer (a network far away).
    latency: Duration,
    /// (fault, remaining times)
    faults: Vec<(Fault, usize)>,
    /// (method, path) of every request seen.
    seen: Vec<(String, String)>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: usize,
    max_in_flight: usize,
}

pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
}

/// How many requests have reached a [`Fault::Barrier`], and a signal when one does.
#[derive(Default)]
struct Gate {
    arrived: Mutex<usize>,
    changed: Condvar,
}

impl FaultProxy {
    /// Start a proxy to `upstream` (`127.0.0.1:PORT`) applying `faults` in order.
    pub fn start(upstream: &str, faults: Vec<(Fault, usize)>) -> FaultProxy {
        Self::start_with_latency(upstream, faults, Duration::ZERO)
    }

    /// The same, adding `latency` before every answer.
    pub fn start_with_latency(
        upstream: &str,
        faults: Vec<(Fault, usize)>,
        latency: Duration,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State {
            latency,
            faults,
            seen: Vec::new(),
            in_flight: 0,
            max_in_flight: 0,
        }));
        let upstream = upstream.to_string();
        let shared = state.clone();
        let gate = Arc::new(Gate::default());
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let state = shared.clone();
                let upstream = upstream.clone();
                let gate = gate.clone();
                thread::spawn(move || serve(conn, &upstream, &state, &gate));
            }
        });
        FaultProxy { port, state }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every (method, path) the proxy received.
    pub fn seen(&self) -> Vec<(String, String)> {
        self.state.lock().expect("state").seen.clone()
    }

    /// The most requests it was answering at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().expect("state").max_in_flight
    }

    /// How many manifest requests with this method it received.
    pub fn manifest_requests(&self, method: &str) -> usize {
        self.seen()
            .iter()
            .filter(|(m, p)| m == method && p.contains("/manifests/"))
            .count()
    }
}

struct Request {
    method: String,
    path: String,
    head: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let end = line == "\r\n";
        head.push_str(&line);
        if end {
            break;
        }
    }
    let mut first = head.lines().next()?.split_whitespace();
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0usize);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        head,
        body,
    })
}

fn serve(conn: TcpStream, upstream: &str, state: &Mutex<State>, gate: &Gate) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut conn = conn;
    while let Some(req) = read_request(&mut reader) {
        let (fault, latency) = {
            let mut s = state.lock().expect("state");
            s.seen.push((req.method.clone(), req.path.clone()));
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
            let ping = req.path == "/v2/";
            let fault = if req.path.contains("/manifests/") || ping {
                s.faults
                    .iter_mut()
                    .find(|(f, n)| *n > 0 && matches!(f, Fault::Ping(..)) == ping)
                    .map(|(f, n)| {
                        *n -= 1;
                        f.clone()
                    })
            } else {
                None
            };
            (fault, s.latency)
        };
        if !latency.is_zero() {
            thread::sleep(latency);
        }
        let reply = match fault {
            Some(Fault::TooManyRequests(secs)) => simple(429, &format!("Retry-After: {secs}\r\n")),
            Some(Fault::Unavailable) => simple(503, ""),
            Some(Fault::Reset) => {
                let _ = conn.shutdown(Shutdown::Both);
                state.lock().expect("state").in_flight -= 1;
                return;
            }
            Some(Fault::Slow(d)) => {
                thread::sleep(d);
                forward(&req, upstream, None)
            }
            Some(Fault::TruncateBody) => {
                let reply = forward(&req, upstream, Some(Fault::TruncateBody));
                state.lock().expect("state").in_flight -= 1;
                let _ = conn.write_all(&reply);
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::Canned(status, headers, body)) => {
                let mut reply = format!(
                    "HTTP/1.1 {status} Canned\r\n{headers}Content-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                if req.method != "HEAD" {
                    reply.extend_from_slice(&body);
                }
                reply
            }
            Some(Fault::Ping(status, headers)) => simple(status, &headers),
            Some(Fault::Barrier(n)) => {
                let mut arrived = gate.arrived.lock().expect("gate");
                *arrived += 1;
                gate.changed.notify_all();
                while *arrived < n {
                    arrived = gate.changed.wait(arrived).expect("gate");
                }
                drop(arrived);
                forward(&req, upstream, None)
            }
            other => forward(&req, upstream, other),
        };
        // Done before the answer leaves: once it has, the client may send its next
        // request, which must not count as overlapping this one.
        state.lock().expect("state").in_flight -= 1;
        let written = conn.write_all(&reply);
        if written.is_err() {
            return;
        }
    }
}

fn simple(status: u16, extra: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status} Injected\r\n{extra}Content-Length: 0\r\n\r\n").into_bytes()
}

/// Forward one request upstream (its own connection) and return the answer, modified.
fn forward(req: &Request, upstream: &str, fault: Option<Fault>) -> Vec<u8> {
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return simple(502, "");
    };
    // Pass headers as they came (several Accept lines included); one request per
    // upstream connection.
    let head: String = req
        .head
        .lines()
        .filter(|l| {
            let lower = l.to_ascii_lowercase();
            !lower.starts_with("connection:") && !l.is_empty()
        })
        .map(|l| format!("{l}\r\n"))
        .collect();
    let _ = up.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes());
    let _ = up.write_all(&req.body);
    let mut answer = Vec::new();
    let _ = up.read_to_end(&mut answer);
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |i| i + 4);
    let (head, body) = answer.split_at(split);
    let head = String::from_utf8_lossy(head).into_owned();
    let mut body = body.to_vec();
    let mut lines: Vec<String> = head
        .lines()
        .filter(|l| !l.is_empty())
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(str::to_string)
        .collect();
    match fault {
        Some(Fault::StripDigest) => {
            lines.retain(|l| !l.to_ascii_lowercase().starts_with("docker-content-digest:"))
        }
        Some(Fault::CorruptBody) if req.method == "GET" && !body.is_empty() => body[0] ^= 1,
        Some(Fault::TruncateBody) => body.truncate(body.len() / 2),
        Some(Fault::AddHeader(line)) => lines.push(line),
        _ => {}
    }
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(&body);
    out
}
