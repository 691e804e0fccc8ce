//! Stands in for the durable transport when the `durable` feature is off: a journal that cannot
//! exist, so every journal branch of the engine is statically dead.

use std::sync::Arc;
use std::time::SystemTime;

use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::error::Result;
use crate::letter_summary::DeadLetterSummary;
use crate::wire::StoredLetter;

pub(crate) enum Journal {}

impl Journal {
    pub(crate) async fn append(&self, _: Vec<u8>, _: Vec<Arc<str>>) -> Result<u64> {
        match *self {}
    }

    pub(crate) async fn append_reviving(
        &self,
        _: Vec<u8>,
        _: Vec<Arc<str>>,
        _: Option<[u8; 16]>,
    ) -> Result<u64> {
        match *self {}
    }

    pub(crate) fn acked(&self, _: &Arc<str>, _: u64) {
        match *self {}
    }

    pub(crate) fn retrying(&self, _: &Arc<str>, _: u64, _: u32, _: SystemTime, _: SystemTime) {
        match *self {}
    }

    pub(crate) fn dead_lettered(
        &self,
        _: &Arc<str>,
        _: u64,
        _: [u8; 16],
        _: StoredLetter,
        _: DeadLetterSummary,
    ) {
        match *self {}
    }

    pub(crate) async fn read_dead_letter(&self, _: DeadLetterId) -> Result<Option<DeadLetter>> {
        match *self {}
    }

    pub(crate) fn discarded(&self, _: [u8; 16]) {
        match *self {}
    }

    pub(crate) fn hold_clock_on_writes(&self) {
        match *self {}
    }

    pub(crate) async fn close(&self) -> Result<()> {
        match *self {}
    }
}
