//! One part-upload pool per backend: a few threads that send the parts of every writer, and a
//! memory budget that all the writers' part buffers share.
//!
//! A writer takes a [`Permit`] for a part buffer before it fills it beyond the first MiB
//! (waiting while the budget is spent), and the permit travels with the full buffer to the
//! thread that uploads it and is released when the upload ends. So the part memory of all
//! writers together stays within the budget, however many there are; the pool records the
//! most it ever held ([`PartPool::peak`]) so that tests can check it.
//!
//! A permit is granted when it fits in what is left of the budget, or when nothing at all is
//! held (so that a budget smaller than one part still lets one part at a time through).

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::cancel::{self, Cancel};
use crate::error::{Error, Result};

/// How often a writer waiting for budget looks at its cancel token.
const CANCEL_POLL: Duration = Duration::from_millis(20);

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The pool. Cloning shares it.
#[derive(Clone)]
pub(crate) struct PartPool {
    shared: Arc<Shared>,
}

struct Shared {
    budget: usize,
    threads: usize,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Default)]
struct State {
    used: usize,
    peak: usize,
    /// The queue of the worker threads, once started.
    jobs: Option<Sender<Job>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Part memory taken from the budget; given back when dropped.
pub(crate) struct Permit {
    shared: Arc<Shared>,
    bytes: usize,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.used = state.used.saturating_sub(self.bytes);
        drop(state);
        self.shared.freed.notify_all();
    }
}

impl std::fmt::Debug for PartPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("PartPool")
            .field("threads", &self.shared.threads)
            .field("budget", &self.shared.budget)
            .field("used", &state.used)
            .finish()
    }
}

impl PartPool {
    /// A pool of `threads` uploaders (started on first use) sharing `budget` bytes.
    pub(crate) fn new(threads: usize, budget: usize) -> PartPool {
        PartPool {
            shared: Arc::new(Shared {
                budget,
                threads: threads.max(1),
                state: Mutex::new(State::default()),
                freed: Condvar::new(),
            }),
        }
    }

    /// The most part memory held at once so far.
    pub(crate) fn peak(&self) -> usize {
        self.shared.lock().peak
    }

    /// Takes `bytes` from the budget, waiting for room; `Err(Cancelled)` if `cancel` fires
    /// while it waits.
    pub(crate) fn acquire(&self, bytes: usize, cancel: Option<&Cancel>) -> Result<Permit> {
        let mut state = self.shared.lock();
        loop {
            cancel::check(cancel)?;
            if state.used == 0 || state.used.saturating_add(bytes) <= self.shared.budget {
                state.used += bytes;
                state.peak = state.peak.max(state.used);
                return Ok(Permit {
                    shared: Arc::clone(&self.shared),
                    bytes,
                });
            }
            state = match cancel {
                Some(_) => {
                    self.shared
                        .freed
                        .wait_timeout(state, CANCEL_POLL)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .shared
                    .freed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    /// Runs `job` on one of the pool's threads (starting them on first use).
    pub(crate) fn spawn(&self, job: impl FnOnce() + Send + 'static) -> Result<()> {
        let mut state = self.shared.lock();
        if state.jobs.is_none() {
            state.jobs = Some(self.start()?);
        }
        let jobs = state.jobs.as_ref().ok_or_else(stopped)?;
        jobs.send(Box::new(job)).map_err(|_| stopped())
    }

    fn start(&self) -> Result<Sender<Job>> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for n in 0..self.shared.threads {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("omnistorage-s3-part-{n}"))
                .spawn(move || work(&rx));
            match spawned {
                Ok(_) => started += 1,
                Err(e) if started == 0 => return Err(Error::from(e)),
                Err(_) => break, // fewer uploaders than asked for: still correct
            }
        }
        Ok(tx)
    }
}

/// A worker: runs jobs until the pool is gone.
fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

fn stopped() -> Error {
    Error::new(crate::error::ErrorKind::Io, "the part uploaders stopped")
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Dropping the queue's sender ends the workers once the queue is empty.
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.jobs = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn permits_stay_within_the_budget() {
        let pool = PartPool::new(2, 10);
        let a = pool.acquire(6, None).unwrap();
        let b = pool.acquire(4, None).unwrap();
        let cancel = Cancel::new();
        let waiter = {
            let pool = pool.clone();
            let cancel = cancel.clone();
            std::thread::spawn(move || pool.acquire(1, Some(&cancel)).map(|_| ()))
        };
        cancel.cancel();
        assert_eq!(
            waiter.join().unwrap().unwrap_err().kind(),
            ErrorKind::Cancelled
        );
        drop(a);
        let c = pool.acquire(6, None).unwrap();
        drop((b, c));
        assert_eq!(pool.peak(), 10);
        // Larger than the budget: granted when nothing else is held.
        let big = pool.acquire(50, None).unwrap();
        assert_eq!(pool.peak(), 50);
        drop(big);
    }

    #[test]
    fn jobs_run_on_the_pool() {
        let pool = PartPool::new(2, 10);
        let (tx, rx) = mpsc::channel();
        for i in 0..5 {
            let tx = tx.clone();
            pool.spawn(move || {
                let _ = tx.send(i);
            })
            .unwrap();
        }
        let mut got: Vec<i32> = (0..5).map(|_| rx.recv().unwrap()).collect();
        got.sort();
        assert_eq!(got, [0, 1, 2, 3, 4]);
    }
}
