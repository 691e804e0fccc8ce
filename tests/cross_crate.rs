//! Subscribers defined in another crate (`tests/fixtures/my_handlers`) register themselves once
//! that crate is linked; this binary names none of them.

extern crate my_handlers as _;

use serde::{Deserialize, Serialize};
use tidings::prelude::*;
use tidings::{Envelope, Error};

fn invoice(customer: &str, amount: u64) -> Envelope {
    Envelope::new(
        "billing.invoice_issued",
        format!(r#"{{"customer":"{customer}","amount":{amount}}}"#),
    )
}

#[tokio::test]
async fn subscribers_of_a_linked_crate_run_without_being_named() {
    let bus = Bus::builder()
        .groups(["billing", "audit"])
        .build()
        .await
        .unwrap();
    for amount in [100, 0, 250] {
        bus.publish_envelope(invoice("acme", amount)).await.unwrap();
    }
    bus.wait_idle().await;

    let stats = bus.stats();
    let recorded = stats
        .subscriber("record_invoice")
        .expect("found in my_handlers");
    assert_eq!(
        (
            recorded.group.as_str(),
            recorded.handled,
            recorded.dead_lettered
        ),
        ("billing", 2, 1)
    );
    assert_eq!(
        stats
            .subscriber("audit")
            .expect("found in my_handlers")
            .handled,
        3
    );
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].error, "an invoice of zero is not an invoice");
    bus.shutdown().await.unwrap();
}

#[tokio::test]
async fn manual_runs_only_the_subscribers_it_names() {
    let bus = Bus::builder()
        .manual()
        .subscribe_registered("audit")
        .build()
        .await
        .unwrap();
    bus.publish_envelope(invoice("acme", 5)).await.unwrap();
    bus.wait_idle().await;
    let names: Vec<String> = bus
        .stats()
        .subscribers
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, vec!["audit".to_owned()]);

    let error = Bus::builder()
        .manual()
        .subscribe_registered("adit")
        .build()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no #[subscriber] is named `adit`; registered: "),
        "{error}"
    );
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "local.note")]
struct Note {
    text: String,
}

/// Clashes on purpose with `my_handlers`' subscriber called `audit`.
#[subscriber(name = "audit", group = "clash")]
async fn local_audit(note: &Note) {
    assert!(!note.text.is_empty());
}

#[tokio::test]
async fn duplicate_names_across_crates_fail_build_naming_both_places() {
    let error = Bus::builder()
        .groups(["audit", "clash"])
        .build()
        .await
        .unwrap_err();
    let Error::Build(problems) = &error else {
        panic!("expected a build error, got {error}")
    };
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let problem = &problems[0];
    assert!(
        problem.starts_with("two subscribers are named `audit`: "),
        "{problem}"
    );
    assert!(problem.contains("my_handlers/src/lib.rs:"), "{problem}");
    assert!(problem.contains("cross_crate.rs:"), "{problem}");
    assert!(
        problem.ends_with("rename one with `#[subscriber(name = \"..\")]`"),
        "{problem}"
    );
}
