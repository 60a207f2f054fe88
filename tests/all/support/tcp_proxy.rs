//! A loopback TCP proxy that sits between a client under test and a real server, forwards the
//! bytes both ways, and injects faults on demand: cut a response or a request after N bytes,
//! close connections at once, or close new connections as soon as they are accepted.
//!
//! Std only, one thread per direction of each connection, no sleeps: a fault fires on the
//! byte count, not on a clock.
//!
//! ```ignore
//! let proxy = TcpProxy::start(server_addr)?;          // listens on 127.0.0.1:<random>
//! let endpoint = format!("http://{}", proxy.addr());  // give this to the client
//! proxy.cut_next_download_after(1000);                // the next response dies at byte 1000
//! let err = client.get("big-object").unwrap_err();    // the client must notice, and say so
//! assert_eq!(proxy.stats().cuts, 1);
//! ```
//!
//! # Directions and counting
//!
//! *Upload* is client → server (requests, request bodies); *download* is server → client
//! (responses). Counts are raw bytes on the wire: for HTTP they include the request line,
//! the headers and any chunked framing, not just the body.
//!
//! # Faults
//!
//! The fault plan can be changed at any time, from any thread (all methods take `&self`).
//!
//! - [`TcpProxy::cut_next_download_after`]`(n)`: arms a one-shot cut. The first connection
//!   that receives bytes from the server after the call claims it; it forwards `n` more bytes
//!   of the server's response to the client (0: none), then closes the connection both ways
//!   (the client sees EOF, or a reset if it is still sending). Later connections, and later
//!   bytes, are untouched. Because the cut is claimed by traffic rather than by a new
//!   connection, it works on a pooled keep-alive connection too: arm it just before the
//!   request it should break, while no other request is in flight.
//! - [`TcpProxy::cut_next_upload_after`]`(n)`: the same for the client's bytes: the server
//!   receives exactly `n` more bytes of the request, then the connection is closed both ways.
//! - [`TcpProxy::cut_new_connections_after`]`(n, bytes)`: the next `n` connections accepted
//!   from now on are each cut after `bytes` bytes of the server's side (for SSH: within the
//!   banner and key exchange of a new session, while the connections already open go on).
//! - [`TcpProxy::refuse_next_connections`]`(n)`: the next `n` connections are accepted by the
//!   kernel (the TCP handshake is done by then) and closed at once, before any byte is read;
//!   the server is never contacted. The client sees EOF or a reset on its first read or
//!   write. (A true `ECONNREFUSED` needs the listener gone: drop the proxy for that.)
//! - [`TcpProxy::close_all_connections`]: closes every open connection now, as a server that
//!   restarts or a middlebox that drops idle connections would: a client's pooled
//!   connections go stale.
//! - [`TcpProxy::clear_faults`]: disarms whatever has not fired yet.
//!
//! Arming the same fault twice before it fires keeps the second value: there is one cut of
//! each kind at a time.
//!
//! # Counters
//!
//! [`TcpProxy::stats`] returns a snapshot of [`ProxyStats`]. A byte is counted just before it
//! is written to the other side, and a connection just before its forwarding threads start,
//! so anything the client has observed is already counted when the client looks.
//!
//! # Shutdown
//!
//! Dropping the proxy closes the listener and every connection (both sockets of each), then
//! waits, at most [`SHUTDOWN_BOUND`], for all of its threads to finish and joins them. A
//! thread still running after that is left detached, with a message on stderr.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak, mpsc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How long a drop waits for the proxy's threads to finish before leaving them detached.
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(5);
/// The bound on connecting to the upstream server for each accepted connection.
pub const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An unarmed one-shot cut.
const UNARMED: u64 = u64::MAX;
const BUF_SIZE: usize = 16 * 1024;

/// A snapshot of the proxy's counters, since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Connections accepted and forwarded to the server.
    pub connections: u64,
    /// Connections closed on arrival by [`TcpProxy::refuse_next_connections`].
    pub refused: u64,
    /// Connections closed because the server could not be reached.
    pub upstream_failures: u64,
    /// Bytes forwarded from the client to the server.
    pub bytes_up: u64,
    /// Bytes forwarded from the server to the client.
    pub bytes_down: u64,
    /// Connections closed by a fault: a download or upload cut that fired, or one closed by
    /// [`TcpProxy::close_all_connections`].
    pub cuts: u64,
}

/// A fault-injecting TCP proxy on 127.0.0.1; see the [module documentation](self).
pub struct TcpProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

struct Shared {
    upstream: SocketAddr,
    shutting_down: AtomicBool,
    // The fault plan.
    cut_download: AtomicU64,
    cut_upload: AtomicU64,
    refuse: AtomicU64,
    /// New connections still to cut, and after how many bytes of the server's.
    cut_new: Mutex<(u64, u64)>,
    // The counters.
    connections: AtomicU64,
    refused: AtomicU64,
    upstream_failures: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    cuts: AtomicU64,
    // Open connections (weak: a connection's sockets close when its two threads are done) and
    // the handles of the forwarding threads.
    registry: Mutex<Registry>,
    // Threads not finished yet (the accept thread included), for the bounded join on drop.
    live_threads: Mutex<usize>,
    thread_done: Condvar,
}

#[derive(Default)]
struct Registry {
    conns: Vec<Weak<Conn>>,
    handles: Vec<JoinHandle<()>>,
}

/// Both sockets of one proxied connection.
struct Conn {
    client: TcpStream,
    upstream: TcpStream,
}

impl Conn {
    /// Closes both sockets both ways; blocked reads and writes on them return at once.
    fn close(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.upstream.shutdown(Shutdown::Both);
    }
}

#[derive(Clone, Copy)]
enum Direction {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Decrements a counter that is above zero; true if it did.
fn take_one(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// Claims an armed one-shot cut: its byte budget, leaving it unarmed.
fn claim(cut: &AtomicU64) -> Option<u64> {
    if cut.load(Ordering::SeqCst) == UNARMED {
        return None;
    }
    match cut.swap(UNARMED, Ordering::SeqCst) {
        UNARMED => None,
        n => Some(n),
    }
}

impl TcpProxy {
    /// Starts a proxy to `upstream`, listening on 127.0.0.1 on a port the system picks.
    pub fn start(upstream: SocketAddr) -> io::Result<TcpProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            shutting_down: AtomicBool::new(false),
            cut_download: AtomicU64::new(UNARMED),
            cut_upload: AtomicU64::new(UNARMED),
            refuse: AtomicU64::new(0),
            cut_new: Mutex::new((0, 0)),
            connections: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            upstream_failures: AtomicU64::new(0),
            bytes_up: AtomicU64::new(0),
            bytes_down: AtomicU64::new(0),
            cuts: AtomicU64::new(0),
            registry: Mutex::new(Registry::default()),
            live_threads: Mutex::new(0),
            thread_done: Condvar::new(),
        });
        let for_thread = Arc::clone(&shared);
        let accept_thread = spawn_counted(&shared, "tcp-proxy-accept", move || {
            accept_loop(&for_thread, listener);
        })?;
        Ok(TcpProxy {
            addr,
            shared,
            accept_thread: Some(accept_thread),
        })
    }

    /// The address clients connect to: 127.0.0.1 and the proxy's port.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server the proxy forwards to.
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// Arms a one-shot cut of the server's response: the first connection to receive bytes
    /// from the server from now on forwards `bytes` more of them, then is closed.
    pub fn cut_next_download_after(&self, bytes: u64) {
        assert!(
            bytes != UNARMED,
            "cut_next_download_after: {bytes} is too large"
        );
        self.shared.cut_download.store(bytes, Ordering::SeqCst);
    }

    /// Arms a one-shot cut of the client's request: the first connection to receive bytes
    /// from the client from now on forwards `bytes` more of them, then is closed.
    pub fn cut_next_upload_after(&self, bytes: u64) {
        assert!(
            bytes != UNARMED,
            "cut_next_upload_after: {bytes} is too large"
        );
        self.shared.cut_upload.store(bytes, Ordering::SeqCst);
    }

    /// The next `n` connections are closed as soon as they are accepted (replacing any count
    /// not used up yet; 0 turns it off).
    pub fn refuse_next_connections(&self, n: u64) {
        self.shared.refuse.store(n, Ordering::SeqCst);
    }

    /// The next `n` connections accepted from now on forward `bytes` bytes of the server's
    /// side each, then are closed (replacing any count not used up yet; 0 turns it off).
    pub fn cut_new_connections_after(&self, n: u64, bytes: u64) {
        *lock(&self.shared.cut_new) = (n, bytes);
    }

    /// Disarms the cuts and refusals that have not fired yet.
    pub fn clear_faults(&self) {
        *lock(&self.shared.cut_new) = (0, 0);
        self.shared.cut_download.store(UNARMED, Ordering::SeqCst);
        self.shared.cut_upload.store(UNARMED, Ordering::SeqCst);
        self.shared.refuse.store(0, Ordering::SeqCst);
    }

    /// Closes every open connection now (both sockets, both ways). New connections are
    /// accepted as usual. Returns how many were closed.
    pub fn close_all_connections(&self) -> u64 {
        let conns: Vec<Arc<Conn>> = lock(&self.shared.registry)
            .conns
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for conn in &conns {
            self.shared.cuts.fetch_add(1, Ordering::SeqCst);
            conn.close();
        }
        conns.len() as u64
    }

    /// The counters, now.
    pub fn stats(&self) -> ProxyStats {
        let s = &self.shared;
        ProxyStats {
            connections: s.connections.load(Ordering::SeqCst),
            refused: s.refused.load(Ordering::SeqCst),
            upstream_failures: s.upstream_failures.load(Ordering::SeqCst),
            bytes_up: s.bytes_up.load(Ordering::SeqCst),
            bytes_down: s.bytes_down.load(Ordering::SeqCst),
            cuts: s.cuts.load(Ordering::SeqCst),
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        let handles = {
            let mut registry = lock(&self.shared.registry);
            // Under the registry lock, so that the accept thread cannot register a connection
            // after this point without seeing the flag (it checks it under the same lock).
            self.shared.shutting_down.store(true, Ordering::SeqCst);
            for conn in registry.conns.drain(..).filter_map(|w| w.upgrade()) {
                conn.close();
            }
            std::mem::take(&mut registry.handles)
        };
        // The accept thread is blocked in accept(): one connection wakes it, and it sees the
        // flag. Its listener closes when it returns.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));

        let live = lock(&self.shared.live_threads);
        let (live, wait) = self
            .shared
            .thread_done
            .wait_timeout_while(live, SHUTDOWN_BOUND, |n| *n > 0)
            .unwrap_or_else(PoisonError::into_inner);
        if wait.timed_out() {
            eprintln!(
                "tcp_proxy: {} thread(s) still running {SHUTDOWN_BOUND:?} after the proxy on {} \
                 was dropped; leaving them detached",
                *live, self.addr
            );
            return;
        }
        drop(live);
        // Every thread has finished: these joins return at once.
        for handle in self.accept_thread.take().into_iter().chain(handles) {
            let _ = handle.join();
        }
    }
}

/// Decrements the live-thread count when a proxy thread ends, however it ends.
struct ThreadGuard(Arc<Shared>);

impl Drop for ThreadGuard {
    fn drop(&mut self) {
        *lock(&self.0.live_threads) -= 1;
        self.0.thread_done.notify_all();
    }
}

fn spawn_counted(
    shared: &Arc<Shared>,
    name: &str,
    f: impl FnOnce() + Send + 'static,
) -> io::Result<JoinHandle<()>> {
    *lock(&shared.live_threads) += 1;
    // If the spawn fails, the closure is dropped with the guard in it: the count is restored.
    let guard = ThreadGuard(Arc::clone(shared));
    thread::Builder::new().name(name.to_owned()).spawn(move || {
        let _guard = guard;
        f();
    })
}

fn accept_loop(shared: &Arc<Shared>, listener: TcpListener) {
    for incoming in listener.incoming() {
        if shared.shutting_down.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = incoming else {
            continue;
        };
        if take_one(&shared.refuse) {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            drop(client);
            continue;
        }
        let Ok(upstream) = TcpStream::connect_timeout(&shared.upstream, UPSTREAM_CONNECT_TIMEOUT)
        else {
            shared.upstream_failures.fetch_add(1, Ordering::SeqCst);
            drop(client);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        let down_budget = {
            let mut cut_new = lock(&shared.cut_new);
            (cut_new.0 > 0).then(|| {
                cut_new.0 -= 1;
                cut_new.1
            })
        };
        let conn = Arc::new(Conn { client, upstream });

        let mut registry = lock(&shared.registry);
        if shared.shutting_down.load(Ordering::SeqCst) {
            conn.close();
            return;
        }
        registry.conns.retain(|w| w.strong_count() > 0);
        registry.handles.retain(|h| !h.is_finished());
        shared.connections.fetch_add(1, Ordering::SeqCst);
        registry.conns.push(Arc::downgrade(&conn));
        for direction in [Direction::Up, Direction::Down] {
            let (shared2, conn2) = (Arc::clone(shared), Arc::clone(&conn));
            let name = match direction {
                Direction::Up => "tcp-proxy-up",
                Direction::Down => "tcp-proxy-down",
            };
            let budget = match direction {
                Direction::Up => None,
                Direction::Down => down_budget,
            };
            match spawn_counted(shared, name, move || {
                pump(&shared2, &conn2, direction, budget)
            }) {
                Ok(handle) => registry.handles.push(handle),
                Err(_) => conn.close(), // the other direction sees the close and ends
            }
        }
    }
}

/// Forwards one direction of one connection until EOF, an error, a cut or a close; with a
/// `budget`, cut after that many bytes.
fn pump(shared: &Shared, conn: &Conn, direction: Direction, budget: Option<u64>) {
    let (mut from, mut to, cut, counter) = match direction {
        Direction::Up => (
            &conn.client,
            &conn.upstream,
            &shared.cut_upload,
            &shared.bytes_up,
        ),
        Direction::Down => (
            &conn.upstream,
            &conn.client,
            &shared.cut_download,
            &shared.bytes_down,
        ),
    };
    let mut budget: Option<u64> = budget; // bytes left before this connection is cut
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => {
                // EOF: pass the half-close on; the other direction goes on until it ends too.
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                conn.close();
                return;
            }
        };
        if budget.is_none() {
            budget = claim(cut);
        }
        let (forward, cut_now) = match budget.as_mut() {
            Some(left) if n as u64 >= *left => {
                let forward = *left as usize;
                *left = 0;
                (forward, true)
            }
            Some(left) => {
                *left -= n as u64;
                (n, false)
            }
            None => (n, false),
        };
        if forward > 0 {
            counter.fetch_add(forward as u64, Ordering::SeqCst);
            if to.write_all(&buf[..forward]).is_err() {
                conn.close();
                return;
            }
        }
        if cut_now {
            shared.cuts.fetch_add(1, Ordering::SeqCst);
            conn.close();
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The proxy's own tests, against small servers on loopback. Reads have a timeout only as a
// safety net, so that a bug fails the test instead of hanging it; no test waits on a clock.

const SAFETY_NET: Duration = Duration::from_secs(20);

/// A loopback server running `handler` on each connection, in a thread of its own.
struct TestServer {
    addr: SocketAddr,
    accepted: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    fn start(handler: impl Fn(TcpStream) + Send + Sync + 'static) -> TestServer {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (accepted2, stop2) = (Arc::clone(&accepted), Arc::clone(&stop));
        let handler = Arc::new(handler);
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                accepted2.fetch_add(1, Ordering::SeqCst);
                stream.set_read_timeout(Some(SAFETY_NET)).unwrap();
                let handler = Arc::clone(&handler);
                thread::spawn(move || handler(stream));
            }
        });
        TestServer {
            addr,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// Echoes every byte back until EOF.
    fn echo() -> TestServer {
        TestServer::start(|mut stream| {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stream.read(&mut buf) {
                if stream.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            let _ = stream.shutdown(Shutdown::Write);
        })
    }

    fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes accept()
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// A server that sends, on a channel, all that each connection sent it before EOF or an error.
fn recording_server() -> (TestServer, mpsc::Receiver<Vec<u8>>) {
    let (tx, rx) = mpsc::channel();
    let server = TestServer::start(move |mut stream| {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stream.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
        let _ = tx.send(got);
    });
    (server, rx)
}

fn connect(proxy: &TcpProxy) -> TcpStream {
    let s = TcpStream::connect(proxy.addr()).unwrap();
    s.set_read_timeout(Some(SAFETY_NET)).unwrap();
    s
}

/// Reads until EOF or an error (a reset is an acceptable end here); what arrived.
fn read_to_end_or_error(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                assert_ne!(e.kind(), io::ErrorKind::WouldBlock, "safety net: read hung");
                assert_ne!(e.kind(), io::ErrorKind::TimedOut, "safety net: read hung");
                return got;
            }
        }
    }
}

/// Sends `data` through an echo and reads it all back.
fn echo_round_trip(stream: &mut TcpStream, data: &[u8]) {
    stream.write_all(data).unwrap();
    let mut back = vec![0u8; data.len()];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(back, data);
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn tcp_proxy_forwards_both_ways_and_counts() {
    let echo = TestServer::echo();
    let proxy = TcpProxy::start(echo.addr).unwrap();
    assert_eq!(proxy.upstream(), echo.addr);
    assert!(proxy.addr().ip().is_loopback());

    let mut a = connect(&proxy);
    echo_round_trip(&mut a, b"hello");
    echo_round_trip(&mut a, &pattern(3000));
    let mut b = connect(&proxy);
    echo_round_trip(&mut b, b"second connection");

    let total = (5 + 3000 + 17) as u64;
    assert_eq!(
        proxy.stats(),
        ProxyStats {
            connections: 2,
            bytes_up: total,
            bytes_down: total,
            ..ProxyStats::default()
        }
    );
    assert_eq!(echo.accepted(), 2);

    // A half-close from the client reaches the server, whose EOF comes back.
    a.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_end_or_error(&mut a), b"");
}

#[test]
fn tcp_proxy_carries_a_large_stream_intact() {
    let echo = TestServer::echo();
    let proxy = TcpProxy::start(echo.addr).unwrap();
    let data = pattern(4 << 20);
    let mut stream = connect(&proxy);
    let mut writer = stream.try_clone().unwrap();
    let to_send = data.clone();
    // Write and read at the same time: the buffers on the way hold far less than 4 MiB.
    let sender = thread::spawn(move || {
        writer.write_all(&to_send).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let back = read_to_end_or_error(&mut stream);
    sender.join().unwrap();
    assert!(back == data, "{} bytes back of {}", back.len(), data.len());
    let stats = proxy.stats();
    assert_eq!((stats.bytes_up, stats.bytes_down), (4 << 20, 4 << 20));
}

#[test]
fn tcp_proxy_cuts_the_next_download_after_n_bytes_once() {
    let echo = TestServer::echo();
    let proxy = TcpProxy::start(echo.addr).unwrap();
    let data = pattern(100);

    proxy.cut_next_download_after(10);
    let mut cut = connect(&proxy);
    cut.write_all(&data).unwrap();
    assert_eq!(read_to_end_or_error(&mut cut), &data[..10]);
    let stats = proxy.stats();
    assert_eq!((stats.cuts, stats.bytes_down), (1, 10));

    // Once: the next connection gets everything.
    let mut next = connect(&proxy);
    echo_round_trip(&mut next, &data);
    assert_eq!(proxy.stats().cuts, 1);
}

#[test]
fn tcp_proxy_cut_after_zero_bytes_drops_the_whole_response() {
    let echo = TestServer::echo();
    let proxy = TcpProxy::start(echo.addr).unwrap();
    proxy.cut_next_download_after(0);
    let mut stream = connect(&proxy);
    stream.write_all(b"ping").unwrap();
    assert_eq!(read_to_end_or_error(&mut stream), b"");
    assert_eq!(proxy.stats().bytes_down, 0);
    assert_eq!(proxy.stats().cuts, 1);
}

#[test]
fn tcp_proxy_cut_is_claimed_by_a_reused_connection() {
    // A keep-alive connection opened before the cut was armed is cut all the same.
    let echo = TestServer::echo();
    let proxy = TcpProxy::start(echo.addr).unwrap();
    let mut pooled = connect(&proxy);
    echo_round_trip(&mut pooled, b"first request, whole");

    proxy.cut_next_download_after(5);
    pooled.write_all(b"second request").unwrap();
    assert_eq!(read_to_end_or_error(&mut pooled), b"secon");
    assert_eq!(proxy.stats().connections, 1);
    assert_eq!(proxy.stats().bytes_down, 20 + 5);
}

#[test]
fn tcp_proxy_cuts_the_next_upload_after_n_bytes_once() {
    let (server, received) = recording_server();
    let proxy = TcpProxy::start(server.addr).unwrap();
    let data = pattern(5000);

    proxy.cut_next_upload_after(7);
    let mut cut = connect(&proxy);
    // The write may or may not see the reset, depending on timing: both are fine.
    let _ = cut.write_all(&data);
    // The server got exactly 7 bytes, then EOF; the client sees the connection end.
    assert_eq!(received.recv_timeout(SAFETY_NET).unwrap(), &data[..7]);
    assert_eq!(read_to_end_or_error(&mut cut), b"");
    assert_eq!(proxy.stats().bytes_up, 7);
    assert_eq!(proxy.stats().cuts, 1);

    // Once: the next connection's request arrives whole.
    let mut next = connect(&proxy);
    next.write_all(&data).unwrap();
    next.shutdown(Shutdown::Write).unwrap();
    assert_eq!(received.recv_timeout(SAFETY_NET).unwrap(), data);
    assert_eq!(proxy.stats().bytes_up, 7 + 5000);
    assert_eq!(proxy.stats().cuts, 1);
}

#[test]
fn tcp_proxy_cuts_new_connections_only() {
    let echo = TestServer::echo();
    let proxy = TcpProxy::start(echo.addr).unwrap();
    let data = pattern(100);
    let mut open = connect(&proxy);
    echo_round_trip(&mut open, b"before");
    proxy.cut_new_connections_after(2, 10);
    // The connection open before goes on; the next two are cut at byte 10; the third is not.
    echo_round_trip(&mut open, &data);
    for _ in 0..2 {
        let mut cut = connect(&proxy);
        cut.write_all(&data).unwrap();
        assert_eq!(read_to_end_or_error(&mut cut), &data[..10]);
    }
    let mut next = connect(&proxy);
    echo_round_trip(&mut next, &data);
    assert_eq!(proxy.stats().cuts, 2);
}

#[test]
fn tcp_proxy_refuses_the_next_connections_without_reaching_the_server() {
    let echo = TestServer::echo();
    let proxy = TcpProxy::start(echo.addr).unwrap();
    proxy.refuse_next_connections(2);
    for _ in 0..2 {
        let mut refused = connect(&proxy);
        let _ = refused.write_all(b"anyone there?");
        assert_eq!(read_to_end_or_error(&mut refused), b"");
    }
    let mut accepted = connect(&proxy);
    echo_round_trip(&mut accepted, b"yes");
    let stats = proxy.stats();
    assert_eq!((stats.refused, stats.connections), (2, 1));
    assert_eq!(echo.accepted(), 1);
}

#[test]
fn tcp_proxy_clear_faults_disarms_what_has_not_fired() {
    let echo = TestServer::echo();
    let proxy = TcpProxy::start(echo.addr).unwrap();
    proxy.refuse_next_connections(3);
    proxy.cut_next_download_after(1);
    proxy.cut_next_upload_after(1);
    proxy.clear_faults();
    let mut stream = connect(&proxy);
    echo_round_trip(&mut stream, b"untouched");
    let stats = proxy.stats();
    assert_eq!((stats.refused, stats.cuts), (0, 0));
}

#[test]
fn tcp_proxy_close_all_connections_makes_pooled_connections_stale() {
    let echo = TestServer::echo();
    let proxy = TcpProxy::start(echo.addr).unwrap();
    let mut a = connect(&proxy);
    let mut b = connect(&proxy);
    echo_round_trip(&mut a, b"a");
    echo_round_trip(&mut b, b"b");
    assert_eq!(proxy.close_all_connections(), 2);
    assert_eq!(read_to_end_or_error(&mut a), b"");
    assert_eq!(read_to_end_or_error(&mut b), b"");
    // New connections work.
    let mut c = connect(&proxy);
    echo_round_trip(&mut c, b"c");
    assert_eq!(proxy.stats().connections, 3);
    assert_eq!(proxy.stats().cuts, 2);
}

#[test]
fn tcp_proxy_counts_an_unreachable_upstream() {
    let dead = {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        listener.local_addr().unwrap()
    }; // closed: nothing listens there now
    let proxy = TcpProxy::start(dead).unwrap();
    let mut stream = connect(&proxy);
    assert_eq!(read_to_end_or_error(&mut stream), b"");
    assert_eq!(proxy.stats().upstream_failures, 1);
    assert_eq!(proxy.stats().connections, 0);
}

#[test]
fn tcp_proxy_drop_closes_the_listener_and_every_connection() {
    let echo = TestServer::echo();
    let proxy = TcpProxy::start(echo.addr).unwrap();
    let addr = proxy.addr();
    let mut open = connect(&proxy);
    echo_round_trip(&mut open, b"still open");
    // A connection the proxy has not even read from yet, blocked in its threads.
    let mut idle = connect(&proxy);

    drop(proxy); // returns only once its threads are joined (or after the bound)

    assert_eq!(read_to_end_or_error(&mut open), b"");
    assert_eq!(read_to_end_or_error(&mut idle), b"");
    let err = TcpStream::connect(addr).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
}
