//! Building the cover designer from its settings, and running it.

use std::sync::Arc;

use secrecy::ExposeSecret;
use superstar_openai::Provider;
use superstar_proto::v1::{
    cover_designer_internal_server::CoverDesignerInternalServer,
    cover_designer_server::CoverDesignerServer,
};
use superstar_server::{
    serve::host::{
        Application, HostError, MAX_REQUEST_MESSAGE_BYTES, MAX_RESPONSE_MESSAGE_BYTES, ServiceHost,
    },
    serve::trust::Trust,
    storage::db::{self, DbError},
    storage::idempotency::RequestIds,
};
use superstar_settings::SettingError;

use crate::{
    configuration::Settings,
    painter::{OfflinePainter, OpenAiPainter, Painter},
    service::{CoverDesignerInternalService, CoverDesignerService},
    store::{CoverStore, MIGRATIONS},
};

/// Why the cover designer cannot start or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is unusable.
    #[error(transparent)]
    Config(#[from] SettingError),
    /// The database is unusable.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The server cannot listen or failed.
    #[error(transparent)]
    Host(#[from] HostError),
}

/// Who may call the cover designer, by the name in their certificate (see
/// [`superstar_server::serve::trust`]): the gateway, for covers clients order and read,
/// and the song producer, for albums' covers; only the song producer may withdraw an
/// album's order.
pub const TRUST: Trust = Trust {
    callers: &[
        (superstar_proto::COVER_DESIGNER, &["envoy", "song-producer"]),
        (superstar_proto::COVER_DESIGNER_INTERNAL, &["song-producer"]),
    ],
};

/// Connects and migrates the database, picks the painter and binds the listeners:
/// a cover designer ready to serve.
pub async fn build(settings: Settings) -> Result<Application, StartupError> {
    let database = db::connect(settings.database_url.expose_secret(), &MIGRATIONS).await?;
    let painter: Arc<dyn Painter> = match settings.provider {
        Provider::Offline => Arc::new(OfflinePainter::default()),
        Provider::OpenAi(openai) => Arc::new(OpenAiPainter::new(openai)),
    };
    let model = painter.model().to_owned();
    let store = CoverStore::new(database.clone());
    let host = ServiceHost::bind(&settings.host, TRUST).await?;
    let service = CoverDesignerService::new(
        painter,
        store.clone(),
        RequestIds::new(database),
        host.usage(),
    );
    let host = host
        .add_service(
            CoverDesignerServer::new(service)
                .max_decoding_message_size(MAX_REQUEST_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_RESPONSE_MESSAGE_BYTES),
        )
        .add_service(CoverDesignerInternalServer::new(
            CoverDesignerInternalService::new(store),
        ));
    Ok(Application::new(host, model))
}
