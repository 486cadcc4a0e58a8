//! A scripted HTTP/1.1 server on 127.0.0.1 for the index client tests.
//!
//! Each path has a handler that gets the request and how many times the path was hit
//! before, and returns a [`Reply`]: status, headers, body, a delay before answering, or a
//! body cut short of its Content-Length. Every connection is answered once and closed. The
//! server records requests and the highest number answered at the same time, and stops when
//! dropped.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Request {
    pub path: String,
    /// Header names lowercase.
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
    /// Send only this many bytes of the body, still declaring its full length.
    pub cut_at: Option<usize>,
    /// Send the body one byte at a time, waiting this long before each.
    pub drip: Option<Duration>,
    /// After the headers, wait this long before the body (a server that hangs mid-answer).
    pub stall_after_headers: Duration,
    /// Close the connection at once, without a reply (the client sees a reset or EOF).
    pub reset: bool,
    /// Stream this many bytes of filler (`[` then spaces) as the body, generated as it is
    /// sent, with that Content-Length (or none when `false`): huge pages without the memory.
    pub filler: Option<(u64, bool)>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            headers: vec![],
            body: vec![],
            delay: Duration::ZERO,
            cut_at: None,
            drip: None,
            stall_after_headers: Duration::ZERO,
            reset: false,
            filler: None,
        }
    }
    pub fn body(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Reply::status(200)
            .header("Content-Type", content_type)
            .with_body(body)
    }
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Reply::body("application/vnd.pypi.simple.v1+json", body)
    }
    pub fn html(body: impl Into<Vec<u8>>) -> Self {
        Reply::body("text/html", body)
    }
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
    pub fn cut_at(mut self, bytes: usize) -> Self {
        self.cut_at = Some(bytes);
        self
    }
    pub fn dripping(mut self, every: Duration) -> Self {
        self.drip = Some(every);
        self
    }
    pub fn stalling_after_headers(mut self, wait: Duration) -> Self {
        self.stall_after_headers = wait;
        self
    }
    pub fn reset() -> Self {
        let mut reply = Reply::status(200);
        reply.reset = true;
        reply
    }
    pub fn filler(mut self, bytes: u64, declare_length: bool) -> Self {
        self.filler = Some((bytes, declare_length));
        self
    }
}

type Handler = Arc<dyn Fn(&Request, usize) -> Reply + Send + Sync>;

#[derive(Default)]
struct State {
    routes: Mutex<HashMap<String, Handler>>,
    hits: Mutex<HashMap<String, usize>>,
    log: Mutex<Vec<Request>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    stop: AtomicBool,
}

pub struct Server {
    addr: SocketAddr,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Server {
            addr,
            state,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn route(
        &self,
        path: &str,
        handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static,
    ) {
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_string(), Arc::new(handler));
    }

    /// The same reply every time.
    pub fn always(&self, path: &str, reply: Reply) {
        self.route(path, move |_, _| reply.clone());
    }

    /// The replies in turn; the last one repeats.
    pub fn sequence(&self, path: &str, replies: Vec<Reply>) {
        self.route(path, move |_, nth| {
            replies[nth.min(replies.len() - 1)].clone()
        });
    }

    pub fn hits(&self, path: &str) -> usize {
        self.state
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn total_hits(&self) -> usize {
        self.state.log.lock().unwrap().len()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, state: &State) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let request = Request {
        path: path.clone(),
        headers,
    };
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let nth = {
        let mut hits = state.hits.lock().unwrap();
        let entry = hits.entry(path.clone()).or_insert(0);
        *entry += 1;
        *entry - 1
    };
    state.log.lock().unwrap().push(request.clone());
    let handler = state.routes.lock().unwrap().get(&path).cloned();
    let reply = match handler {
        Some(handler) => handler(&request, nth),
        None => Reply::status(404)
            .header("Content-Type", "text/plain")
            .with_body("not found"),
    };
    std::thread::sleep(reply.delay);
    let mut out = stream;
    if reply.reset {
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
        drop(out);
        return;
    }
    let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match reply.filler {
        Some((len, true)) => head.push_str(&format!("Content-Length: {len}\r\n")),
        Some((_, false)) => {}
        None => head.push_str(&format!("Content-Length: {}\r\n", reply.body.len())),
    }
    head.push_str("Connection: close\r\n\r\n");
    let body = match reply.cut_at {
        Some(n) => &reply.body[..n.min(reply.body.len())],
        None => &reply.body[..],
    };
    let _ = out.write_all(head.as_bytes());
    let _ = out.flush();
    std::thread::sleep(reply.stall_after_headers);
    if let Some((len, _)) = reply.filler {
        let block = vec![b' '; 64 * 1024];
        let _ = out.write_all(b"[");
        let mut sent = 1u64;
        while sent < len {
            let n = block.len().min((len - sent) as usize);
            if out.write_all(&block[..n]).is_err() {
                break;
            }
            sent += n as u64;
        }
    } else if let Some(every) = reply.drip {
        for byte in body {
            std::thread::sleep(every);
            if out.write_all(std::slice::from_ref(byte)).is_err() || out.flush().is_err() {
                break;
            }
        }
    } else {
        let _ = out.write_all(body);
    }
    let _ = out.flush();
    let _ = out.shutdown(std::net::Shutdown::Both);
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
}

/// `Basic base64(user:password)`, for checking the Authorization header.
pub fn basic_auth(user: &str, password: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

/// A recorded response body from `fixtures/index-responses/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/index-responses")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}
