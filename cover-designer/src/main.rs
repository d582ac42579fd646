//! Runs the cover designer until SIGTERM or Ctrl-C. Settings come from the
//! environment; see `.env.example`.

use std::process::ExitCode;

use cover_designer::{configuration::Settings, startup::Application};
use superstar_runtime::{shutdown::Shutdown, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    let result = async {
        let application = Application::build(Settings::from_env()?).await?;
        tracing::info!(
            addr = %application.local_addr(),
            metrics = %application.metrics_addr(),
            painter = application.painter_model(),
            "cover designer serving"
        );
        application.run_until_stopped(Shutdown::on_signals()).await
    };
    match result.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "cover designer stopped");
            ExitCode::FAILURE
        }
    }
}
