//! The pool of SSH sessions: each lease has one to itself; `pool_size` idle ones are kept,
//! more are made while needed (up to `max_sessions`), and dead ones are dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ssh2::{Session, Sftp};

use super::config::Config;
use super::connect;
use super::errors::{from_ssh, is_dead};
use super::ext::{Ext, ExtError};
use crate::error::{Error, Result};

/// One SSH session with its SFTP subsystem.
pub(crate) struct Conn {
    pub(crate) sess: Session,
    pub(crate) sftp: Sftp,
    /// The extension channel (`ext.rs`), opened on first use.
    ext: Mutex<ExtState>,
    dead: AtomicBool,
}

enum ExtState {
    Unopened,
    Open(Ext),
    /// The server refused the channel (or it broke): never tried again on this session.
    Unavailable,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Conn {
    fn new(cfg: &Config) -> Result<Conn> {
        let sess = connect::session(cfg)?;
        let sftp = sess
            .sftp()
            .map_err(|e| from_ssh(e).with_operation("connect").with_path(cfg.store()))?;
        Ok(Conn {
            sess,
            sftp,
            ext: Mutex::new(ExtState::Unopened),
            dead: AtomicBool::new(false),
        })
    }

    /// Marks the session as gone: the pool drops it, and its users' next calls fail.
    pub(crate) fn kill(&self) {
        self.dead.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Relaxed)
    }

    /// `e`, after marking the session dead if `e` says it is.
    pub(crate) fn note(&self, e: Error) -> Error {
        if is_dead(&e) {
            self.kill();
        }
        e
    }

    /// Runs `f` on the extension channel, opening it first; `None` if the server has no
    /// such channel or lacks `extension`.
    pub(crate) fn with_ext<T>(
        &self,
        extension: &str,
        f: impl FnOnce(&mut Ext) -> std::result::Result<T, ExtError>,
    ) -> Option<std::result::Result<T, ExtError>> {
        let mut state = lock(&self.ext);
        if matches!(*state, ExtState::Unopened) {
            *state = match Ext::open(&self.sess) {
                Ok(ext) => ExtState::Open(ext),
                Err(_) => ExtState::Unavailable,
            };
        }
        let ExtState::Open(ext) = &mut *state else {
            return None;
        };
        if !ext.has(extension) {
            return None;
        }
        let r = f(ext);
        if let Err(ExtError::Channel) = &r {
            // Out of step or broken: this channel is done, and the session is suspect.
            *state = ExtState::Unavailable;
            self.kill();
        }
        Some(r)
    }
}

/// A session handed out by the pool, for the lease's holder alone; back to the pool (or
/// closed) when dropped.
pub(crate) struct Lease {
    conn: Option<Conn>,
    shared: Arc<Shared>,
}

impl std::ops::Deref for Lease {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        // Present until `drop`.
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("a lease holds its session"))
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let mut state = lock(&self.shared.state);
        if !conn.is_dead() && !self.shared.closed.load(Ordering::Relaxed) {
            state.idle.push((conn, Instant::now()));
            let surplus = state.surplus(self.shared.cfg.pool_size);
            drop(state);
            drop(surplus); // closes them, outside the lock
        } else {
            state.open -= 1;
            drop(state);
            drop(conn); // closes the session
        }
        self.shared.freed.notify_one();
    }
}

struct State {
    /// Sessions nobody holds, with when they were returned; the most recently used last.
    idle: Vec<(Conn, Instant)>,
    /// Sessions alive or being made, held or idle.
    open: usize,
}

/// How long a session beyond `pool_size` is kept idle (for the next burst of parallel work)
/// before it is closed; rclone closes idle SFTP connections after a minute too.
const SURPLUS_IDLE: Duration = Duration::from_secs(60);

impl State {
    /// Takes out the idle sessions beyond the first `keep` that have been idle for longer
    /// than [`SURPLUS_IDLE`] (the caller closes them, outside the lock).
    fn surplus(&mut self, keep: usize) -> Vec<Conn> {
        let now = Instant::now();
        let mut out = Vec::new();
        // The oldest are first: keep the most recently used `keep`.
        while self.idle.len() > keep
            && self
                .idle
                .first()
                .is_some_and(|(_, t)| now.duration_since(*t) > SURPLUS_IDLE)
        {
            let (conn, _) = self.idle.remove(0);
            self.open -= 1;
            out.push(conn);
        }
        out
    }
}

struct Shared {
    cfg: Arc<Config>,
    state: Mutex<State>,
    /// Signalled when a session is returned or closed.
    freed: Condvar,
    /// The backend is closed: returned sessions are closed too.
    closed: AtomicBool,
}

/// The pool. Each lease has its session to itself: libssh2 does not take concurrent calls
/// on one session, even one at a time under the `ssh2` crate's lock (seen here: decrypt
/// errors and lost packets with 16 threads on 4 shared sessions). So every open reader or
/// writer holds one session; more are opened while needed (up to `max_sessions`, if set);
/// returned ones are kept, `pool_size` of them for good and the rest for a minute of
/// idleness (opening a session costs a handshake: the churn of closing them at once made
/// 1,000 small downloads 3–10 times slower).
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

impl Pool {
    /// A pool with its first session made (to check the settings at once).
    pub(crate) fn new(cfg: Arc<Config>) -> Result<Pool> {
        let first = Conn::new(&cfg)?;
        Ok(Pool {
            shared: Arc::new(Shared {
                cfg,
                state: Mutex::new(State {
                    idle: vec![(first, Instant::now())],
                    open: 1,
                }),
                freed: Condvar::new(),
                closed: AtomicBool::new(false),
            }),
        })
    }

    fn lease(&self, conn: Conn) -> Lease {
        Lease {
            conn: Some(conn),
            shared: Arc::clone(&self.shared),
        }
    }

    /// A live session of its own: an idle one (probed with a keepalive if one is due),
    /// else a new one; past `max_sessions`, waits for one to be returned, up to the
    /// timeout.
    pub(crate) fn get(&self) -> Result<Lease> {
        let cfg = &self.shared.cfg;
        let deadline = std::time::Instant::now() + cfg.timeout;
        let mut state = lock(&self.shared.state);
        loop {
            if self.shared.closed.load(Ordering::Relaxed) {
                return Err(Error::closed("connect").with_backend(super::NAME));
            }
            let surplus = state.surplus(cfg.pool_size);
            if !surplus.is_empty() {
                drop(state);
                drop(surplus);
                state = lock(&self.shared.state);
            }
            if let Some((conn, _)) = state.idle.pop() {
                drop(state);
                if self.alive(&conn) {
                    return Ok(self.lease(conn));
                }
                drop(conn);
                state = lock(&self.shared.state);
                state.open -= 1;
                continue;
            }
            if cfg.max_sessions.is_none_or(|max| state.open < max) {
                state.open += 1;
                drop(state);
                return match Conn::new(cfg) {
                    Ok(conn) => Ok(self.lease(conn)),
                    Err(e) => {
                        lock(&self.shared.state).open -= 1;
                        self.shared.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(Error::new(
                    crate::error::ErrorKind::TimedOut,
                    "every SFTP session is busy (max_sessions)",
                )
                // The wait was the retry: another one would only wait again.
                .with_temporary(false)
                .with_backend(super::NAME));
            }
            state = self
                .shared
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Sends a keepalive if one is due (libssh2 keeps the clock), so that a session the
    /// server or a middlebox dropped while idle is found here rather than by the operation.
    fn alive(&self, conn: &Conn) -> bool {
        if self.shared.cfg.keepalive.is_none() {
            return true;
        }
        match conn.sess.keepalive_send() {
            Ok(_) => true,
            Err(_) => {
                conn.kill();
                false
            }
        }
    }

    /// The settings.
    pub(crate) fn config(&self) -> &Config {
        &self.shared.cfg
    }

    /// Closes the idle sessions; held ones close when returned (the backend is closed).
    pub(crate) fn clear(&self) {
        self.shared.closed.store(true, Ordering::Relaxed);
        let idle = std::mem::take(&mut lock(&self.shared.state).idle);
        let n = idle.len();
        drop(idle);
        lock(&self.shared.state).open -= n;
    }
}
