//! The bound on work in flight, and the thread pools.

use std::sync::{Condvar, Mutex, MutexGuard};

use rayon::ThreadPool;

use crate::{Error, ErrorKind, Result};

/// A bound on the jobs in flight: the merge waits for a slot before it hands out work.
pub(crate) struct Gate {
    count: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

/// One job's place at the [`Gate`]; freed on drop.
pub(crate) struct Slot<'g>(&'g Gate);

impl Gate {
    pub(crate) fn new(max: usize) -> Gate {
        Gate {
            count: Mutex::new(0),
            freed: Condvar::new(),
            max: max.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, usize> {
        self.count.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn acquire(&self) -> Slot<'_> {
        let mut n = self.lock();
        while *n >= self.max {
            n = self.freed.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        *n += 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut n = self.0.lock();
        *n = n.saturating_sub(1);
        self.0.freed.notify_all();
    }
}

pub(crate) fn pool(n: usize, name: &'static str) -> Result<ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(move |i| format!("omnistorage-{name}-{i}"))
        .build()
        .map_err(|e| {
            Error::new(ErrorKind::Other, format!("cannot start the {name} threads")).with_source(e)
        })
}
