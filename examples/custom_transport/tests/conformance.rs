//! The conformance suite on `twin://`, on a real clock with two worker threads, as a transport
//! outside the core runs it.

// Linking the crate registers `twin://`; nothing else in this file names it.
extern crate tidings_example_custom_transport as _;

use std::sync::atomic::{AtomicUsize, Ordering};

use tidings::{Bus, BusBuilder};
use tidings_conformance::Backend;

/// An engine of its own per test (`twin://test-N`), shared by the buses that test builds.
struct TwinBackend(String);

impl TwinBackend {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        TwinBackend(format!(
            "twin://test-{}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

impl Backend for TwinBackend {
    fn builder(&self) -> BusBuilder {
        Bus::builder().url(&self.0).manual()
    }
}

tidings_conformance::suite!(TwinBackend::new(), #[tokio::test(flavor = "multi_thread", worker_threads = 2)]);
