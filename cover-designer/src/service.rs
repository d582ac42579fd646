//! The `superstar.v1.CoverDesigner` handlers (parse, paint or look up, answer) and the
//! internal `CoverDesignerInternal` the song producer withdraws its orders with.

use std::sync::Arc;

use superstar_proto::{
    google::api::HttpBody,
    v1::{
        Cover, DesignCoverRequest, GetCoverImageRequest, GetCoverRequest, WithdrawCoverRequest,
        cover_designer_internal_server::CoverDesignerInternal,
        cover_designer_server::CoverDesigner,
    },
};
use superstar_server::{
    calls::call_context::CallContext,
    serve::request_fields::{InvalidField, resource_id},
    serve::usage::Usage,
    storage::idempotency::{Begun, Claim, RequestId, RequestIds, RequestKey},
};
use tonic::{Request, Response, Status};

use crate::{domain::CoverBrief, error::Error, painter::Painter, store::CoverStore};

/// The cover designer's gRPC service.
pub struct CoverDesignerService {
    painter: Arc<dyn Painter>,
    store: CoverStore,
    requests: RequestIds,
    usage: Usage,
}

impl CoverDesignerService {
    /// A service painting with `painter`, keeping covers in `store` and the request ids
    /// of `DesignCover` in `requests`, counting each client's images in `usage`.
    pub fn new(
        painter: Arc<dyn Painter>,
        store: CoverStore,
        requests: RequestIds,
        usage: Usage,
    ) -> Self {
        Self {
            painter,
            store,
            requests,
            usage,
        }
    }
}

#[tonic::async_trait]
impl CoverDesigner for CoverDesignerService {
    async fn design_cover(
        &self,
        request: Request<DesignCoverRequest>,
    ) -> Result<Response<Cover>, Status> {
        let context = CallContext::from_metadata(request.metadata());
        let mut request = request.into_inner();
        let key = RequestKey::take("DesignCover", &mut request, |request| {
            &mut request.request_id
        })
        .map_err(Error::from)?;
        let brief = CoverBrief::parse(request).map_err(Error::from)?;
        // A repeat of a request id is answered from its first reply; a first one is
        // claimed, and its claim released if painting fails.
        let claim = match self
            .requests
            .begin(key, &context)
            .await
            .map_err(Error::from)?
        {
            Begun::Replay(cover) => return Ok(Response::new(cover)),
            Begun::Fresh(claim) => claim,
        };
        // Painted while the claim holds: a claim lost meanwhile stops the provider's
        // calls at once, so that another replica taking the order over is the only one
        // paying for it.
        let meter = self.usage.meter(context.client(), self.painter.model());
        let painting = Claim::guard(
            claim.as_ref(),
            self.painter.paint(&brief, context.give_up_at(), &meter),
        )
        .await
        .map_err(Error::from)?
        .map_err(Error::from)?;
        let cover = self
            .store
            .insert(&brief, &painting, self.painter.model(), claim)
            .await?;
        tracing::info!(cover_id = %cover.id, bytes = painting.png.len(), "cover painted");
        Ok(Response::new(cover))
    }

    async fn get_cover(
        &self,
        request: Request<GetCoverRequest>,
    ) -> Result<Response<Cover>, Status> {
        let id = resource_id("id", &request.get_ref().id).map_err(Error::from)?;
        let cover = self.store.get(id).await.map_err(Error::from)?;
        Ok(Response::new(cover.ok_or(Error::NotFound(id))?))
    }

    async fn get_cover_image(
        &self,
        request: Request<GetCoverImageRequest>,
    ) -> Result<Response<HttpBody>, Status> {
        let id = resource_id("id", &request.get_ref().id).map_err(Error::from)?;
        let image = self
            .store
            .image(id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound(id))?;
        Ok(Response::new(HttpBody {
            content_type: image.mime_type,
            data: image.data,
            extensions: Vec::new(),
        }))
    }
}

/// Only the song producer calls this service: the gateway routes none of its paths.
pub struct CoverDesignerInternalService {
    store: CoverStore,
}

impl CoverDesignerInternalService {
    /// Withdraws orders from `store`.
    pub fn new(store: CoverStore) -> Self {
        Self { store }
    }
}

#[tonic::async_trait]
impl CoverDesignerInternal for CoverDesignerInternalService {
    async fn withdraw_cover(
        &self,
        request: Request<WithdrawCoverRequest>,
    ) -> Result<Response<()>, Status> {
        let context = CallContext::from_metadata(request.metadata());
        let id = RequestId::parse(&request.get_ref().request_id)
            .map_err(Error::from)?
            .ok_or_else(|| Error::from(InvalidField::new("request_id", "is required")))?;
        let deleted = self.store.withdraw(context.client(), id).await?;
        match deleted {
            Some(cover_id) => tracing::info!(%cover_id, "withdrawn cover deleted"),
            None => tracing::info!("order withdrawn before its cover was stored"),
        }
        Ok(Response::new(()))
    }
}
