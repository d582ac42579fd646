//! Covers and their images in SQLite or PostgreSQL.

use prost::Message;
use sqlx::{Row, any::AnyRow};
use superstar_proto::v1::Cover;
use superstar_server::{
    serve::telemetry,
    storage::db,
    storage::idempotency::{self, Claim, RequestId},
};
use uuid::Uuid;

use crate::{domain::CoverBrief, error::Error, painter::Painting};

/// The cover designer's migrations, one folder per database engine.
pub static MIGRATIONS: db::Migrations = db::Migrations {
    sqlite: &sqlx::migrate!("migrations/sqlite"),
    postgres: &sqlx::migrate!("migrations/postgres"),
};

/// The media type of every stored image.
pub const PNG: &str = "image/png";

/// Where covers live. Cheap to clone: clones share the pools.
#[derive(Debug, Clone)]
pub struct CoverStore {
    db: db::Database,
}

/// A stored image and its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    /// The media type, e.g. `image/png`.
    pub mime_type: String,
    /// The image file.
    pub data: Vec<u8>,
}

const COVER_COLUMNS: &str = "id, description, mime_type, width, height, model, create_time";

impl CoverStore {
    /// A store on a migrated database.
    pub fn new(db: db::Database) -> Self {
        Self { db }
    }

    /// Stores a new cover with its image and returns it. With a `claim`, the cover is
    /// also its request id's reply, in the same transaction.
    pub async fn insert(
        &self,
        brief: &CoverBrief,
        painting: &Painting,
        model: &str,
        claim: Option<Claim>,
    ) -> Result<Cover, Error> {
        let _span = telemetry::transaction("insert_cover");
        let id = Uuid::now_v7();
        let create_time = db::now_micros();
        let insert = sqlx::query(
            "INSERT INTO covers (id, description, title, genre, mime_type, width, height, image, revised_prompt, model, create_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.to_string())
        .bind(brief.description())
        .bind(brief.title())
        .bind(brief.genre())
        .bind(PNG)
        .bind(painting.width as i32)
        .bind(painting.height as i32)
        .bind(painting.png.as_slice())
        .bind(painting.revised_prompt.as_deref())
        .bind(model)
        .bind(create_time);
        let cover = cover(
            id,
            brief.description().to_owned(),
            PNG.to_owned(),
            painting.width as i32,
            painting.height as i32,
            model.to_owned(),
            create_time,
        );
        match claim {
            // One statement is its own transaction.
            None => {
                insert.execute(self.db.writes()).await?;
            }
            Some(claim) => {
                let mut tx = self.db.writes().begin().await?;
                insert.execute(&mut *tx).await?;
                claim.complete(&mut tx, &cover).await?;
                tx.commit().await?;
                claim.settle();
            }
        }
        Ok(cover)
    }

    /// Withdraws `client`'s order `id` (see [`idempotency::withdraw`]): the cover it
    /// made, if any, is deleted in the same transaction.
    pub async fn withdraw(&self, client: &str, id: RequestId) -> Result<Option<Uuid>, Error> {
        let mut tx = self.db.writes().begin().await?;
        let made = match idempotency::withdraw(&self.db, &mut tx, client, id).await? {
            Some(reply) => Some(Cover::decode(reply.as_slice()).map_err(sqlx_decode)?),
            None => None,
        };
        let deleted = match made {
            Some(cover) => {
                sqlx::query("DELETE FROM covers WHERE id = $1")
                    .bind(&cover.id)
                    .execute(&mut *tx)
                    .await?;
                Some(Uuid::parse_str(&cover.id).map_err(sqlx_decode)?)
            }
            None => None,
        };
        tx.commit().await?;
        Ok(deleted)
    }

    /// The cover's details, without the image.
    pub async fn get(&self, id: Uuid) -> Result<Option<Cover>, sqlx::Error> {
        let row = sqlx::query(&format!("SELECT {COVER_COLUMNS} FROM covers WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.db.reads())
            .await?;
        row.map(|row| cover_from_row(&row)).transpose()
    }

    /// The cover's image.
    pub async fn image(&self, id: Uuid) -> Result<Option<StoredImage>, sqlx::Error> {
        let row = sqlx::query("SELECT mime_type, image FROM covers WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.db.reads())
            .await?;
        row.map(|row| {
            Ok(StoredImage {
                mime_type: row.try_get("mime_type")?,
                data: row.try_get("image")?,
            })
        })
        .transpose()
    }
}

fn sqlx_decode(error: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(error))
}

fn cover_from_row(row: &AnyRow) -> Result<Cover, sqlx::Error> {
    let id: String = row.try_get("id")?;
    let id = Uuid::parse_str(&id).map_err(sqlx_decode)?;
    Ok(cover(
        id,
        row.try_get("description")?,
        row.try_get("mime_type")?,
        row.try_get("width")?,
        row.try_get("height")?,
        row.try_get("model")?,
        row.try_get("create_time")?,
    ))
}

fn cover(
    id: Uuid,
    description: String,
    mime_type: String,
    width: i32,
    height: i32,
    model: String,
    create_time: i64,
) -> Cover {
    Cover {
        image_uri: format!("/v1/covers/{id}/image"),
        id: id.to_string(),
        description,
        mime_type,
        width,
        height,
        create_time: Some(db::timestamp(create_time)),
        model,
    }
}
