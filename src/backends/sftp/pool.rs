//! The pool of SSH sessions: up to `pool_size` of them, made on demand, shared when all are
//! busy (a session serves one call at a time, so operations beyond the pool's size wait
//! for each other's calls but never deadlock), and replaced when one dies.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

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
    users: AtomicUsize,
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
            users: AtomicUsize::new(0),
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

/// A session handed out by the pool; returned when dropped.
pub(crate) struct Lease(Arc<Conn>);

impl std::ops::Deref for Lease {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.0.users.fetch_sub(1, Ordering::Relaxed);
    }
}

struct State {
    conns: Vec<Arc<Conn>>,
    /// Slots taken by connections being made.
    connecting: usize,
}

/// The pool.
pub(crate) struct Pool {
    cfg: Arc<Config>,
    state: Mutex<State>,
    /// Signalled when a connection attempt ends.
    made: Condvar,
}

impl Pool {
    /// A pool with its first session made (to check the settings at once).
    pub(crate) fn new(cfg: Arc<Config>) -> Result<Pool> {
        let first = Arc::new(Conn::new(&cfg)?);
        Ok(Pool {
            cfg,
            state: Mutex::new(State {
                conns: vec![first],
                connecting: 0,
            }),
            made: Condvar::new(),
        })
    }

    fn lease(conn: &Arc<Conn>) -> Lease {
        conn.users.fetch_add(1, Ordering::Relaxed);
        Lease(Arc::clone(conn))
    }

    /// A live session: an idle one, else a new one while the pool has room, else the least
    /// busy. A session idle for longer than the keepalive interval is probed first.
    pub(crate) fn get(&self) -> Result<Lease> {
        let mut state = lock(&self.state);
        loop {
            state.conns.retain(|c| !c.is_dead());
            let idle = state
                .conns
                .iter()
                .find(|c| c.users.load(Ordering::Relaxed) == 0)
                .cloned();
            if let Some(conn) = idle {
                let lease = Pool::lease(&conn);
                drop(state);
                if self.alive(&lease) {
                    return Ok(lease);
                }
                drop(lease);
                state = lock(&self.state);
                continue;
            }
            if state.conns.len() + state.connecting < self.cfg.pool_size {
                state.connecting += 1;
                drop(state);
                let made = Conn::new(&self.cfg);
                state = lock(&self.state);
                state.connecting -= 1;
                self.made.notify_all();
                let conn = Arc::new(made?);
                state.conns.push(Arc::clone(&conn));
                return Ok(Pool::lease(&conn));
            }
            let busiest_least = state
                .conns
                .iter()
                .min_by_key(|c| c.users.load(Ordering::Relaxed))
                .cloned();
            match busiest_least {
                Some(conn) => return Ok(Pool::lease(&conn)),
                // Every slot is a connection being made: wait for one.
                None => {
                    state = self
                        .made
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner)
                }
            }
        }
    }

    /// Sends a keepalive if one is due (libssh2 keeps the clock: nothing is sent if the
    /// session was used within the interval), so that a session the server or a middlebox
    /// dropped while idle is found here rather than by the operation.
    fn alive(&self, conn: &Conn) -> bool {
        if self.cfg.keepalive.is_none() {
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
        &self.cfg
    }

    /// Drops every session (the backend is closed).
    pub(crate) fn clear(&self) {
        let mut state = lock(&self.state);
        for c in &state.conns {
            c.kill();
        }
        state.conns.clear();
    }
}
