//! Runs the whole back end for a test: the cover designer and the song producer, each
//! on a random port, each with its own database, speaking mutual TLS with certificates
//! from a throw-away CA, exactly as they run in production minus Envoy.
//!
//! Tests get gRPC clients that hold a client certificate, as Envoy does, and talk to
//! the services only over the network.

use std::{net::SocketAddr, time::Duration};

use song_producer::{
    budget::BudgetSettings,
    configuration::{CoverDesignerSettings, Settings as SongProducerSettings},
    lyricist::SongRequest,
};
use sqlx::{AnyConnection, Connection};
use superstar_openai::Provider;
use superstar_proto::v1::{
    cover_designer_client::CoverDesignerClient, song_producer_client::SongProducerClient,
};
use superstar_server::{
    serve::host::{Application, Drain, HostSettings, Limits},
    serve::shutdown::Shutdown,
    tls::TlsFiles,
};
use superstar_testkit::{
    TestCa, channel,
    openai::{self, CHAT_MODEL, IMAGE_MODEL},
    scratch_postgres, wait_until_serving,
};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// Which database engine the services use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file per service in a temporary folder.
    Sqlite,
    /// A scratch PostgreSQL database per service.
    Postgres,
}

/// A service running in this process.
pub struct Running {
    /// Its gRPC address.
    pub addr: SocketAddr,
    /// Its metrics address.
    pub metrics_addr: SocketAddr,
    shutdown: Shutdown,
    task: JoinHandle<()>,
}

impl Running {
    /// Triggers the shutdown without waiting for it.
    pub fn trigger_shutdown(&self) {
        self.shutdown.trigger();
    }

    /// Stops the service and waits until it has.
    pub async fn stop(self) {
        self.shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the service stops within 10 s")
            .expect("the service task does not panic");
    }
}

/// Both services and clients for them. See the [crate documentation](crate).
pub struct TestSystem {
    /// The CA every certificate comes from.
    pub ca: TestCa,
    /// The certificate the test's clients present (as Envoy presents its own).
    pub client_tls: TlsFiles,
    /// A song producer client over mTLS.
    pub songs: SongProducerClient<Channel>,
    /// A cover designer client over mTLS.
    pub covers: CoverDesignerClient<Channel>,
    /// The running song producer.
    pub song_producer: Running,
    /// The running cover designer (`None` once stopped by a test).
    pub cover_designer: Option<Running>,
    databases: Databases,
    setup: Setup,
    _folder: TempDir,
}

/// How a test system is set up. `Setup::default()` is what [`TestSystem::start`] runs:
/// offline providers, SQLite, no drain grace, the hosts' default limits, and model
/// budgets too large to get in the way of tests about something else.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The database engine.
    pub backend: Backend,
    /// How the services stop.
    pub drain: Drain,
    /// What the hosts take on at once.
    pub limits: Limits,
    /// Each client's model-call budget in the song producer.
    pub budget: BudgetSettings,
    /// The offline lyricist's pause before each piece of text.
    pub typing_delay: Duration,
    /// Who writes and who paints.
    pub providers: Providers,
}

impl Default for Setup {
    fn default() -> Self {
        let plenty = std::num::NonZeroU32::new(100_000).expect("not zero");
        Self {
            backend: Backend::Sqlite,
            drain: TEST_DRAIN,
            limits: Limits::default(),
            budget: BudgetSettings {
                per_second: plenty,
                burst: plenty,
            },
            typing_delay: Duration::ZERO,
            providers: Providers::offline(),
        }
    }
}

/// Who writes and who paints.
#[derive(Debug, Clone)]
pub struct Providers {
    /// The song producer's lyricist.
    pub lyrics: Provider,
    /// The cover designer's painter.
    pub covers: Provider,
}

impl Providers {
    /// Both offline.
    pub fn offline() -> Self {
        Self {
            lyrics: Provider::Offline,
            covers: Provider::Offline,
        }
    }
}

/// How the tests' services drain: no grace (nothing watches their health), 8 s for
/// in-flight calls.
const TEST_DRAIN: Drain = Drain {
    grace: Duration::ZERO,
    timeout: Duration::from_secs(8),
};

struct Databases {
    song_producer: String,
    cover_designer: String,
}

impl TestSystem {
    /// Starts both services on SQLite.
    pub async fn start() -> Self {
        Self::start_on(Backend::Sqlite).await
    }

    /// Starts both services on `backend`.
    pub async fn start_on(backend: Backend) -> Self {
        Self::start_with(Setup {
            backend,
            ..Setup::default()
        })
        .await
    }

    /// Starts both services with `grace` between NOT_SERVING and closing.
    pub async fn start_with_grace(grace: Duration) -> Self {
        Self::start_with(Setup {
            drain: Drain {
                grace,
                ..TEST_DRAIN
            },
            ..Setup::default()
        })
        .await
    }

    /// Starts both services on SQLite with the OpenAI providers, pointed at `base_url`
    /// (a wiremock server's `/v1`) with the key `api_key` and the test models
    /// ([`CHAT_MODEL`], [`IMAGE_MODEL`]), retrying quickly (3 attempts).
    pub async fn start_with_openai(base_url: &str, api_key: &str) -> Self {
        let openai = |model| Provider::OpenAi(openai::settings(base_url, api_key, model, 3));
        let providers = Providers {
            lyrics: openai(CHAT_MODEL),
            covers: openai(IMAGE_MODEL),
        };
        Self::start_with(Setup {
            providers,
            ..Setup::default()
        })
        .await
    }

    /// Starts both services as `setup` says.
    pub async fn start_with(setup: Setup) -> Self {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let databases = match setup.backend {
            Backend::Sqlite => Databases {
                song_producer: format!(
                    "sqlite://{}",
                    folder.path().join("song-producer.db").display()
                ),
                cover_designer: format!(
                    "sqlite://{}",
                    folder.path().join("cover-designer.db").display()
                ),
            },
            Backend::Postgres => Databases {
                song_producer: scratch_postgres().await,
                cover_designer: scratch_postgres().await,
            },
        };
        let ca = TestCa::new("Superstar test CA");
        Self::boot(ca, databases, setup, folder).await
    }

    async fn boot(ca: TestCa, databases: Databases, setup: Setup, folder: TempDir) -> Self {
        let cover_designer = start_cover_designer(&ca, &databases.cover_designer, &setup).await;
        let song_producer =
            start_song_producer(&ca, &databases.song_producer, cover_designer.addr, &setup).await;
        // The tests call the services as the gateway does, with a certificate named
        // `envoy` (certs/envoy-client.pem's name).
        let client_tls = ca.issue("envoy");
        let songs_channel = connect(song_producer.addr, &ca, &client_tls).await;
        let covers_channel = connect(cover_designer.addr, &ca, &client_tls).await;
        wait_until_serving(songs_channel.clone(), superstar_proto::SONG_PRODUCER).await;
        wait_until_serving(covers_channel.clone(), superstar_proto::COVER_DESIGNER).await;
        Self {
            ca,
            client_tls,
            songs: SongProducerClient::new(songs_channel),
            covers: CoverDesignerClient::new(covers_channel),
            song_producer,
            cover_designer: Some(cover_designer),
            databases,
            setup,
            _folder: folder,
        }
    }

    /// Stops both services and starts them again on the same databases and CA.
    pub async fn restart(self) -> Self {
        let Self {
            ca,
            song_producer,
            cover_designer,
            databases,
            setup,
            _folder,
            ..
        } = self;
        song_producer.stop().await;
        if let Some(cover_designer) = cover_designer {
            cover_designer.stop().await;
        }
        Self::boot(ca, databases, setup, _folder).await
    }

    /// Stops the cover designer, so the song producer cannot reach it.
    pub async fn stop_cover_designer(&mut self) {
        if let Some(cover_designer) = self.cover_designer.take() {
            cover_designer.stop().await;
        }
    }

    /// A new mTLS channel to `addr` with the test's client certificate, for clients the
    /// system does not hold (health, reflection).
    pub async fn channel_to(&self, addr: SocketAddr) -> Channel {
        connect(addr, &self.ca, &self.client_tls).await
    }

    /// A channel to `addr` presenting the song producer's own certificate (the one it
    /// serves and calls the cover designer with), for what only it may call.
    pub async fn channel_as_song_producer(&self, addr: SocketAddr) -> Channel {
        connect(addr, &self.ca, &self.ca.files("song-producer")).await
    }

    /// Starts one more song producer on the same databases and cover designer: a
    /// replica, as `--scale` makes one. Returns it and a client of it.
    pub async fn another_song_producer(&self) -> (Running, SongProducerClient<Channel>) {
        let replica = start_song_producer(
            &self.ca,
            &self.databases.song_producer,
            self.cover_designer_addr(),
            &self.setup,
        )
        .await;
        let channel = connect(replica.addr, &self.ca, &self.client_tls).await;
        wait_until_serving(channel.clone(), superstar_proto::SONG_PRODUCER).await;
        (replica, SongProducerClient::new(channel))
    }

    /// How many rows `table` of the song producer's database holds.
    pub async fn song_producer_rows(&self, table: &str) -> i64 {
        count_rows(&self.databases.song_producer, table).await
    }

    /// How many rows `table` of the cover designer's database holds.
    pub async fn cover_designer_rows(&self, table: &str) -> i64 {
        count_rows(&self.databases.cover_designer, table).await
    }

    /// Runs `sql` on the song producer's database, as an operator would (a test that
    /// breaks the database on purpose).
    pub async fn song_producer_sql(&self, sql: &str) {
        let mut connection = open(&self.databases.song_producer).await;
        sqlx::raw_sql(sql)
            .execute(&mut connection)
            .await
            .expect("the SQL runs");
    }

    /// A connection of the test's own to the song producer's database.
    pub async fn song_producer_connection(&self) -> AnyConnection {
        open(&self.databases.song_producer).await
    }

    /// The cover designer's gRPC address.
    pub fn cover_designer_addr(&self) -> SocketAddr {
        self.cover_designer
            .as_ref()
            .expect("the cover designer runs")
            .addr
    }
}

async fn open(url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(url)
        .await
        .expect("the test reaches the database")
}

async fn count_rows(url: &str, table: &str) -> i64 {
    let mut connection = open(url).await;
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut connection)
        .await
        .expect("the table can be counted")
}

async fn connect(addr: SocketAddr, ca: &TestCa, client: &TlsFiles) -> Channel {
    channel(addr, ca.ca_path(), Some(client))
        .await
        .expect("a mTLS connection")
}

fn host_settings(ca: &TestCa, name: &str, setup: &Setup) -> HostSettings {
    HostSettings {
        listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        metrics_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        tls: ca.issue(name),
        drain: setup.drain,
        limits: setup.limits,
    }
}

async fn start_cover_designer(ca: &TestCa, database_url: &str, setup: &Setup) -> Running {
    let settings = cover_designer::configuration::Settings {
        host: host_settings(ca, "cover-designer", setup),
        database_url: database_url.into(),
        provider: setup.providers.covers.clone(),
    };
    let application = cover_designer::startup::build(settings).await;
    run(application.expect("the cover designer starts"))
}

async fn start_song_producer(
    ca: &TestCa,
    database_url: &str,
    covers: SocketAddr,
    setup: &Setup,
) -> Running {
    // One certificate for the song producer, named `song-producer`, serving and calling
    // the cover designer: the cover designer trusts the name, as it trusts
    // certs/song-producer-client.pem's.
    let host = host_settings(ca, "song-producer", setup);
    let settings = SongProducerSettings {
        cover_designer: CoverDesignerSettings {
            url: format!("https://localhost:{}", covers.port()),
            tls: host.tls.clone(),
        },
        host,
        database_url: database_url.into(),
        song_request: match &setup.providers.lyrics {
            Provider::OpenAi(openai) => SongRequest::for_server(&openai.base_url),
            Provider::Offline => SongRequest::default(),
        },
        provider: setup.providers.lyrics.clone(),
        offline_typing_delay: setup.typing_delay,
        budget: setup.budget,
    };
    let application = song_producer::startup::build(settings).await;
    run(application.expect("the song producer starts"))
}

/// Runs a built service in a task of this runtime.
fn run(application: Application) -> Running {
    let (addr, metrics_addr) = (application.local_addr(), application.metrics_addr());
    let shutdown = Shutdown::new();
    let serve = application.run_until_stopped(shutdown.clone());
    let task = tokio::spawn(async move {
        if let Err(error) = serve.await {
            panic!("the service failed: {error}");
        }
    });
    Running {
        addr,
        metrics_addr,
        shutdown,
        task,
    }
}

/// `GET path` over plain HTTP/1.0, returning the body: enough for `/metrics`.
pub async fn http_get(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the metrics port answers");
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .expect("the request is sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("a response");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_owned()
}

/// The value of the sample of `metric` whose labels contain every one of `labels`
/// (0 when there is none yet).
pub fn sample(metrics: &str, metric: &str, labels: &[&str]) -> f64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(metric) && labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
