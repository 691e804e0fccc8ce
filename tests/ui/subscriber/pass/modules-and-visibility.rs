#![deny(warnings)]

mod events {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, Serialize, Deserialize, tidings::Event)]
    pub struct Ping;
}

pub mod handlers {
    use super::events::Ping;

    /// A public subscriber stays an ordinary function too: it can still be called directly.
    #[tidings::subscriber(name = "public")]
    pub async fn public(_: &Ping) {}

    pub(crate) mod nested {
        #[tidings::subscriber]
        pub(crate) async fn r#in_nested(_: std::sync::Arc<crate::events::Ping>) {}
    }

    /// Compiled out with its registration: a build that uses it would fail to find it.
    #[cfg(any())]
    #[tidings::subscriber]
    async fn compiled_out(_: &Ping) {}
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        handlers::public(&events::Ping).await;
        let bus = tidings::Bus::builder().build().await.unwrap();
        bus.publish(events::Ping).await.unwrap();
        bus.wait_idle().await;
        let stats = bus.stats();
        let mut names: Vec<_> = stats
            .subscribers
            .iter()
            .map(|stats| (stats.name.as_str(), stats.handled))
            .collect();
        names.sort_unstable();
        assert_eq!(names, [("in_nested", 1), ("public", 1)]);
        bus.shutdown().await.unwrap();
    });
}
