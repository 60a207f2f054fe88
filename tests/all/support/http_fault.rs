//! A loopback HTTP/1.1 proxy in front of a real server that answers the requests matching a
//! rule itself, with an error status (the fault), forwards every other request, and counts
//! the requests it answered: the attempts a client made, end to end.
//!
//! ```ignore
//! let proxy = HttpFault::start(server_addr)?;           // listens on 127.0.0.1:<random>
//! proxy.fail("PUT", "/bucket/dir/", 503, "SlowDown");  // every matching request, from now on
//! // ... run the client against http://{proxy.addr()} ...
//! assert_eq!(proxy.faulted(), 5);
//! ```
//!
//! A faulted request is read whole (its `Content-Length` body too) and answered with an S3
//! `<Error>` body, on a connection that stays open. A forwarded request goes to the server
//! on a connection of its own with `Connection: close`; the answer is relayed until the
//! server closes, then the client's connection is closed too (so nothing needs parsing but
//! request heads). Chunked request bodies are not supported (the S3 client sends none).
//!
//! Dropping the proxy stops accepting; connection threads end with their connections (each
//! has a read timeout as a safety net).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// The read timeout of every socket: a safety net so that a bug fails a test instead of
/// hanging it.
const SAFETY_NET: Duration = Duration::from_secs(30);

/// Which requests are answered with an error, and how.
#[derive(Clone, Debug)]
struct Rule {
    method: String,
    path_contains: String,
    status: u16,
    code: String,
}

struct Shared {
    upstream: SocketAddr,
    rule: Mutex<Option<Rule>>,
    faulted: AtomicU64,
    forwarded: AtomicU64,
    stop: AtomicBool,
}

/// The proxy; see the [module documentation](self).
pub struct HttpFault {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl HttpFault {
    /// Starts a proxy to `upstream` on 127.0.0.1, on a port the system picks.
    pub fn start(upstream: SocketAddr) -> io::Result<HttpFault> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            rule: Mutex::new(None),
            faulted: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let for_thread = Arc::clone(&shared);
        thread::Builder::new()
            .name("http-fault-accept".into())
            .spawn(move || {
                for client in listener.incoming() {
                    if for_thread.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(client) = client else { continue };
                    let shared = Arc::clone(&for_thread);
                    let _ =
                        thread::Builder::new()
                            .name("http-fault-conn".into())
                            .spawn(move || {
                                let _ = serve(&shared, client);
                            });
                }
            })?;
        Ok(HttpFault { addr, shared })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// From now on, answers every request whose method is `method` and whose target
    /// contains `path_contains` with `status` and an S3 `<Error>` body of `code`.
    pub fn fail(&self, method: &str, path_contains: &str, status: u16, code: &str) {
        *self
            .shared
            .rule
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Rule {
            method: method.to_owned(),
            path_contains: path_contains.to_owned(),
            status,
            code: code.to_owned(),
        });
    }

    /// How many requests were answered with the fault.
    pub fn faulted(&self) -> u64 {
        self.shared.faulted.load(Ordering::SeqCst)
    }

    /// How many requests were forwarded to the server.
    pub fn forwarded(&self) -> u64 {
        self.shared.forwarded.load(Ordering::SeqCst)
    }
}

impl Drop for HttpFault {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the accept thread, which sees the flag and ends (closing the listener).
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// One request's head: the request line and the header lines, as received.
struct Head {
    method: String,
    target: String,
    lines: Vec<String>,
    content_length: u64,
}

/// Reads a request head; `None` at a clean end of the connection.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut first = String::new();
    if reader.read_line(&mut first)? == 0 {
        return Ok(None);
    }
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut lines = vec![first.trim_end().to_owned()];
    let mut content_length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "head cut"));
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
        lines.push(line);
    }
    Ok(Some(Head {
        method,
        target,
        lines,
        content_length,
    }))
}

/// Serves one client connection: faults answered here, the first other request forwarded
/// (after which the connection closes).
fn serve(shared: &Shared, client: TcpStream) -> io::Result<()> {
    client.set_read_timeout(Some(SAFETY_NET))?;
    let mut out = client.try_clone()?;
    let mut reader = BufReader::new(client);
    while let Some(head) = read_head(&mut reader)? {
        let mut body = vec![0; usize::try_from(head.content_length).unwrap_or(0)];
        reader.read_exact(&mut body)?;
        let rule = shared
            .rule
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(rule) = rule.filter(|r| {
            r.method.eq_ignore_ascii_case(&head.method) && head.target.contains(&r.path_contains)
        }) {
            shared.faulted.fetch_add(1, Ordering::SeqCst);
            let error = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code>\
                 <Message>injected by the test</Message></Error>",
                rule.code
            );
            write!(
                out,
                "HTTP/1.1 {} Injected\r\nContent-Type: application/xml\r\n\
                 Content-Length: {}\r\n\r\n{error}",
                rule.status,
                error.len()
            )?;
            out.flush()?;
            continue;
        }
        shared.forwarded.fetch_add(1, Ordering::SeqCst);
        let mut upstream = TcpStream::connect_timeout(&shared.upstream, SAFETY_NET)?;
        upstream.set_read_timeout(Some(SAFETY_NET))?;
        let mut request = String::new();
        for line in &head.lines {
            let name = line.split(':').next().unwrap_or_default();
            if !name.eq_ignore_ascii_case("connection") {
                request.push_str(line);
                request.push_str("\r\n");
            }
        }
        request.push_str("Connection: close\r\n\r\n");
        upstream.write_all(request.as_bytes())?;
        upstream.write_all(&body)?;
        io::copy(&mut upstream, &mut out)?;
        let _ = out.shutdown(Shutdown::Both);
        return Ok(());
    }
    Ok(())
}
