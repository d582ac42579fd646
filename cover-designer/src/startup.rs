//! Building the cover designer from its settings, and running it.

use std::{net::SocketAddr, sync::Arc};

use superstar_proto::v1::cover_designer_server::CoverDesignerServer;
use superstar_runtime::{
    config::ConfigError,
    db::{self, DbError},
    host::{HostError, ServiceHost},
    shutdown::Shutdown,
};

use crate::{
    configuration::Settings,
    painter::{OfflinePainter, Painter},
    service::CoverDesignerService,
    store::{CoverStore, MIGRATIONS},
};

/// Why the cover designer cannot start or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database is unusable.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The server cannot listen or failed.
    #[error(transparent)]
    Host(#[from] HostError),
}

/// A cover designer whose listeners are bound and database migrated, ready to serve.
pub struct Application {
    host: ServiceHost,
    painter_model: String,
}

impl Application {
    /// Connects and migrates the database, picks the painter and binds the listeners.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let pool = db::connect(&settings.database_url, &MIGRATIONS).await?;
        let painter: Arc<dyn Painter> = Arc::new(OfflinePainter::default());
        let painter_model = painter.model().to_owned();
        let service = CoverDesignerService::new(painter, CoverStore::new(pool));
        let host = ServiceHost::bind(&settings.host)
            .await?
            .add_service(CoverDesignerServer::new(service));
        Ok(Self {
            host,
            painter_model,
        })
    }

    /// The gRPC address.
    pub fn local_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    /// The Prometheus address.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.host.metrics_addr()
    }

    /// Which painter paints (`offline` or a model name).
    pub fn painter_model(&self) -> &str {
        &self.painter_model
    }

    /// Serves until `shutdown`, then drains.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> Result<(), StartupError> {
        Ok(self.host.serve(shutdown).await?)
    }
}
