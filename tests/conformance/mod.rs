//! The transport conformance suite: DESIGN's semantics as tests over the public API, generic over
//! where the bus runs. A transport passes by instantiating it once:
//!
//! ```text
//! #[macro_use]
//! mod conformance;
//! conformance_suite!(MyBackend::new(), #[tokio::test]);
//! ```
//!
//! Durations are chosen to be short in real time and exact under tokio's paused clock, so the
//! same cases run on a virtual clock (memory) and a real one (disks, brokers).

pub(crate) mod context;
pub(crate) mod dead_letters;
pub(crate) mod delivery;
pub(crate) mod failures;
pub(crate) mod flow;
pub(crate) mod lifecycle;
pub(crate) mod metrics;
pub(crate) mod ordering;
pub(crate) mod trace;

use tidings::{Bus, BusBuilder, Subscriber};

/// Where the buses of one test meet: a memory namespace, a directory, a broker. Every bus a
/// backend builds shares its transport with the others it built, as instances of one service
/// would.
pub(crate) trait Backend: Send + Sync {
    /// A builder for a new bus here, automatic registration off.
    fn builder(&self) -> BusBuilder;
}

impl dyn Backend + '_ {
    /// A bus here running exactly `subscribers`.
    pub(crate) async fn bus_with(&self, subscribers: impl IntoIterator<Item = Subscriber>) -> Bus {
        subscribers
            .into_iter()
            .fold(self.builder(), BusBuilder::subscribe)
            .build()
            .await
            .expect("the bus builds")
    }
}

/// One test per case, each on a fresh `$backend`, under the test attribute given (e.g.
/// `#[tokio::test(start_paused = true)]` where the transport allows a virtual clock).
macro_rules! conformance_suite {
    ($backend:expr, #[$test:meta]) => {
        conformance_suite!(@cases $backend, #[$test];
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
            dead_letters::a_dead_letter_records_what_failed_where_and_when,
            dead_letters::replay_redelivers_to_that_subscriber_only_from_attempt_one,
            dead_letters::a_replay_that_fails_again_makes_a_new_dead_letter,
            dead_letters::discard_removes_a_dead_letter_for_good,
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
        );
    };
    (@cases $backend:expr, #[$test:meta]; $($module:ident :: $case:ident,)*) => {$(
        #[$test]
        async fn $case() {
            let backend = $backend;
            crate::conformance::$module::$case(&backend).await;
        }
    )*};
}
