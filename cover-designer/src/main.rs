//! Runs the cover designer until SIGTERM or Ctrl-C (`--probe`: is it serving?).
//! Settings come from the environment; see `.env.example`.

use std::process::ExitCode;

use cover_designer::{configuration::Settings, startup};

/// mimalloc rather than the C library's allocator: a request allocates and frees many
/// small buffers across threads, where glibc's malloc spent an eighth of the services'
/// CPU under load (docs/benchmark-notes.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    superstar_server::serve::entrypoint::main("cover designer", 9102, |shutdown| async move {
        let application = startup::build(Settings::from_env()?).await?;
        tracing::info!(
            addr = %application.local_addr(),
            metrics = %application.metrics_addr(),
            painter = application.provider(),
            "cover designer serving"
        );
        Ok::<_, startup::StartupError>(application.run_until_stopped(shutdown).await?)
    })
    .await
}
