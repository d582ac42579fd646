//! Building the song producer from its settings, and running it.

use std::sync::Arc;

use secrecy::ExposeSecret;
use superstar_openai::Provider;
use superstar_proto::v1::song_producer_server::SongProducerServer;
use superstar_server::{
    serve::host::{
        Application, HostError, MAX_REQUEST_MESSAGE_BYTES, MAX_RESPONSE_MESSAGE_BYTES, ServiceHost,
    },
    serve::trust::Trust,
    storage::db::{self, DbError},
    storage::idempotency::RequestIds,
    tls::TlsError,
};
use superstar_settings::SettingError;

use crate::{
    budget::ModelBudget,
    configuration::Settings,
    cover_client::CoverClient,
    lyricist::{Lyricist, OfflineLyricist, OpenAiLyricist},
    service::SongProducerService,
    store::{MIGRATIONS, SongStore},
    studio::Studio,
};

/// Why the song producer cannot start or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is unusable.
    #[error(transparent)]
    Config(#[from] SettingError),
    /// The client certificate for the cover designer is unusable.
    #[error("cover designer client: {0}")]
    ClientTls(#[from] TlsError),
    /// The database is unusable.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The server cannot listen or failed.
    #[error(transparent)]
    Host(#[from] HostError),
}

/// Who may call the song producer, by the name in their certificate (see
/// [`superstar_server::serve::trust`]): the gateway alone.
pub const TRUST: Trust = Trust {
    callers: &[(superstar_proto::SONG_PRODUCER, &["envoy"])],
};

/// Connects and migrates the database, sets up the cover designer client, picks the
/// lyricist and binds the listeners: a song producer ready to serve.
pub async fn build(settings: Settings) -> Result<Application, StartupError> {
    let targets = settings.cover_designer.targets()?;
    let tls = settings
        .cover_designer
        .tls
        .client_config(&targets[0].host)?;
    let covers = CoverClient::new(targets, tls);
    let database = db::connect(settings.database_url.expose_secret(), &MIGRATIONS).await?;
    let lyricist: Arc<dyn Lyricist> = match settings.provider {
        Provider::Offline => Arc::new(OfflineLyricist::with_typing_delay(
            settings.offline_typing_delay,
        )),
        Provider::OpenAi(openai) => Arc::new(OpenAiLyricist::new(openai, settings.song_request)),
    };
    let lyricist_model = lyricist.model().to_owned();
    // Replicas share PostgreSQL, and so each client's budget; SQLite is one process's.
    let budget = if settings
        .database_url
        .expose_secret()
        .starts_with("postgres")
    {
        ModelBudget::shared(settings.budget, database.clone())
    } else {
        ModelBudget::new(settings.budget)
    };
    let host = ServiceHost::bind(&settings.host, TRUST).await?;
    host.usage().set_budget(settings.budget.per_second.get());
    let studio = Studio::new(
        lyricist,
        SongStore::new(database.clone()),
        RequestIds::new(database),
        covers,
        budget,
        host.usage(),
    );
    let host = host.add_service(
        SongProducerServer::new(SongProducerService::new(studio))
            .max_decoding_message_size(MAX_REQUEST_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_RESPONSE_MESSAGE_BYTES),
    );
    Ok(Application::new(host, lyricist_model))
}
