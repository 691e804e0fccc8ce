//! The one list of URL schemes `tidings` knows beyond `memory://` and `file://`: each line names
//! a scheme, the feature that links its transport crate in, and the transport. Adding a
//! transport to the workspace is adding one line here.

/// For each `"scheme" if "feature" => Transport`: registers `Transport` for `scheme://` when
/// the feature is on, and otherwise the scheme alone, so that a URL of it is refused with the
/// feature to enable rather than as unknown.
macro_rules! schemes {
    ($($scheme:literal if $feature:literal => $transport:ty;)*) => {$(
        #[cfg(feature = $feature)]
        tidings_core::register_scheme!($scheme => $transport);
        #[cfg(not(feature = $feature))]
        tidings_core::__private::inventory::submit! {
            tidings_core::transport::Scheme::not_linked($scheme, $feature)
        }
    )*};
}

schemes! {
    "nats" if "nats" => tidings_nats::NatsTransport;
    "amqp" if "amqp" => tidings_amqp::AmqpTransport;
}
