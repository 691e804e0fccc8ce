//! An AMQP message as the consumer receives it: a header table whose values may have any AMQP
//! type (an id sent as an integer, a nested table, bytes that are not UTF-8), a content type
//! and a body.
#![no_main]

use arbitrary::Arbitrary;
use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldArray, FieldTable, LongString, ShortString};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Value {
    Text(Vec<u8>),
    Short(String),
    Integer(i64),
    Small(i8),
    Unsigned(u32),
    Boolean(bool),
    Float(f64),
    Timestamp(u64),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    Table(Vec<(String, Value)>),
    Void,
}

#[derive(Arbitrary, Debug)]
struct Message {
    headers: Option<Vec<(String, Value)>>,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// AMQP short strings hold at most 255 bytes; lapin panics on longer ones, so the client would
/// never have handed one over.
fn short(text: &str) -> ShortString {
    let mut end = text.len().min(255);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    ShortString::from(text[..end].to_owned())
}

fn table(pairs: Vec<(String, Value)>) -> FieldTable {
    let mut table = FieldTable::default();
    for (name, value) in pairs {
        table.insert(short(&name), amqp(value));
    }
    table
}

fn amqp(value: Value) -> AMQPValue {
    match value {
        Value::Text(bytes) => AMQPValue::LongString(LongString::from(bytes)),
        Value::Short(text) => AMQPValue::ShortString(short(&text)),
        Value::Integer(n) => AMQPValue::LongLongInt(n),
        Value::Small(n) => AMQPValue::ShortShortInt(n),
        Value::Unsigned(n) => AMQPValue::LongUInt(n),
        Value::Boolean(b) => AMQPValue::Boolean(b),
        Value::Float(f) => AMQPValue::Double(f),
        Value::Timestamp(t) => AMQPValue::Timestamp(t),
        Value::Bytes(bytes) => AMQPValue::ByteArray(bytes.into()),
        Value::Array(values) => AMQPValue::FieldArray(FieldArray::from(
            values.into_iter().map(amqp).collect::<Vec<_>>(),
        )),
        Value::Table(pairs) => AMQPValue::FieldTable(table(pairs)),
        Value::Void => AMQPValue::Void,
    }
}

fuzz_target!(|message: Message| {
    let mut properties = BasicProperties::default();
    if let Some(headers) = message.headers {
        properties = properties.with_headers(table(headers));
    }
    if let Some(content_type) = &message.content_type {
        properties = properties.with_content_type(short(content_type));
    }
    if let Ok(envelope) =
        tidings_amqp::fuzzing::read_envelope(&properties, &message.body, "fuzz.fallback")
    {
        tidings_fuzz::check_round_trips(&envelope);
    }
});
