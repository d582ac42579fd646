//! Log lines captured in memory, to check what a test's code logged (and what it
//! must never log).

use std::{
    io,
    sync::{Arc, Mutex, PoisonError},
};

use tracing::subscriber::DefaultGuard;

/// Everything logged on this thread, at debug and above, as the services' JSON lines,
/// while the guard [`start`](Self::start) returned is alive. With a current-thread
/// runtime (`#[tokio::test]`'s default) that is everything the test's futures log.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Starts capturing.
    ///
    /// tracing caches, per call site and for the whole process, whether any subscriber
    /// wants its events; a site first reached on a thread with no subscriber (another
    /// test's, in the same test binary) is cached as wanted by none, and this thread's
    /// subscriber would then never see it. A global subscriber that wants everything
    /// (a bare registry, which writes nothing) keeps every site asked each time.
    pub fn start() -> (Self, DefaultGuard) {
        static WANT_EVERYTHING: std::sync::Once = std::sync::Once::new();
        WANT_EVERYTHING.call_once(|| {
            // Fails only when a global subscriber is set already: this binary's own.
            let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
        });
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        // Sites cached before this subscriber existed are asked again.
        tracing::callsite::rebuild_interest_cache();
        (logs, guard)
    }

    /// What was logged so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
