//! Dead letters that fit their store: a broker refuses a message above its size limit, and a
//! dead letter refused is an event delivered again for ever. A letter too large keeps the
//! beginning of its payload, with the whole one's size and SHA-256 ([`Truncated`]); past
//! that (an enormous error text), the error is cut too.

use crate::dead_letter::{DeadLetter, Truncated};

/// How much of an error text a letter that does not fit keeps.
const ERROR_KEPT: usize = 4096;

impl DeadLetter {
    /// Cuts the payload until `size` (what the letter takes in its store, as encoded there)
    /// is at most `limit` bytes; returns whether it fits. Leaves a letter that fits untouched.
    pub fn fit(&mut self, limit: usize, size: impl Fn(&DeadLetter) -> usize) -> bool {
        let mut taken = size(self);
        if taken <= limit {
            return true;
        }
        if self.truncated.is_none() {
            self.truncated = Some(Truncated::of(&self.envelope.data));
        }
        // Encodings grow the payload by a factor (base64, escapes): scale it down by what
        // it took, with a margin, a few times over until it fits.
        for _ in 0..8 {
            let kept = self.envelope.data.len();
            if kept == 0 {
                break;
            }
            let scaled = (kept as u128 * limit as u128 / taken.max(1) as u128) as usize;
            let cut = scaled.saturating_sub(scaled / 20 + 64).min(kept - 1);
            self.envelope.data.truncate(cut);
            taken = size(self);
            if taken <= limit {
                return true;
            }
        }
        self.envelope.data.clear();
        if size(self) > limit && self.error.len() > ERROR_KEPT {
            let mut end = ERROR_KEPT;
            while !self.error.is_char_boundary(end) {
                end -= 1;
            }
            self.error.truncate(end);
            self.error.push_str(" […]");
        }
        size(self) <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dead_letter::{DeadLetterId, Envelope};

    fn letter(data: Vec<u8>) -> DeadLetter {
        DeadLetter::new(DeadLetterId::new(), Envelope::new("orders.placed", data))
    }

    fn stored_size(letter: &DeadLetter) -> usize {
        serde_json::to_vec(&crate::wire::StoredLetter::from(letter))
            .unwrap()
            .len()
    }

    #[test]
    fn a_letter_that_fits_is_untouched() {
        let mut small = letter(br#"{"order_id":1}"#.to_vec());
        assert!(small.fit(1 << 20, stored_size));
        assert_eq!(
            (small.truncated, small.envelope.data.as_slice()),
            (None, br#"{"order_id":1}"#.as_slice())
        );
    }

    #[test]
    fn a_large_payload_keeps_its_beginning_size_and_hash() {
        // JSON full of quotes doubles when escaped into the stored envelope string.
        for whole in [
            vec![b'x'; 900_000],
            format!("[{}\"\"]", "\"\",".repeat(300_000)).into(),
        ] {
            let mut large = letter(whole.clone());
            assert!(large.fit(1 << 20, stored_size));
            assert!(stored_size(&large) <= 1 << 20);
            let truncated = large.truncated.clone().unwrap();
            assert_eq!(truncated, Truncated::of(&whole));
            assert_eq!(truncated.size, whole.len() as u64);
            assert_eq!(truncated.sha256.len(), 64);
            assert!(!large.envelope.data.is_empty() && whole.starts_with(&large.envelope.data));
            assert!(large.replayable().is_err());
        }
    }

    #[test]
    fn an_enormous_error_is_cut_too() {
        let mut letter = letter(vec![b'x'; 10]);
        letter.error = "é".repeat(600_000);
        assert!(letter.fit(64 * 1024, stored_size));
        assert!(letter.error.ends_with(" […]"), "{}", letter.error.len());
    }
}
