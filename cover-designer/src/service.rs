//! The `superstar.v1.CoverDesigner` handlers: parse, paint or look up, answer.

use std::sync::Arc;

use superstar_proto::{
    google::api::HttpBody,
    v1::{
        Cover, DesignCoverRequest, GetCoverImageRequest, GetCoverRequest,
        cover_designer_server::CoverDesigner,
    },
};
use superstar_server::{call_context::CallContext, request_fields::resource_id};
use tonic::{Request, Response, Status};

use crate::{domain::CoverBrief, error::Error, painter::Painter, store::CoverStore};

/// The cover designer's gRPC service.
pub struct CoverDesignerService {
    painter: Arc<dyn Painter>,
    store: CoverStore,
}

impl CoverDesignerService {
    /// A service painting with `painter` and keeping covers in `store`.
    pub fn new(painter: Arc<dyn Painter>, store: CoverStore) -> Self {
        Self { painter, store }
    }
}

#[tonic::async_trait]
impl CoverDesigner for CoverDesignerService {
    async fn design_cover(
        &self,
        request: Request<DesignCoverRequest>,
    ) -> Result<Response<Cover>, Status> {
        let context = CallContext::from_metadata(request.metadata());
        let brief = CoverBrief::parse(request.into_inner()).map_err(Error::from)?;
        let painting = self
            .painter
            .paint(&brief, context.give_up_at())
            .await
            .map_err(Error::from)?;
        let cover = self
            .store
            .insert(&brief, &painting, self.painter.model())
            .await
            .map_err(Error::from)?;
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
