//! The service an example talks to: Globus itself when a token is set, or
//! an embedded emulator seeded with demo data.

use globus_groups::hyper_client::{GroupsClient, HyperClientBuilder, client_from_env};
use groups_emulator::Emulator;
use groups_emulator::world::Seed;

/// The environment variable holding a Globus access token for Groups.
pub(crate) const TOKEN_VAR: &str = "GLOBUS_GROUPS_TOKEN";
/// The demo user's token in the embedded emulator.
pub(crate) const DEMO_TOKEN: &str = "demo-token-ada";

/// The token from [`TOKEN_VAR`]: `None` when unset or blank.
pub(crate) fn token_from_env() -> Result<Option<String>, String> {
    match std::env::var(TOKEN_VAR) {
        Ok(t) if !t.trim().is_empty() => Ok(Some(t.trim().to_owned())),
        Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{TOKEN_VAR} is not valid UTF-8")),
    }
}

/// The service this run talks to: the real one, or an emulator we own.
pub(crate) struct Backend {
    pub(crate) client: GroupsClient,
    emulator: Option<Emulator>,
}

impl Backend {
    /// With a token, the service the environment names; without one, an
    /// embedded emulator loaded with `seed` (described as `demo` when
    /// announced), signed in as the demo user.
    pub(crate) async fn connect(
        token: Option<String>,
        app_name: &str,
        demo: &str,
        seed: impl FnOnce() -> Result<Seed, String>,
    ) -> Result<Backend, String> {
        if let Some(token) = token {
            let client = client_from_env(token)
                .map_err(|e| format!("cannot set up the Groups client: {e}"))?;
            println!(
                "Using the Globus Groups service at {} (token from {TOKEN_VAR}).",
                client.config().base_url()
            );
            return Ok(Backend {
                client,
                emulator: None,
            });
        }
        let emulator = Emulator::start()
            .await
            .map_err(|e| format!("cannot start the embedded emulator: {e}"))?;
        println!(
            "{TOKEN_VAR} is not set: using the embedded Groups emulator at {} with {demo}, signed in as ada@uni.example.org.",
            emulator.base_url()
        );
        let client = seed()
            .and_then(|seed| emulator.load_seed(seed).map_err(|e| e.to_string()))
            .and_then(|()| {
                HyperClientBuilder::new()
                    .base_url(emulator.base_url())
                    .allow_plain_http_loopback(true)
                    .app_name(app_name)
                    .build_with_token(DEMO_TOKEN)
                    .map_err(|e| e.to_string())
            });
        match client {
            Ok(client) => Ok(Backend {
                client,
                emulator: Some(emulator),
            }),
            Err(e) => {
                let _ = emulator.shutdown().await;
                Err(format!("cannot set up the demo: {e}"))
            }
        }
    }

    /// Stop the emulator, if this run started one.
    pub(crate) async fn shutdown(self) {
        if let Some(emulator) = self.emulator
            && let Err(e) = emulator.shutdown().await
        {
            eprintln!("warning: the emulator did not shut down cleanly: {e}");
        }
    }
}
