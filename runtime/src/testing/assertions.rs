//! Assertions on a [`TestBus`] whose failure messages say what was expected and what happened.
//! Call them after [`TestBus::settle`].

use std::fmt::Debug;

use super::history::{Ending, n_attempts};
use super::{Counts, TestBus};
use crate::event::{Event, EventId};

impl TestBus {
    /// Asserts that the `E`s the bus accepted are exactly `expected`, in order (see
    /// [`published`](Self::published)).
    ///
    /// # Panics
    /// Otherwise, showing both lists.
    #[track_caller]
    pub fn assert_published<E: Event + Clone + PartialEq + Debug>(&self, expected: &[E]) {
        let actual = self.published::<E>();
        assert!(
            actual == expected,
            "expected exactly these `{}` events to be published:\n{expected:#?}\nbut these were:\n{actual:#?}",
            E::NAME
        );
    }

    /// Asserts that `subscriber` handled event `event` on attempt `attempt` (1: at the first
    /// try).
    ///
    /// # Panics
    /// Otherwise, saying how it went instead.
    #[track_caller]
    pub fn assert_handled(&self, subscriber: &str, event: EventId, attempt: u32) {
        let trail = self.trail(subscriber, event);
        let ending = trail.ending();
        assert!(
            ending == Ending::Handled { attempt },
            "expected subscriber `{subscriber}` to handle event {event} on attempt {attempt}, \
             but it {ending}"
        );
    }

    /// Asserts that `subscriber` dead-lettered event `event` after `attempts` attempts (its
    /// `retries` plus one, unless the failure was permanent).
    ///
    /// # Panics
    /// Otherwise, saying how it went instead.
    #[track_caller]
    pub fn assert_dead_lettered(&self, subscriber: &str, event: EventId, attempts: u32) {
        let trail = self.trail(subscriber, event);
        let ending = trail.ending();
        assert!(
            matches!(ending, Ending::DeadLettered { attempt, .. } if attempt == attempts),
            "expected subscriber `{subscriber}` to dead-letter event {event} after {}, but it \
             {ending}",
            n_attempts(attempts)
        );
    }

    /// Asserts how `subscriber`'s attempts ended, over every event (see
    /// [`counts`](Self::counts)).
    ///
    /// # Panics
    /// Otherwise, showing both counts.
    #[track_caller]
    pub fn assert_counts(&self, subscriber: &str, expected: Counts) {
        let actual = self.counts(subscriber);
        assert!(
            actual == expected,
            "expected subscriber `{subscriber}` to have {expected}, but it has {actual}"
        );
    }
}
