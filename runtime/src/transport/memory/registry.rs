//! The engines open in this process, so that buses built on the same `memory://NAME` or
//! `file://PATH` share one (and with it queues, dead letters and the journal).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use super::LocalEngine;
use crate::error::Result;
#[cfg(feature = "durable")]
use crate::transport::durable::Journal;

static OPEN: LazyLock<Mutex<HashMap<String, Weak<LocalEngine>>>> = LazyLock::new(Mutex::default);

fn lock() -> std::sync::MutexGuard<'static, HashMap<String, Weak<LocalEngine>>> {
    OPEN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The engine of `memory://` (a new, private one) or `memory://NAME` (the one open already, if
/// any). The caller counts as one more bus using it until it calls [`release`].
pub(crate) fn open_memory(name: Option<&str>, capacity: usize) -> Arc<LocalEngine> {
    match name {
        None => Arc::new(LocalEngine::new(None, capacity, None)),
        Some(name) => open_shared(format!("memory://{name}"), |key| {
            Ok(LocalEngine::new(None, capacity, Some(key)))
        })
        .expect("a memory engine always opens"),
    }
}

/// The engine of `file://PATH`: the one open already in this process, or one on the journal
/// found there. The caller counts as one more bus using it until it calls [`release`].
#[cfg(feature = "durable")]
pub(crate) fn open_durable(
    path: &std::path::Path,
    options: crate::transport::durable::Options,
    capacity: usize,
) -> Result<Arc<LocalEngine>> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    open_shared(format!("file://{}", absolute.display()), |key| {
        let (journal, recovered) = Journal::open(path, options)?;
        let engine = LocalEngine::new(Some(journal), capacity, Some(key));
        engine.recover(recovered);
        Ok(engine)
    })
}

fn open_shared(
    key: String,
    make: impl FnOnce(String) -> Result<LocalEngine>,
) -> Result<Arc<LocalEngine>> {
    let mut open = lock();
    if let Some(engine) = open.get(&key).and_then(Weak::upgrade) {
        *engine.buses.lock().expect("buses lock") += 1;
        return Ok(engine);
    }
    let engine = Arc::new(make(key.clone())?);
    open.insert(key, Arc::downgrade(&engine));
    Ok(engine)
}

/// A bus stopped using `engine`; true if it was the last, and the engine is to be closed.
pub(crate) fn release(engine: &Arc<LocalEngine>) -> bool {
    let mut open = lock();
    let mut buses = engine.buses.lock().expect("buses lock");
    *buses -= 1;
    if *buses > 0 {
        return false;
    }
    if let Some(key) = &engine.registry_key
        && open
            .get(key)
            .is_some_and(|known| std::ptr::eq(known.as_ptr(), Arc::as_ptr(engine)))
    {
        open.remove(key);
    }
    true
}
