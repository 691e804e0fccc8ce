//! The engines open in this process, so that buses built on the same `memory://NAME` or
//! `file://PATH` share one (and with it queues, dead letters and the journal).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use super::LocalEngine;
use crate::error::Result;
use crate::transport::Kind;
#[cfg(feature = "durable")]
use crate::transport::durable::Journal;

static OPEN: LazyLock<Mutex<HashMap<String, Weak<LocalEngine>>>> = LazyLock::new(Mutex::default);

fn lock() -> std::sync::MutexGuard<'static, HashMap<String, Weak<LocalEngine>>> {
    OPEN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The engine `kind` names: the one open already if shared, or a new one. The caller is
/// counted as one more bus using it until it calls [`release`].
pub(crate) fn open(kind: &Kind, capacity: usize) -> Result<Arc<LocalEngine>> {
    let key = match kind {
        Kind::Memory { name: None } => return Ok(Arc::new(LocalEngine::new(None, capacity, None))),
        Kind::Memory { name: Some(name) } => format!("memory://{name}"),
        #[cfg(feature = "durable")]
        Kind::Durable { path, .. } => format!(
            "file://{}",
            std::path::absolute(path)
                .unwrap_or_else(|_| path.clone())
                .display()
        ),
        #[cfg(feature = "amqp")]
        Kind::Amqp(_) => unreachable!("a broker is not an in-process engine"),
        #[cfg(feature = "nats")]
        Kind::Nats(_) => unreachable!("a broker is not an in-process engine"),
    };
    let mut open = lock();
    if let Some(engine) = open.get(&key).and_then(Weak::upgrade) {
        *engine.buses.lock().expect("buses lock") += 1;
        return Ok(engine);
    }
    let engine = Arc::new(match kind {
        Kind::Memory { .. } => LocalEngine::new(None, capacity, Some(key.clone())),
        #[cfg(feature = "durable")]
        Kind::Durable { path, sync } => {
            let (journal, recovered) = Journal::open(path, *sync)?;
            let engine = LocalEngine::new(Some(journal), capacity, Some(key.clone()));
            engine.recover(recovered);
            engine
        }
        #[cfg(feature = "amqp")]
        Kind::Amqp(_) => unreachable!("a broker is not an in-process engine"),
        #[cfg(feature = "nats")]
        Kind::Nats(_) => unreachable!("a broker is not an in-process engine"),
    });
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
