//! What each client spends on models, for Prometheus.
//!
//! Model calls cost money, and the gateway knows who asked but not what it cost. So
//! both services count, per client and model:
//! - `superstar_model_calls_total`: requests sent to a model (the offline ones too, as
//!   model `offline`), each attempt of a retry included;
//! - `superstar_model_prompt_tokens_total` and `superstar_model_completion_tokens_total`:
//!   the tokens the provider reports in its `usage` (streamed replies ask for it with
//!   `stream_options.include_usage`; a stream cut before its end reports none);
//! - `superstar_images_total`: images painted;
//! - `superstar_model_failures_total`: calls that got no usable answer from the provider
//!   (refused, unreachable, an error status, cut off by the deadline), each attempt of a
//!   retry included: the provider's error rate is this over the calls;
//! - `superstar_model_budget_calls_per_second`: each client's model-call budget (the song
//!   producer's `MODEL_RATE_PER_SECOND`; 0 where no budget is kept), so that a rule can
//!   tell a client near it.
//!
//! The client is the name the gateway authenticated and forwards (the song producer
//! passes it on to the cover designer), so the label values are the gateway's
//! configured clients. A caller holding a certificate could send any name, so the
//! labels are bounded all the same: the first [`MAX_CLIENTS`] names are kept, later
//! ones count as `other`, and a call with no name (a caller beside the gateway) as
//! `direct`.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use opentelemetry::{
    KeyValue,
    trace::{Span as _, SpanKind},
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use crate::serve::telemetry;

/// How many client names get a label of their own.
pub const MAX_CLIENTS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct UsageLabels {
    client: Arc<str>,
    model: Arc<str>,
}

/// Every client's usage. Cheap to clone: clones share the counters.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    calls: Family<UsageLabels, Counter>,
    prompt_tokens: Family<UsageLabels, Counter>,
    completion_tokens: Family<UsageLabels, Counter>,
    images: Family<UsageLabels, Counter>,
    failures: Family<UsageLabels, Counter>,
    budget: Gauge,
    clients: Arc<Mutex<HashSet<Arc<str>>>>,
}

impl Usage {
    /// The usage counters, registered in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let usage = Self::default();
        for (name, help, family) in [
            (
                "superstar_model_calls",
                "Requests sent to a model, per client and model",
                &usage.calls,
            ),
            (
                "superstar_model_prompt_tokens",
                "Prompt tokens the provider reported, per client and model",
                &usage.prompt_tokens,
            ),
            (
                "superstar_model_completion_tokens",
                "Completion tokens (reasoning included) the provider reported, per client and model",
                &usage.completion_tokens,
            ),
            (
                "superstar_images",
                "Images painted, per client and model",
                &usage.images,
            ),
            (
                "superstar_model_failures",
                "Model calls that got no usable answer, per client and model",
                &usage.failures,
            ),
        ] {
            registry.register(name, help, family.clone());
        }
        registry.register(
            "superstar_model_budget_calls_per_second",
            "Each client's model-call budget, calls a second (0: none kept here)",
            usage.budget.clone(),
        );
        usage
    }

    /// Each client may make `per_second` model calls a second (the song producer's
    /// budget), as a gauge for the rules that watch it.
    pub fn set_budget(&self, per_second: u32) {
        self.budget.set(i64::from(per_second));
    }

    /// What `client` (the forwarded name; empty for a direct caller) spends on `model`.
    pub fn meter(&self, client: &str, model: &str) -> Meter {
        Meter {
            usage: self.clone(),
            labels: UsageLabels {
                client: self.client_label(client),
                model: model.into(),
            },
        }
    }

    /// A meter that counts nowhere anyone looks: for code run outside a service (unit
    /// tests of a provider, benches).
    pub fn unwatched() -> Meter {
        Self::default().meter("", "unwatched")
    }

    fn client_label(&self, client: &str) -> Arc<str> {
        if client.is_empty() {
            return "direct".into();
        }
        let mut clients = self
            .clients
            .lock()
            .expect("the client set is never poisoned");
        if let Some(known) = clients.get(client) {
            return Arc::clone(known);
        }
        if clients.len() >= MAX_CLIENTS {
            return "other".into();
        }
        let label: Arc<str> = client.into();
        clients.insert(Arc::clone(&label));
        label
    }
}

/// One client's spending on one model: what a provider records its calls in.
#[derive(Debug, Clone)]
pub struct Meter {
    usage: Usage,
    labels: UsageLabels,
}

/// A model call in flight: its span in the trace (`model <name>`, with the model and
/// the tokens the reply used), which ends when this is dropped. Dropped before
/// [`answered`](Self::answered), the call counts as failed.
pub struct ModelCall {
    span: telemetry::Span,
    failed: Option<Counter>,
}

impl Drop for ModelCall {
    fn drop(&mut self) {
        if let Some(failed) = self.failed.take() {
            failed.inc();
        }
    }
}

impl ModelCall {
    /// The provider answered: the call did not fail, whatever the answer says.
    pub fn answered(&mut self) {
        self.failed = None;
    }

    /// The provider reported `prompt` and `completion` tokens for this call's reply
    /// (recorded on its span; count them with [`Meter::tokens`]).
    pub fn tokens(&mut self, prompt: u64, completion: u64) {
        self.span.set_attributes([
            KeyValue::new("gen_ai.usage.input_tokens", prompt as i64),
            KeyValue::new("gen_ai.usage.output_tokens", completion as i64),
        ]);
    }
}

impl Meter {
    /// A request was sent to the model: counted, and a span for it opened.
    pub fn called(&self) -> ModelCall {
        self.usage.calls.get_or_create(&self.labels).inc();
        let span = telemetry::span(
            format!("model {}", self.labels.model),
            SpanKind::Client,
            vec![
                KeyValue::new("gen_ai.request.model", self.labels.model.to_string()),
                KeyValue::new("superstar.client", self.labels.client.to_string()),
            ],
        );
        ModelCall {
            span,
            failed: Some(self.usage.failures.get_or_create(&self.labels).clone()),
        }
    }

    /// The provider reported `prompt` and `completion` tokens for a reply.
    pub fn tokens(&self, prompt: u64, completion: u64) {
        self.usage
            .prompt_tokens
            .get_or_create(&self.labels)
            .inc_by(prompt);
        self.usage
            .completion_tokens
            .get_or_create(&self.labels)
            .inc_by(completion);
    }

    /// `count` images were painted.
    pub fn painted(&self, count: u64) {
        self.usage.images.get_or_create(&self.labels).inc_by(count);
    }
}
