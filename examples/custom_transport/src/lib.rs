//! `twin://NAME`: a transport for tidings written outside the core, on its public transport
//! API only (`tidings_core::transport`), as a walkthrough of how to write one. See README.md.
//!
//! It is an in-process engine of its own: every bus of this process that names the same NAME
//! shares it, a bounded queue per subscriber that the workers of every bus running that
//! subscriber compete for. Linking this crate is all it takes to make the scheme known:
//!
//! ```text
//! extern crate tidings_example_custom_transport as _;
//! let bus = tidings::Bus::builder().url("twin://orders").build().await?;
//! ```
//!
//! | file | its one job |
//! |---|---|
//! | `transport.rs` | the [`Transport`](tidings_core::transport::Transport) and [`Connect`](tidings_core::transport::Connect) impls: URL, publish (fan-out), dead-letter operations, tail, idle, close |
//! | `consumer.rs` | the [`Consumer`](tidings_core::transport::Consumer): fetch, and settle each outcome |
//! | `queue.rs` | one subscriber's bounded queue: backpressure, competing workers, retries, per-key lanes |
//! | `engine.rs` | the engine a NAME opens: its queues, dead letters and tails |
//! | `dead_letters.rs` | dead letters kept with their delivery, for replay |
//! | `idle.rs` | when nothing is unfinished, for `wait_idle` |

mod consumer;
mod dead_letters;
mod engine;
mod idle;
mod queue;
mod transport;

pub use consumer::TwinConsumer;
pub use transport::TwinTransport;

tidings_core::register_scheme!("twin" => TwinTransport);
