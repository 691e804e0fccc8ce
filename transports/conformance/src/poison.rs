//! Hostile input a publisher can hand any transport: it costs one refusal or one dead letter,
//! never a worker.

use std::time::{Duration, SystemTime};

use crate::Backend;
use crate::failures::reader;
use crate::{Log, Ping};
use tidings::{Envelope, Error};

/// Years 1970 to 9999 in UTC are what RFC 3339 writes: a `time` outside them could not be
/// written into a dead letter (re-encoding it once killed the worker that settled it), so the
/// publish is refused, and the subscriber goes on with the events after it.
pub async fn a_time_no_reader_could_take_back_is_refused_and_the_edges_are_kept(
    backend: &dyn Backend,
) {
    let handled = Log::default();
    let bus = backend.bus_with([reader(&handled).retries(0)]).await;

    let epoch = SystemTime::UNIX_EPOCH;
    let latest = epoch + Duration::from_millis(253_402_300_799_999);
    for (time, why) in [
        (epoch - Duration::from_secs(3600), "before 1970"),
        (latest + Duration::from_millis(1), "after 9999"),
    ] {
        let mut envelope = Envelope::new("test.ping", b"{not json".to_vec());
        envelope.time = time;
        let error = bus.publish_envelope(envelope).await.unwrap_err();
        assert!(matches!(error, Error::InvalidTime(_)), "{error:?}");
        assert!(error.to_string().contains(why), "{error}");
    }
    // The edges themselves travel, and their dead letters keep them.
    for time in [epoch, latest] {
        let mut envelope = Envelope::new("test.ping", b"{not json".to_vec());
        envelope.time = time;
        bus.publish_envelope(envelope).await.unwrap();
    }
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;

    assert_eq!(handled.items(), vec![1]);
    let dead = bus.dead_letters().list().await.unwrap();
    let mut times: Vec<SystemTime> = dead.iter().map(|letter| letter.envelope.time).collect();
    times.sort();
    assert_eq!(times, vec![epoch, latest]);
    assert!(
        dead.iter().all(|letter| letter.attempts == 1
            && letter
                .error
                .starts_with("cannot decode `test.ping` payload as JSON")),
        "{dead:?}"
    );
    // And they read back through the JSON the CLI and the admin endpoint serve.
    for letter in &dead {
        let json = serde_json::to_value(letter).unwrap();
        let back: tidings::DeadLetter = serde_json::from_value(json).unwrap();
        assert_eq!(back.envelope.time, letter.envelope.time);
    }
}
