"""Where tidings puts an event on each broker: the one place the clients take names from.

Mirrors the Rust side, which is the authority: `runtime/src/transport/nats/names.rs` and
`runtime/src/transport/amqp/topology.rs`. If those change, change this file.
"""

# Partitions an event subject carries on NATS (per-key order holds within one).
PARTITIONS = 16

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def partition(subject):
    """The partition of an event whose CloudEvents `subject` (its key, as text) is `subject`:
    FNV-1a (64 bit) of the key's text modulo 16; 0 for an event without a key."""
    if subject is None:
        return 0
    hash_ = FNV_OFFSET
    for byte in subject.encode("utf-8"):
        hash_ = ((hash_ ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return hash_ % PARTITIONS


# NATS JetStream: one stream per namespace; the partition comes before the event name, so that
# `{ns}.events.*.{name}` matches one name exactly although names contain dots.


def nats_stream(namespace):
    return f"{namespace}-events"


def nats_subject(namespace, event_type, subject):
    return f"{namespace}.events.{partition(subject)}.{event_type}"


def nats_filter(namespace, event_type):
    return f"{namespace}.events.*.{event_type}"


# RabbitMQ: one durable direct exchange per event (topology.rs), routed by the partition key
# `p{n}`: a subscriber's queue is bound under every partition's key (an ordered subscriber's
# partition queues under one each), and so is a reader's.
AMQP_EXCHANGE_KIND = "direct"  # used only by a reader that finds no exchange yet


def amqp_exchange(namespace, event_type):
    return f"{namespace}/event/{event_type}"


def amqp_routing_key(subject):
    return f"p{partition(subject)}"


AMQP_BINDING_KEYS = [f"p{n}" for n in range(PARTITIONS)]
