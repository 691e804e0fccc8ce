//! The conformance suite of tidings: the semantics every transport promises (DESIGN.md's
//! "Semantics"), stated as tests over the public API and generic over where the bus runs.
//!
//! # Running it
//!
//! A transport crate dev-depends on this one, says how to build a bus on its transport (a
//! [`Backend`]), and runs every case with one line in a test target:
//!
//! ```text
//! tidings_conformance::suite!(MyBackend::new(), #[tokio::test]);
//! ```
//!
//! That makes one test per case, each on a fresh backend, under the test attribute given. The
//! caller's crate needs `tokio` (with the `macros` and `rt` features, and `rt-multi-thread` for a
//! multi-threaded test) for the attribute; nothing else is expected of it. A single case is a
//! `pub async fn(&dyn Backend)` and can run on its own:
//!
//! ```text
//! #[tokio::test]
//! async fn replay() {
//!     tidings_conformance::dead_letters::replay_redelivers_to_that_subscriber_only_from_attempt_one(
//!         &MyBackend::new(),
//!     )
//!     .await;
//! }
//! ```
//!
//! # The cases
//!
//! - [`delivery`]: every subscriber receives every event once (fan-out), publishing to no one
//!   succeeds, `concurrency` caps the attempts running at once, and bus instances running the
//!   same subscriber share its work without duplicates (competing consumers).
//! - [`failures`]: retries until success, dead letters after `retries + 1` attempts, timeouts and
//!   panics are failed attempts, permanent errors skip retries, any `std::error::Error` is
//!   retryable, undecodable payloads are dead-lettered without blocking the queue.
//! - [`dead_letters`]: what a dead letter records; list, get, replay (to that subscriber only,
//!   from attempt 1), a replay that fails again, discard, and their bulk forms.
//! - [`ordering`]: `ordered` keeps publish order per key across workers; a failing key parks only
//!   itself, even beside a key of its partition; a dead-lettered event releases its key.
//! - [`flow`]: `publish` waits while a subscriber is full; `wait_idle` waits for follow-ups and
//!   returns at once on a quiet bus.
//! - [`lifecycle`]: state reaches handlers, `groups` selects subscribers, shutdown drains
//!   accepted work then refuses publishes, and reports what it could not finish in time.
//! - [`context`]: correlation and causation ids carried forward by `ctx.publish`.
//! - [`metrics`]: exact counters, histograms and gauges through the `metrics` facade.
//! - [`trace`]: handlers continue the publisher's W3C trace, and follow-ups continue theirs.
//!
//! # Real clock or paused clock
//!
//! Durations in the cases are short in real time and exact under tokio's paused clock, so the
//! same cases run on either. A transport that lives in this process and does no I/O may run the
//! suite under `#[tokio::test(start_paused = true)]` (the memory transport runs it both ways);
//! a transport that waits on a disk, a socket or another thread runs it on the real clock, with
//! two worker threads so that real races happen:
//! `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`.
//!
//! # Adding a case
//!
//! Write it as a `pub async fn name(backend: &dyn Backend)` in the module of its topic (or a
//! new module, listed above), with assertions that fail on a transport that breaks the promise,
//! then add `module::name` to the list in [`suite!`]. This crate's own test fails while a
//! `pub async fn` of a case module is missing from that list.

pub mod context;
pub mod dead_letters;
pub mod delivery;
pub mod failures;
pub mod flow;
pub mod lifecycle;
pub mod metrics;
pub mod ordering;
pub mod poison;
mod support;
pub mod trace;

pub use support::{Log, Ping, Pong};

use tidings::{Bus, BusBuilder, Subscriber};

/// Where the buses of one test meet, and how to build one there: a memory namespace, a
/// directory, a broker namespace.
///
/// Every bus a backend builds must share one transport with the others it built (the same
/// namespace, directory or broker), as instances of one service would: the cases that run
/// several buses check that they share a subscriber's work. A fresh backend per test keeps tests
/// apart.
pub trait Backend: Send + Sync {
    /// A builder for a new bus on this backend's transport, with automatic registration off
    /// (`Bus::builder().url(..).manual()`), so that each case runs exactly its own subscribers.
    fn builder(&self) -> BusBuilder;
}

impl dyn Backend + '_ {
    /// A bus here running exactly `subscribers`.
    pub async fn bus_with(&self, subscribers: impl IntoIterator<Item = Subscriber>) -> Bus {
        subscribers
            .into_iter()
            .fold(self.builder(), BusBuilder::subscribe)
            .build()
            .await
            .expect("the bus builds")
    }
}

/// Runs every case: one test per case, each on a fresh `$backend`, under the test attribute
/// given (e.g. `#[tokio::test(start_paused = true)]` where the transport allows a virtual
/// clock). See the [crate docs](crate) for the cases and how to add one.
#[macro_export]
macro_rules! suite {
    ($backend:expr, #[$test:meta]) => {
        $crate::suite!(@each_case [@cases $backend, #[$test]]);
    };
    // The one list of cases: hands it to the arm in brackets.
    (@each_case [$($then:tt)*]) => {
        $crate::suite! {$($then)*;
            delivery::every_subscriber_receives_every_event_once,
            delivery::publishing_with_no_subscriber_succeeds,
            delivery::a_subscriber_runs_at_most_concurrency_attempts_at_once,
            delivery::instances_of_one_group_share_its_work_without_duplicates,
            failures::a_failing_attempt_is_retried_until_it_succeeds,
            failures::retries_exhausted_dead_letters_after_retries_plus_one_attempts,
            failures::a_timed_out_attempt_is_a_failed_attempt,
            failures::timeouts_dead_letter_with_the_deadline_in_the_error,
            failures::a_panic_is_a_failed_attempt_and_the_subscriber_lives_on,
            failures::a_permanent_error_skips_retries,
            failures::any_std_error_is_retryable_and_keeps_its_source_chain,
            failures::undecodable_payloads_are_dead_lettered_and_do_not_block_the_queue,
            poison::a_time_no_reader_could_take_back_is_refused_and_the_edges_are_kept,
            dead_letters::a_dead_letter_records_what_failed_where_and_when,
            dead_letters::replay_redelivers_to_that_subscriber_only_from_attempt_one,
            dead_letters::a_replay_that_fails_again_makes_a_new_dead_letter,
            dead_letters::discard_removes_a_dead_letter_for_good,
            dead_letters::replay_many_and_discard_many_act_on_each_and_report_the_missing,
            ordering::same_key_events_are_handled_in_publish_order_across_workers,
            ordering::a_failing_key_parks_only_itself,
            ordering::a_dead_lettered_event_releases_its_key,
            flow::publish_waits_while_a_subscriber_is_full,
            flow::wait_idle_waits_for_follow_ups_published_by_handlers,
            flow::wait_idle_on_a_quiet_bus_returns_at_once,
            lifecycle::state_reaches_handlers,
            lifecycle::groups_select_which_subscribers_run,
            lifecycle::shutdown_drains_accepted_work_then_refuses_publishes,
            lifecycle::shutdown_reports_what_it_could_not_finish_by_the_deadline,
            context::context_publish_carries_correlation_and_causation_forward,
            metrics::metrics_count_publishes_outcomes_attempts_and_sample_gauges,
            trace::handlers_continue_the_publishers_trace_and_follow_ups_continue_theirs,
        }
    };
    (@cases $backend:expr, #[$test:meta]; $($module:ident :: $case:ident,)*) => {$(
        #[$test]
        async fn $case() {
            let backend = $backend;
            $crate::$module::$case(&backend).await;
        }
    )*};
    // The list as `module::case` names, for this crate's check that it is complete.
    (@names; $($module:ident :: $case:ident,)*) => {
        [$(concat!(stringify!($module), "::", stringify!($case))),*]
    };
}

#[cfg(test)]
mod tests {
    /// Every `pub async fn` of a case module is in [`suite!`]'s list, and nothing else is.
    #[test]
    fn the_suite_runs_every_case() {
        let sources = [
            ("context", include_str!("context.rs")),
            ("dead_letters", include_str!("dead_letters.rs")),
            ("delivery", include_str!("delivery.rs")),
            ("failures", include_str!("failures.rs")),
            ("flow", include_str!("flow.rs")),
            ("lifecycle", include_str!("lifecycle.rs")),
            ("metrics", include_str!("metrics.rs")),
            ("ordering", include_str!("ordering.rs")),
            ("poison", include_str!("poison.rs")),
            ("trace", include_str!("trace.rs")),
        ];
        let mut written: Vec<String> = sources
            .iter()
            .flat_map(|(module, source)| {
                source.split("pub async fn ").skip(1).map(move |rest| {
                    let name = rest.split(['(', '<']).next().unwrap_or_default();
                    format!("{module}::{name}")
                })
            })
            .collect();
        let mut listed: Vec<String> = suite!(@each_case [@names])
            .iter()
            .map(|name| (*name).to_owned())
            .collect();
        written.sort_unstable();
        listed.sort_unstable();
        assert_eq!(
            listed, written,
            "add each case to `suite!`'s list in src/lib.rs"
        );
    }
}
