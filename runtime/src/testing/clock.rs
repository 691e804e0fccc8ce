//! Virtual time: tokio's paused clock, which jumps to the next timer whenever every task of the
//! runtime waits. Retries, backoffs, timeouts and rates all wait on tokio timers, so under it
//! they finish at once in wall time and at exact virtual instants.

use std::pin::pin;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::error::{Error, Result};

/// Pauses the current runtime's clock (unless it already is: `start_paused = true`), on a tick
/// of tokio's timer wheel.
pub(super) async fn start() -> Result<()> {
    pause()?;
    align_to_tick().await;
    Ok(())
}

/// Pauses the current runtime's clock, unless it already is.
fn pause() -> Result<()> {
    let Ok(runtime) = Handle::try_current() else {
        return Err(problem(
            "a TestBus must be built inside a tokio runtime: write the test as \
             `#[tokio::test] async fn ..`",
        ));
    };
    if runtime.runtime_flavor() != RuntimeFlavor::CurrentThread {
        return Err(problem(
            "a TestBus runs on virtual time, which tokio offers only on a current-thread runtime, \
             and this runtime is multi-threaded: use `#[tokio::test]` (current-thread by default) \
             rather than `#[tokio::test(flavor = \"multi_thread\")]` or `#[tokio::main]`",
        ));
    }
    if !is_paused() {
        tokio::time::pause();
    }
    Ok(())
}

/// A paused clock does not move while real time passes (tokio offers no direct question).
fn is_paused() -> bool {
    let virtual_before = tokio::time::Instant::now();
    let real_before = std::time::Instant::now();
    while real_before.elapsed() < Duration::from_micros(1) {
        std::hint::spin_loop();
    }
    tokio::time::Instant::now() == virtual_before
}

/// One tick of tokio's timer wheel, in nanoseconds.
const TICK_NANOS: u64 = 1_000_000;

/// Moves a paused clock onto a tick of tokio's timer wheel. The wheel fires timers on its
/// millisecond ticks and rounds deadlines up to one, so on a clock paused between two ticks every
/// timer would last up to a millisecond longer than asked, and virtual time would drift from the
/// sum of the delays by a millisecond per timer.
///
/// tokio does not say where its ticks are, so this finds the next one by bisection: the tick lies
/// `lo < next <= hi` nanoseconds past where the search began; advance the clock to the middle and
/// see whether a timer due at the first tick after the previous position fired.
async fn align_to_tick() {
    let (mut lo, mut hi, mut at) = (0, TICK_NANOS, 0);
    while hi - lo > 1 {
        let middle = lo + (hi - lo) / 2;
        // Due 1ns from now, which the wheel rounds up to the first tick after `at`.
        let mut at_next_tick = pin!(tokio::time::sleep(Duration::from_nanos(1)));
        // Polled once so that the wheel holds it.
        let pending = at_next_tick.as_mut().now_or_never().is_none();
        debug_assert!(
            pending,
            "a paused clock does not move by itself while this task runs"
        );
        tokio::time::advance(Duration::from_nanos(middle - at)).await;
        at = middle;
        if at_next_tick.is_elapsed() {
            // The tick was at or before the middle; look for the one after it.
            (lo, hi) = (lo + TICK_NANOS, middle + TICK_NANOS);
        } else {
            lo = middle;
        }
    }
    tokio::time::advance(Duration::from_nanos(hi - at)).await;
}

fn problem(message: &str) -> Error {
    Error::Build(vec![message.to_owned()])
}
