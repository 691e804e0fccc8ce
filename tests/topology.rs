//! `bus.topology()` and its AsyncAPI document, on the order demo's own events and subscribers
//! (its modules compiled in here as they are), the fixtures of `topology/fixtures.rs` (every
//! payload shape the derive describes, every subscriber option, a hand-written event) and the
//! cross-crate fixture `my_handlers`. The document is validated against the official AsyncAPI
//! 3.0.0 JSON Schema, vendored in `fixtures/asyncapi/`.

extern crate my_handlers as _;

// The order demo's events and subscribers, unchanged: they name each other as `crate::events`.
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/order_demo/events.rs"]
mod events;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/order_demo/logistics.rs"]
mod logistics;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/order_demo/notify.rs"]
mod notify;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/order_demo/payment.rs"]
mod payment;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/order_demo/stock.rs"]
mod stock;

mod topology {
    pub(crate) mod fixtures;
}

use serde_json::{Value, json};
use tidings::Bus;

/// Events of other test crates that may be linked in; not part of this topology.
fn ours(name: &str) -> bool {
    !name.starts_with("test.")
}

fn names(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

/// The bus the tests read: the stock and carriers groups run here, the others are only linked.
/// Each field's wire name, Rust type and whether it is required.
fn fields(event: &tidings::EventInfo) -> Vec<(&str, &str, bool)> {
    event
        .fields
        .iter()
        .map(|field| {
            (
                field.name.as_str(),
                field.rust_type.as_str(),
                field.required,
            )
        })
        .collect()
}

async fn bus() -> Bus {
    Bus::builder()
        .groups(["stock", "carriers"])
        .state(stock::Inventory::stocked(&["apple"], 1))
        .source("order-demo")
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn lists_every_event_linked_into_the_binary_with_its_fields() {
    let bus = bus().await;
    let topology = bus.topology();
    let events: Vec<(&str, u32)> = topology
        .events
        .iter()
        .filter(|event| ours(&event.name))
        .map(|event| (event.name.as_str(), event.version))
        .collect();
    assert_eq!(
        events,
        [
            ("billing.invoice_issued", 1),
            ("fixture.audited", 1),
            ("fixture.changed", 1),
            ("fixture.heartbeat", 1),
            ("fixture.inside_a_function", 1),
            ("fixture.legacy", 3),
            ("fixture.shipped", 1),
            ("fixture.shipped", 2),
            ("fixture.speed", 1),
            ("fixture.tree_grown", 1),
            ("logistics.shipped", 1),
            ("orders.placed", 1),
            ("payments.captured", 1),
            ("stock.reserved", 1),
        ]
    );

    let placed = topology.event("orders.placed").unwrap();
    assert_eq!(placed.rust_type, "topology::events::OrderPlaced");
    assert_eq!(placed.key.as_deref(), Some("order_id"));
    assert_eq!(
        placed.description.as_deref(),
        Some("A customer placed an order (published by the order service).")
    );
    assert!(
        placed
            .declared_at
            .as_deref()
            .unwrap()
            .starts_with("tests/../examples/order_demo/events.rs:"),
        "{:?}",
        placed.declared_at
    );
    assert_eq!(
        fields(placed),
        [
            ("order_id", "u64", true),
            ("customer_phone", "String", true),
            ("sku", "String", true),
            ("qty", "u32", true),
            ("amount_cents", "u64", true),
        ]
    );

    // serde's renames, skipped and optional fields, as the payload travels.
    let shipped = topology
        .events
        .iter()
        .find(|event| event.name == "fixture.shipped" && event.version == 2)
        .unwrap();
    assert_eq!(
        fields(shipped),
        [
            ("orderId", "u64", true),
            ("carrier", "String", true),
            ("note", "Option<String>", false),
            ("labels", "BTreeMap<String, u8>", false),
            ("parcel", "Parcel", true),
        ]
    );
    assert_eq!(shipped.key.as_deref(), Some("orderId"));
    assert_eq!(
        shipped.description.as_deref(),
        Some("A parcel left the warehouse.\n\nCarriers read it.")
    );

    let legacy = topology.event("fixture.legacy").unwrap();
    assert_eq!(
        (
            legacy.declared_at.as_deref(),
            legacy.fields.len(),
            legacy.key.as_deref()
        ),
        (None, 0, None),
        "a hand-written event is known only from its subscriber"
    );
    bus.shutdown().await.unwrap();
}

#[test]
fn an_event_declared_inside_a_function_is_declared_too() {
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, tidings::Event)]
    #[event(name = "fixture.inside_a_function")]
    struct Local {
        n: u8,
    }
    let topology = Bus::builder().manual().topology().unwrap();
    let local = topology.event("fixture.inside_a_function").unwrap();
    assert_eq!(
        (local.rust_type.as_str(), local.fields[0].name.as_str()),
        (
            "topology::an_event_declared_inside_a_function_is_declared_too::Local",
            "n"
        )
    );
}

#[tokio::test]
async fn payload_schemas_follow_the_field_types_and_serde_attributes() {
    let bus = bus().await;
    let topology = bus.topology();
    let schema = |name: &str, version: u32| {
        topology
            .events
            .iter()
            .find(|event| event.name == name && event.version == version)
            .unwrap()
            .payload_schema
            .clone()
    };
    assert_eq!(
        schema("fixture.shipped", 2),
        json!({
            "type": "object",
            "properties": {
                "orderId": {
                    "type": "integer", "minimum": 0, "maximum": u64::MAX,
                    "description": "The order it belongs to.", "x-rust-type": "u64"
                },
                "carrier": { "type": "string", "x-rust-type": "String" },
                "note": { "type": ["string", "null"], "x-rust-type": "Option<String>" },
                "labels": {
                    "type": "object",
                    "additionalProperties": { "type": "integer", "minimum": 0, "maximum": 255 },
                    "x-rust-type": "BTreeMap<String, u8>"
                },
                "parcel": { "x-rust-type": "Parcel" }
            },
            "required": ["orderId", "carrier", "parcel"],
            "additionalProperties": false
        })
    );
    assert_eq!(
        schema("fixture.speed", 1),
        json!({ "type": "string", "enum": ["standard", "next-day", "same_day"] })
    );
    assert_eq!(
        schema("fixture.heartbeat", 1),
        json!({ "type": "integer", "minimum": 0, "maximum": u64::MAX, "x-rust-type": "u64" })
    );
    assert_eq!(
        schema("fixture.changed", 1),
        json!({ "description": "any JSON: tidings does not describe an enum with data" })
    );
    assert_eq!(
        schema("fixture.audited", 1),
        json!({
            "type": "object",
            "properties": {
                "who": { "type": "string", "x-rust-type": "String" },
                "type": { "type": "string", "x-rust-type": "String" },
                "amount": {
                    "description": "Written by its own function, so its schema is not `u64`'s.",
                    "x-rust-type": "u64"
                }
            },
            "required": ["who", "type", "amount"]
        }),
        "a flattened field's properties are unknown, so the object stays open"
    );
    assert_eq!(
        schema("fixture.tree_grown", 1)["properties"]["next"],
        json!({ "x-rust-type": "Option<Box<Self>>" })
    );
    bus.shutdown().await.unwrap();
}

#[tokio::test]
async fn lists_every_subscriber_with_its_options_and_whether_this_bus_runs_it() {
    let bus = bus().await;
    let topology = bus.topology();
    let subscribers: Vec<(&str, &str, &str, bool)> = topology
        .subscribers
        .iter()
        .map(|s| (s.group.as_str(), s.name.as_str(), s.event.as_str(), s.runs))
        .collect();
    assert_eq!(
        subscribers,
        [
            ("audit", "audit", "billing.invoice_issued", false),
            ("billing", "record_invoice", "billing.invoice_issued", false),
            ("bridge", "legacy_bridge", "fixture.legacy", false),
            ("carriers", "archive_old_shipment", "fixture.shipped", true),
            ("carriers", "book_carrier", "fixture.shipped", true),
            ("logistics", "ship_order", "stock.reserved", false),
            ("notify", "sms_order_received", "orders.placed", false),
            ("notify", "sms_order_shipped", "logistics.shipped", false),
            ("payment", "capture_payment", "orders.placed", false),
            ("stock", "reserve_stock", "orders.placed", true),
        ]
    );
    let carrier = topology.subscriber("book_carrier").unwrap();
    assert_eq!(carrier.event_type, "topology::topology::fixtures::Shipped");
    assert_eq!(
        serde_json::to_value(carrier).unwrap(),
        json!({
            "name": "book_carrier",
            "group": "carriers",
            "event": "fixture.shipped",
            "event_type": "topology::topology::fixtures::Shipped",
            "retries": 6,
            "backoff": "fixed(250ms)",
            "timeout": "1m",
            "concurrency": 2,
            "ordered": true,
            "rate": "10/250ms",
            "declared_at": carrier.declared_at,
            "runs": true,
        })
    );
    assert!(
        carrier
            .declared_at
            .starts_with("tests/topology/fixtures.rs:"),
        "{}",
        carrier.declared_at
    );
    let stock = topology.subscriber("reserve_stock").unwrap();
    assert_eq!(
        (
            stock.retries,
            stock.backoff.to_string(),
            stock.timeout.as_secs(),
            stock.concurrency,
            stock.ordered,
            stock.rate
        ),
        (4, "exponential(20ms, 1s)".to_owned(), 2, 16, false, None)
    );
    let sms = topology.subscriber("sms_order_received").unwrap();
    assert_eq!(sms.rate.unwrap().to_string(), "2500/s");
    assert_eq!(
        topology
            .subscriber("legacy_bridge")
            .unwrap()
            .backoff
            .to_string(),
        "none"
    );
    let of_placed: Vec<&str> = topology
        .subscribers_of("orders.placed")
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        of_placed,
        ["sms_order_received", "capture_payment", "reserve_stock"]
    );

    let groups: Vec<(&str, Vec<&str>, Vec<&str>, bool)> = topology
        .groups
        .iter()
        .map(|g| {
            (
                g.name.as_str(),
                names(&g.subscribers),
                names(&g.events),
                g.runs,
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            (
                "audit",
                vec!["audit"],
                vec!["billing.invoice_issued"],
                false
            ),
            (
                "billing",
                vec!["record_invoice"],
                vec!["billing.invoice_issued"],
                false
            ),
            (
                "bridge",
                vec!["legacy_bridge"],
                vec!["fixture.legacy"],
                false
            ),
            (
                "carriers",
                vec!["archive_old_shipment", "book_carrier"],
                vec!["fixture.shipped"],
                true
            ),
            (
                "logistics",
                vec!["ship_order"],
                vec!["stock.reserved"],
                false
            ),
            (
                "notify",
                vec!["sms_order_received", "sms_order_shipped"],
                vec!["logistics.shipped", "orders.placed"],
                false
            ),
            (
                "payment",
                vec!["capture_payment"],
                vec!["orders.placed"],
                false
            ),
            ("stock", vec!["reserve_stock"], vec!["orders.placed"], true),
        ]
    );
    assert_eq!(
        (
            topology.transport.as_str(),
            topology.url.as_str(),
            topology.source.as_str()
        ),
        ("memory", "memory://", "order-demo")
    );
    bus.shutdown().await.unwrap();
}

#[tokio::test]
async fn subscribers_given_to_the_builder_are_listed_and_run() {
    let bus = Bus::builder()
        .manual()
        .subscribe(
            tidings::Subscriber::new(
                "inline_audit",
                |_: std::sync::Arc<events::OrderPlaced>| async {},
            )
            .group("audit-inline"),
        )
        .build()
        .await
        .unwrap();
    let topology = bus.topology();
    let running: Vec<&str> = topology
        .subscribers
        .iter()
        .filter(|s| s.runs)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        running,
        ["inline_audit"],
        "manual() runs only what it is given"
    );
    assert!(topology.group("audit-inline").unwrap().runs);
    assert!(!topology.subscriber("reserve_stock").unwrap().runs);
    bus.shutdown().await.unwrap();
}

#[test]
fn a_builder_describes_the_bus_it_would_start_without_connecting() {
    let builder = Bus::builder()
        .url("amqp://user:secret@broker.invalid:5672/orders?timeout=5s")
        .source("notify-service")
        .groups(["notify"]);
    let topology = builder.topology().unwrap();
    let running: Vec<&str> = topology
        .subscribers
        .iter()
        .filter(|s| s.runs)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(running, ["sms_order_received", "sms_order_shipped"]);
    assert_eq!(
        (topology.transport.as_str(), topology.url.as_str()),
        ("amqp", "amqp://broker.invalid:5672/orders")
    );
    let document = topology.to_asyncapi();
    assert_valid_asyncapi(&document);
    assert_eq!(
        document["servers"],
        json!({ "amqp": {
            "host": "broker.invalid:5672",
            "protocol": "amqp",
            "protocolVersion": "0-9-1",
            "pathname": "/orders"
        } })
    );
    assert!(
        !document.to_string().contains("secret"),
        "no credentials in the document"
    );
    let placed = &document["channels"]["orders.placed"]["messages"]["OrderPlaced"];
    assert_eq!(
        placed["correlationId"]["location"], "$message.header#/cloudEvents:correlationid",
        "RabbitMQ carries CloudEvents attributes as `cloudEvents:` headers"
    );

    let error = Bus::builder().groups(["notfy"]).topology().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no subscriber is in group `notfy`"),
        "{error}"
    );
}

#[tokio::test]
async fn prints_as_tables() {
    let bus = bus().await;
    let table = bus.topology().to_string();
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .collect()
        })
        .collect();
    // The first row that starts with these cells.
    let row = |start: &[&str]| -> Vec<&str> {
        rows.iter()
            .find(|row| row.starts_with(start))
            .unwrap_or_else(|| panic!("no row {start:?} in\n{table}"))
            .clone()
    };
    assert!(
        table.starts_with("transport: memory://  (source `order-demo`)\n"),
        "{table}"
    );
    let book = row(&["book_carrier"]);
    assert_eq!(
        book[..10],
        [
            "book_carrier",
            "carriers",
            "fixture.shipped",
            "6",
            "fixed(250ms)",
            "1m",
            "2",
            "yes",
            "10/250ms",
            "yes"
        ]
    );
    let placed = row(&["orders.placed"]);
    assert_eq!(
        placed[..4],
        [
            "orders.placed",
            "1",
            "topology::events::OrderPlaced",
            "order_id"
        ]
    );
    assert_eq!(
        placed[5],
        "order_id: u64, customer_phone: String, sku: String, qty: u32, amount_cents: u64"
    );
    assert_eq!(row(&["fixture.legacy"])[4..], ["(not derived)", "-"]);
    assert_eq!(
        row(&["fixture.shipped", "2"])[5],
        "orderId: u64, carrier: String, note: Option<String>?, labels: BTreeMap<String, u8>?, parcel: Parcel"
    );
    assert_eq!(
        row(&["fixture.audited"])[5],
        "who: String, type: String, amount: u64, ..extra: HashMap<String, String>"
    );
    let notify = row(&["notify"]);
    assert_eq!(
        notify,
        [
            "notify",
            "sms_order_received, sms_order_shipped",
            "logistics.shipped, orders.placed",
            "no"
        ]
    );
    bus.shutdown().await.unwrap();
}

/// The official AsyncAPI 3.0.0 schema, compiled.
fn asyncapi_validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/asyncapi/asyncapi-3.0.0.schema.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft7::new(&schema).unwrap()
}

/// Every error of `document` against the AsyncAPI schema, as `path: message`.
fn schema_errors(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}

/// Every `$ref` of `document` that does not point into it: the schema cannot see those.
fn dangling_refs(document: &Value) -> Vec<String> {
    fn walk(node: &Value, document: &Value, dangling: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref")
                    && reference
                        .strip_prefix('#')
                        .is_none_or(|pointer| document.pointer(pointer).is_none())
                {
                    dangling.push(reference.clone());
                }
                map.values()
                    .for_each(|value| walk(value, document, dangling));
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, document, dangling)),
            _ => {}
        }
    }
    let mut dangling = Vec::new();
    walk(document, document, &mut dangling);
    dangling
}

fn assert_valid_asyncapi(document: &Value) {
    let errors = schema_errors(&asyncapi_validator(), document);
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
    assert_eq!(dangling_refs(document), Vec::<String>::new());
}

#[tokio::test]
async fn the_asyncapi_document_is_valid_asyncapi_3() {
    let bus = bus().await;
    let document = bus.topology().to_asyncapi();
    assert_valid_asyncapi(&document);
    bus.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_asyncapi_document_has_a_channel_per_event_and_an_operation_per_subscriber() {
    let bus = bus().await;
    let topology = bus.topology();
    let document = topology.to_asyncapi();
    assert_eq!(document["asyncapi"], "3.0.0");
    assert_eq!(document["info"]["title"], "order-demo");
    assert!(document.get("servers").is_none(), "memory:// is no server");

    let channels = document["channels"].as_object().unwrap();
    let names: Vec<&str> = channels
        .keys()
        .map(String::as_str)
        .filter(|n| ours(n))
        .collect();
    let mut expected: Vec<&str> = topology
        .events
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| ours(n))
        .collect();
    expected.dedup();
    assert_eq!(names, expected);
    for (name, channel) in channels {
        assert_eq!(channel["address"], name.as_str());
    }
    let shipped = &channels["fixture.shipped"]["messages"];
    assert_eq!(
        shipped.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["Shipped", "ShippedV1"],
        "one message per version"
    );
    let placed = &channels["orders.placed"]["messages"]["OrderPlaced"];
    assert_eq!(
        placed["payload"],
        topology.event("orders.placed").unwrap().payload_schema
    );
    assert_eq!(
        (
            &placed["x-tidings"]["rust_type"],
            &placed["x-tidings"]["key"]
        ),
        (&json!("topology::events::OrderPlaced"), &json!("order_id"))
    );
    assert_eq!(placed["contentType"], "application/json");
    assert_eq!(
        placed["headers"]["properties"]["ce-type"]["const"],
        "orders.placed"
    );
    assert_eq!(
        placed["headers"]["required"],
        json!([
            "ce-specversion",
            "ce-id",
            "ce-type",
            "ce-source",
            "ce-time",
            "ce-version"
        ])
    );
    assert_eq!(
        placed["correlationId"]["location"],
        "$message.header#/ce-correlationid"
    );
    assert_eq!(
        placed["summary"],
        "A customer placed an order (published by the order service)."
    );
    assert!(
        placed.get("description").is_none(),
        "a one-line doc is the summary only"
    );
    let shipped_v2 = &channels["fixture.shipped"]["messages"]["Shipped"];
    assert_eq!(
        (&shipped_v2["summary"], &shipped_v2["description"]),
        (
            &json!("A parcel left the warehouse."),
            &json!("A parcel left the warehouse.\n\nCarriers read it.")
        )
    );

    let operations = document["operations"].as_object().unwrap();
    let sends = operations
        .values()
        .filter(|op| op["action"] == "send")
        .count();
    let receives = operations
        .values()
        .filter(|op| op["action"] == "receive")
        .count();
    assert_eq!(sends, channels.len());
    assert_eq!(receives, topology.subscribers.len());
    assert_eq!(
        operations["send.fixture.shipped"],
        json!({
            "action": "send",
            "title": "Publish fixture.shipped",
            "channel": { "$ref": "#/channels/fixture.shipped" },
            "messages": [
                { "$ref": "#/channels/fixture.shipped/messages/ShippedV1" },
                { "$ref": "#/channels/fixture.shipped/messages/Shipped" }
            ]
        })
    );
    let archive = &operations["receive.archive_old_shipment"];
    assert_eq!(
        archive["channel"],
        json!({ "$ref": "#/channels/fixture.shipped" })
    );
    assert_eq!(
        archive["messages"],
        json!([{ "$ref": "#/channels/fixture.shipped/messages/ShippedV1" }]),
        "a subscriber receives the version its type is"
    );
    let stock = &operations["receive.reserve_stock"]["x-tidings"];
    assert_eq!(
        (
            &stock["group"],
            &stock["retries"],
            &stock["backoff"],
            &stock["timeout"],
            &stock["runs"]
        ),
        (
            &json!("stock"),
            &json!(4),
            &json!("exponential(20ms, 1s)"),
            &json!("2s"),
            &json!(true)
        )
    );
    bus.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_document_that_breaks_the_asyncapi_schema_is_rejected() {
    let bus = bus().await;
    let document = bus.topology().to_asyncapi();
    let validator = asyncapi_validator();
    assert!(validator.is_valid(&document));

    let broken = |change: fn(&mut Value)| {
        let mut broken = document.clone();
        change(&mut broken);
        schema_errors(&validator, &broken)
    };
    let errors = broken(|doc| doc["asyncapi"] = json!("2.6.0"));
    assert!(
        errors.iter().any(|e| e.starts_with("/asyncapi: ")),
        "{errors:#?}"
    );
    let errors = broken(|doc| {
        doc["operations"]["receive.reserve_stock"]
            .as_object_mut()
            .unwrap()
            .remove("action");
    });
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/operations/receive.reserve_stock")),
        "{errors:#?}"
    );
    let errors = broken(|doc| doc["channels"]["orders.placed"]["address"] = json!(42));
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/channels/orders.placed")),
        "{errors:#?}"
    );
    let errors = broken(|doc| doc["info"]["version"] = json!(1));
    assert!(errors.iter().any(|e| e.starts_with("/info")), "{errors:#?}");

    // What the schema cannot see, the reference check does.
    let mut dangling = document.clone();
    dangling["operations"]["send.orders.placed"]["channel"]["$ref"] =
        json!("#/channels/orders.placd");
    assert_eq!(dangling_refs(&dangling), ["#/channels/orders.placd"]);
    bus.shutdown().await.unwrap();
}

/// On a broker the document names it as the server, without the credentials of the URL, and
/// the headers carry that broker's CloudEvents prefix.
#[cfg(feature = "nats")]
#[tokio::test]
async fn on_nats_the_server_is_the_broker() {
    let bus = Bus::builder()
        .url("nats://127.0.0.1:4222?namespace=topology_test")
        .manual()
        .build()
        .await
        .unwrap();
    let document = bus.topology().to_asyncapi();
    assert_valid_asyncapi(&document);
    assert_eq!(
        document["servers"],
        json!({ "nats": { "host": "127.0.0.1:4222", "protocol": "nats" } })
    );
    assert_eq!(document["x-tidings"]["url"], "nats://127.0.0.1:4222");
    let placed = &document["channels"]["orders.placed"]["messages"]["OrderPlaced"];
    assert_eq!(placed["headers"]["properties"]["ce-id"]["format"], "uuid");
    bus.shutdown().await.unwrap();
}

#[cfg(feature = "amqp")]
#[tokio::test]
async fn on_rabbitmq_the_server_is_the_broker_without_credentials() {
    let bus = Bus::builder()
        .url("amqp://guest:guest@127.0.0.1:5672/%2f?namespace=topology_test")
        .manual()
        .build()
        .await
        .unwrap();
    let topology = bus.topology();
    assert_eq!(topology.url, "amqp://127.0.0.1:5672/%2f");
    let document = topology.to_asyncapi();
    assert_valid_asyncapi(&document);
    assert_eq!(
        document["servers"],
        json!({ "amqp": {
            "host": "127.0.0.1:5672",
            "protocol": "amqp",
            "protocolVersion": "0-9-1",
            "pathname": "/%2f"
        } })
    );
    assert!(
        !document.to_string().contains("guest"),
        "no credentials in the document"
    );
    let placed = &document["channels"]["orders.placed"]["messages"]["OrderPlaced"];
    assert_eq!(
        placed["correlationId"]["location"],
        "$message.header#/cloudEvents:correlationid"
    );
    assert_eq!(
        placed["headers"]["properties"]["cloudEvents:type"]["const"],
        "orders.placed"
    );
    bus.shutdown().await.unwrap();
}
