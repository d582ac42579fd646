//! The song producer's settings print no secret.

use std::{net::SocketAddr, time::Duration};

use song_producer::{budget::BudgetSettings, configuration::*};
use superstar_openai::{OpenAiSettings, Provider};
use superstar_server::{
    serve::host::{Drain, HostSettings, Limits},
    tls::TlsFiles,
};

#[test]
fn settings_print_no_secret() {
    let tls = TlsFiles {
        cert: "certs/song-producer.pem".into(),
        key: "certs/song-producer-key.pem".into(),
        ca: "certs/ca.pem".into(),
    };
    let settings = Settings {
        host: HostSettings {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            metrics_addr: SocketAddr::from(([127, 0, 0, 1], 9101)),
            tls: tls.clone(),
            drain: Drain::default(),
            limits: Limits::default(),
        },
        database_url: "postgres://songs:db-password-0123@db/songs".into(),
        cover_designer: CoverDesignerSettings {
            url: "https://localhost:50052".into(),
            tls,
        },
        song_request: song_producer::lyricist::SongRequest::for_server("https://api.openai.com/v1"),
        provider: Provider::OpenAi(OpenAiSettings::new(
            "sk-openai-key-0123",
            "https://api.openai.com/v1",
            DEFAULT_CHAT_MODEL,
        )),
        offline_typing_delay: Duration::ZERO,
        budget: BudgetSettings::default(),
    };
    let printed = format!("{settings:?}");
    assert!(printed.contains("certs/song-producer.pem"), "{printed}");
    for secret in ["db-password-0123", "sk-openai-key-0123"] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
}
