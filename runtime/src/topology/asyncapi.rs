//! A [`Topology`] as an AsyncAPI 3.0.0 document.
//!
//! Channels are event names (the address every transport routes by); each holds one message per
//! Rust type of that name (versions), its payload the type's JSON Schema and its headers the
//! CloudEvents attributes as the transport writes them in binary mode. The application sends
//! every event it declares and receives through each subscriber; the subscriber's delivery
//! options travel as the `x-tidings` extension, which AsyncAPI has no fields for.

use serde_json::{Map, Value, json};

use super::{EventInfo, SubscriberInfo, Topology, url};
use crate::wire::binary;

pub(super) fn document(topology: &Topology) -> Value {
    let prefix = header_prefix(&topology.transport);
    let mut channels = Map::new();
    let mut operations = Map::new();
    // Where each event type's message is, for the operations to point at.
    let mut message_refs: Vec<(&EventInfo, String)> = Vec::new();
    for versions in topology.events.chunk_by(|a, b| a.name == b.name) {
        let name = &versions[0].name;
        let channel_ref = format!("#/channels/{}", pointer_escape(name));
        let mut messages = Map::new();
        for event in versions {
            let id = unique_key(&messages, type_ident(&event.rust_type));
            message_refs.push((
                event,
                format!("{channel_ref}/messages/{}", pointer_escape(&id)),
            ));
            messages.insert(id, message(event, prefix));
        }
        let sent: Vec<Value> = message_refs[message_refs.len() - versions.len()..]
            .iter()
            .map(|(_, reference)| json!({ "$ref": reference }))
            .collect();
        channels.insert(
            name.clone(),
            json!({
                "address": name,
                "title": name,
                "messages": messages,
            }),
        );
        let id = unique_key(&operations, format!("send.{name}"));
        operations.insert(
            id,
            json!({
                "action": "send",
                "title": format!("Publish {name}"),
                "channel": { "$ref": channel_ref },
                "messages": sent,
            }),
        );
    }
    for subscriber in &topology.subscribers {
        let id = unique_key(&operations, format!("receive.{}", subscriber.name));
        operations.insert(id, receive(subscriber, &message_refs));
    }
    let mut document = json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": topology.source,
            "version": "0.0.0",
            "description": format!(
                "The events and subscribers linked into `{}`, as tidings found them at start-up.",
                topology.source
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "x-tidings": { "transport": topology.transport, "url": topology.url },
    });
    if let Some((host, path)) = url::server(&topology.url) {
        let mut server = json!({ "host": host, "protocol": topology.transport });
        if !path.is_empty() && path != "/" {
            server["pathname"] = path.into();
        }
        if topology.transport == "amqp" {
            server["protocolVersion"] = "0-9-1".into();
        }
        document["servers"] = json!({ topology.transport.clone(): server });
    }
    document
}

fn message(event: &EventInfo, prefix: &str) -> Value {
    let mut message = json!({
        "name": event.name,
        "title": format!("{} v{}", event.name, event.version),
        "contentType": "application/json",
        "headers": headers(event, prefix),
        "payload": event.payload_schema,
        "correlationId": {
            "description": "The id of the first event of the causal chain; events published from a handler carry it forward.",
            "location": format!("$message.header#/{}", pointer_escape(&format!("{prefix}correlationid"))),
        },
        // Named as in the topology's own JSON.
        "x-tidings": {
            "version": event.version,
            "rust_type": event.rust_type,
            "key": event.key,
            "declared_at": event.declared_at,
        },
    });
    if let Some(description) = &event.description {
        // The first line sums it up; the rest, if any, is the description.
        let (summary, more) = description.split_once('\n').unwrap_or((description, ""));
        message["summary"] = summary.into();
        if !more.trim().is_empty() {
            message["description"] = description.as_str().into();
        }
    }
    message
}

/// The CloudEvents 1.0 attributes of `wire::binary`, one header each.
fn headers(event: &EventInfo, prefix: &str) -> Value {
    let uuid = |description: &str| json!({ "type": "string", "format": "uuid", "description": description });
    let subject = match (&event.key, &event.declared_at) {
        (Some(key), _) => format!("The ordering key: the payload's `{key}`."),
        (None, Some(_)) => "The ordering key; this event has none.".to_owned(),
        // A hand-written `impl Event`: its key is not declared anywhere.
        (None, None) => "The ordering key, if the event has one.".to_owned(),
    };
    let attributes = [
        (
            "specversion",
            json!({ "type": "string", "const": "1.0" }),
            true,
        ),
        ("id", uuid("The event's id, a UUIDv7."), true),
        (
            "type",
            json!({ "type": "string", "const": event.name }),
            true,
        ),
        (
            "source",
            json!({ "type": "string", "description": "The publishing bus's source." }),
            true,
        ),
        (
            "time",
            json!({ "type": "string", "format": "date-time" }),
            true,
        ),
        (
            "subject",
            json!({ "type": "string", "description": subject }),
            false,
        ),
        (
            "version",
            json!({ "type": "string", "const": event.version.to_string(), "description": "The payload's schema version." }),
            true,
        ),
        (
            "correlationid",
            uuid("The first event of the causal chain."),
            false,
        ),
        (
            "causationid",
            uuid("The event whose handler published this one."),
            false,
        ),
        (
            "traceparent",
            json!({ "type": "string", "description": "W3C trace context of the publish." }),
            false,
        ),
    ];
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (attribute, schema, always) in attributes {
        let header = format!("{prefix}{attribute}");
        if always {
            required.push(Value::from(header.as_str()));
        }
        properties.insert(header, schema);
    }
    json!({
        "type": "object",
        "description": format!("CloudEvents 1.0 attributes in binary mode (`{prefix}` headers); other headers are the event's own."),
        "properties": properties,
        "required": required,
    })
}

fn receive(subscriber: &SubscriberInfo, message_refs: &[(&EventInfo, String)]) -> Value {
    let (event, message) = message_refs
        .iter()
        .find(|(event, _)| event.rust_type == subscriber.event_type)
        .expect("every subscriber's event is in the topology");
    let channel = message
        .split_once("/messages/")
        .map_or(message.as_str(), |(channel, _)| channel);
    json!({
        "action": "receive",
        "title": subscriber.name,
        "summary": format!("Group `{}` handles {} v{}.", subscriber.group, event.name, event.version),
        "channel": { "$ref": channel },
        "messages": [{ "$ref": message }],
        "x-tidings": subscriber,
    })
}

/// The prefix the transport gives CloudEvents headers (known whether or not its feature is on,
/// so that `BusBuilder::topology` describes any URL).
fn header_prefix(transport: &str) -> &'static str {
    match transport {
        "amqp" => binary::AMQP_PREFIX,
        // The in-process transports have no headers: CloudEvents' own binary-mode prefix.
        _ => binary::NATS_PREFIX,
    }
}

/// `order_demo::events::OrderPlaced` → `OrderPlaced`.
fn type_ident(rust_type: &str) -> String {
    let path = rust_type.split('<').next().unwrap_or(rust_type);
    path.rsplit("::").next().unwrap_or(path).to_owned()
}

/// `key`, or `key-2`, `key-3`… if `map` has it already.
fn unique_key(map: &Map<String, Value>, key: String) -> String {
    if !map.contains_key(&key) {
        return key;
    }
    (2..)
        .map(|n| format!("{key}-{n}"))
        .find(|candidate| !map.contains_key(candidate))
        .expect("a free key")
}

/// Escapes a key for a JSON pointer (RFC 6901) inside a `$ref`.
fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::binary::ATTRIBUTES;

    #[test]
    fn headers_are_the_attributes_the_wire_writes() {
        let event = EventInfo {
            name: "orders.placed".to_owned(),
            version: 2,
            rust_type: "shop::OrderPlaced".to_owned(),
            key: Some("order_id".to_owned()),
            fields: Vec::new(),
            description: None,
            declared_at: None,
            payload_schema: json!({}),
        };
        let headers = headers(&event, "cloudEvents:");
        let described: Vec<&str> = headers["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(|header| header.strip_prefix("cloudEvents:").unwrap())
            .collect();
        let mut written = ATTRIBUTES.to_vec();
        let mut described_sorted = described.clone();
        written.sort_unstable();
        described_sorted.sort_unstable();
        assert_eq!(described_sorted, written);
        assert_eq!(headers["properties"]["cloudEvents:version"]["const"], "2");
    }

    #[test]
    fn keys_and_pointers() {
        assert_eq!(type_ident("a::b::OrderPlaced"), "OrderPlaced");
        assert_eq!(type_ident("a::Wrapper<b::C>"), "Wrapper");
        let mut map = Map::new();
        map.insert("send.x".to_owned(), Value::Null);
        map.insert("send.x-2".to_owned(), Value::Null);
        assert_eq!(unique_key(&map, "send.x".to_owned()), "send.x-3");
        assert_eq!(pointer_escape("a/b~c"), "a~1b~0c");
    }
}
