//! URL schemes and the transports that answer them. `memory://` and `file://` are built in;
//! every other scheme is registered with [`register_scheme!`](crate::register_scheme), by the
//! `tidings` crate's scheme list (one line per transport in this workspace) or by a transport
//! crate of anyone's.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::dynamic::{Connect, Dyn, DynTransport};
use super::memory::{self, LocalTransport};
use super::{AnyTransport, TransportUrl};
use crate::error::Result;

type OpenFn = fn(TransportUrl, usize) -> BoxFuture<'static, Result<Arc<dyn DynTransport>>>;

/// A URL scheme tidings knows, and whether this build can open it. Registered with
/// [`register_scheme!`](crate::register_scheme); read by `Bus::builder().build()`.
#[derive(Debug)]
pub struct Scheme {
    name: &'static str,
    linked: Linked,
}

#[derive(Debug)]
enum Linked {
    Yes(OpenFn),
    /// Known, but its crate is not in this build: enabling `feature` of `tidings` links it.
    No {
        feature: &'static str,
    },
}

impl Scheme {
    /// `name://` URLs open transport `T`.
    pub const fn linked<T: Connect>(name: &'static str) -> Self {
        Scheme {
            name,
            linked: Linked::Yes(open_with::<T>),
        }
    }

    /// `name://` is a transport of `tidings` that this build left out: the error says which
    /// feature brings it in.
    pub const fn not_linked(name: &'static str, feature: &'static str) -> Self {
        Scheme {
            name,
            linked: Linked::No { feature },
        }
    }

    /// The scheme, without `://`.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

fn open_with<T: Connect>(
    url: TransportUrl,
    capacity: usize,
) -> BoxFuture<'static, Result<Arc<dyn DynTransport>>> {
    Box::pin(async move {
        let transport = T::connect(url, capacity).await?;
        Ok(Arc::new(Dyn(transport)) as Arc<dyn DynTransport>)
    })
}

inventory::collect!(Scheme);

/// Registers a transport for a URL scheme: `register_scheme!("mq" => MyTransport);` makes
/// `Bus::builder().url("mq://…")` open `MyTransport` through its [`Connect`] impl, in every
/// program that links the crate this line is in.
///
/// [`Connect`]: crate::transport::Connect
#[macro_export]
macro_rules! register_scheme {
    ($name:literal => $transport:ty) => {
        $crate::__private::inventory::submit! {
            $crate::transport::Scheme::linked::<$transport>($name)
        }
    };
}

/// Opens the transport `url` names.
pub(crate) async fn open(
    url: Option<&str>,
    capacity: usize,
    existing_only: bool,
) -> Result<AnyTransport> {
    let Some(url) = url else {
        return Ok(local(memory::open_memory(None, capacity)));
    };
    let mut parsed = TransportUrl::parse(url)?;
    if existing_only {
        parsed = parsed.existing_only();
    }
    match parsed.scheme() {
        "memory" => {
            let name = memory::parse_name(&parsed)?;
            Ok(local(memory::open_memory(name, capacity)))
        }
        #[cfg(feature = "durable")]
        "file" => {
            let (path, options) = super::durable::parse(&parsed)?;
            if parsed.must_exist() {
                super::durable::check_exists(&parsed, &path)?;
            }
            Ok(local(memory::open_durable(&path, options, capacity)?))
        }
        #[cfg(not(feature = "durable"))]
        "file" => Err(parsed.unsupported(
            "this build has no `file://` transport: enable tidings' `durable` feature",
        )),
        scheme => {
            let known: Vec<&Scheme> = inventory::iter::<Scheme>
                .into_iter()
                .filter(|entry| entry.name == scheme)
                .collect();
            // A transport crate may register a scheme the facade lists without its feature.
            let linked = known
                .iter()
                .find(|entry| matches!(entry.linked, Linked::Yes(_)));
            match linked.or(known.first()).map(|entry| &entry.linked) {
                Some(Linked::Yes(open)) => Ok(AnyTransport::Linked(open(parsed, capacity).await?)),
                Some(Linked::No { feature }) => Err(parsed.unsupported(format!(
                    "this build has no `{scheme}://` transport: enable tidings' `{feature}` feature"
                ))),
                None => Err(parsed.unsupported(format!("expected one of {}", expected()))),
            }
        }
    }
}

fn local(engine: Arc<memory::LocalEngine>) -> AnyTransport {
    AnyTransport::Local(LocalTransport(engine))
}

/// Every scheme this build knows, for an error about one it does not.
fn expected() -> String {
    let mut registered: Vec<&Scheme> = inventory::iter::<Scheme>.into_iter().collect();
    // Registration order is the linker's: sort, so the message is the same on every build.
    registered.sort_by_key(|entry| entry.name);
    registered.dedup_by_key(|entry| entry.name);
    let mut schemes = vec!["`memory://`".to_owned(), "`file://PATH`".to_owned()];
    schemes.extend(registered.iter().map(|entry| match entry.linked {
        Linked::Yes(_) => format!("`{}://`", entry.name),
        Linked::No { feature } => format!("`{}://` (feature `{feature}`)", entry.name),
    }));
    schemes.join(", ")
}
