//! Holds tokio's paused clock still while journal writes are outstanding, for virtual time
//! (`tidings::testing`).
//!
//! A paused clock jumps to the next timer whenever the runtime has nothing to run, and a task
//! waiting for the writer thread looks exactly like that: a handler that publishes would time out
//! in virtual time after a few real milliseconds of disk work. tokio holds the clock while a
//! blocking task runs, so one blocking task waits out every outstanding write. The writers
//! themselves wait on their answers as usual, so they wake in the order the writer answers them,
//! which is the order they wrote in: runs stay deterministic.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

#[derive(Default)]
pub(super) struct ClockHold {
    /// Off unless a test bus turned it on: then every journal write holds the clock.
    enabled: AtomicBool,
    outstanding: Arc<(Mutex<usize>, Condvar)>,
}

/// One outstanding write; dropping it (answered or abandoned) lets the clock go once no other
/// write is outstanding.
pub(super) struct Held {
    outstanding: Arc<(Mutex<usize>, Condvar)>,
}

impl ClockHold {
    pub(super) fn enable(&self) {
        self.enabled.store(true, Ordering::Relaxed);
    }

    /// Holds the clock until the returned guard drops, if enabled.
    pub(super) fn hold(&self) -> Option<Held> {
        if !self.enabled.load(Ordering::Relaxed) {
            return None;
        }
        let mut count = lock(&self.outstanding);
        if *count == 0 {
            let outstanding = Arc::clone(&self.outstanding);
            // Not awaited: it ends by itself once nothing is outstanding.
            drop(tokio::task::spawn_blocking(move || {
                let mut count = lock(&outstanding);
                while *count > 0 {
                    count = outstanding.1.wait(count).expect("clock hold lock");
                }
            }));
        }
        *count += 1;
        Some(Held {
            outstanding: Arc::clone(&self.outstanding),
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut count = lock(&self.outstanding);
        *count -= 1;
        if *count == 0 {
            self.outstanding.1.notify_all();
        }
    }
}

fn lock(outstanding: &(Mutex<usize>, Condvar)) -> MutexGuard<'_, usize> {
    outstanding.0.lock().expect("clock hold lock")
}
