//! Songs and albums in SQLite or PostgreSQL.
//!
//! An album and its songs are written in one transaction, so a failed request leaves
//! nothing behind. Songs made on their own (GenerateLyrics, Jam) have no album.

use prost::Message;
use sqlx::{Any, Executor, Row, any::AnyRow};
use superstar_proto::v1::{Album, Cover, Song};
use superstar_server::{
    serve::telemetry,
    storage::db,
    storage::idempotency::{Claim, ClaimError},
};
use uuid::Uuid;

use crate::{
    domain::{WrittenSong, genre_key},
    page_token::Cursor,
};

/// The song producer's migrations, one folder per database engine.
pub static MIGRATIONS: db::Migrations = db::Migrations {
    sqlite: &sqlx::migrate!("migrations/sqlite"),
    postgres: &sqlx::migrate!("migrations/postgres"),
};

/// A song to store: what it was written for, and what was written.
#[derive(Debug, Clone)]
pub struct NewSong<'a> {
    /// The genre it was written in.
    pub genre: &'a str,
    /// The theme it was written about.
    pub theme: &'a str,
    /// The title and lyrics.
    pub written: &'a WrittenSong,
    /// The model that wrote it.
    pub model: &'a str,
}

/// An album to store.
#[derive(Debug, Clone)]
pub struct NewAlbum<'a> {
    /// The title.
    pub title: &'a str,
    /// The genre.
    pub genre: &'a str,
    /// The theme.
    pub theme: &'a str,
    /// The cover, as the cover designer returned it.
    pub cover: &'a Cover,
    /// The tracks, in order.
    pub songs: &'a [NewSong<'a>],
}

/// Why [`SongStore::insert_album`] gives no album.
#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// Nothing was stored: the transaction failed or rolled back before COMMIT, or
    /// COMMIT failed and the album is not there.
    #[error(transparent)]
    NotStored(#[from] ClaimError),
    /// The deadline came before COMMIT: rolled back, nothing stored.
    #[error("the deadline passed before the album was stored")]
    Deadline,
    /// COMMIT failed and the database cannot say whether the album is stored.
    #[error("the album's commit failed and whether it is stored is unknown: {0}")]
    Unknown(sqlx::Error),
}

/// One page of songs and where the next one starts.
#[derive(Debug, Clone)]
pub struct SongPage {
    /// The songs, newest first.
    pub songs: Vec<Song>,
    /// Set when there are more songs.
    pub next: Option<Cursor>,
}

/// One page of albums, and where the next starts.
#[derive(Debug)]
pub struct AlbumPage {
    /// The albums, newest first, each with its songs and cover.
    pub albums: Vec<Album>,
    /// Set when there are more albums.
    pub next: Option<Cursor>,
}

const SONG_COLUMNS: &str = "id, album_id, title, genre, theme, lyrics, model, create_time";

const ALBUM_COLUMNS: &str = "id, title, genre, theme, cover, create_time";

/// Where songs and albums live. Cheap to clone: clones share the pools.
#[derive(Debug, Clone)]
pub struct SongStore {
    db: db::Database,
}

impl SongStore {
    /// A store on a migrated database.
    pub fn new(db: db::Database) -> Self {
        Self { db }
    }

    /// Stores a song that belongs to no album.
    pub async fn insert_song(&self, song: &NewSong<'_>) -> Result<Song, sqlx::Error> {
        // One statement is its own transaction.
        let stored = insert_songs(
            self.db.writes(),
            std::slice::from_ref(song),
            None,
            db::now_micros(),
        )
        .await?;
        Ok(stored.into_iter().next().expect("one song in, one out"))
    }

    /// Stores an album and all its songs, or nothing. With a `claim`, the album is also
    /// its request id's reply, in the same transaction.
    ///
    /// The `deadline` bounds everything before COMMIT (a transaction dropped then rolls
    /// back: nothing stored), and never COMMIT itself: cut while in flight, a COMMIT may
    /// still land, and the caller would be told "not stored" of a stored album. A
    /// COMMIT that fails is looked up: the album is there (its answer), or it is not, or,
    /// when the database cannot say, [`InsertError::Unknown`].
    pub async fn insert_album(
        &self,
        album: &NewAlbum<'_>,
        claim: Option<Claim>,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Album, InsertError> {
        let _span = telemetry::transaction("insert_album");
        let id = Uuid::now_v7();
        let create_time = db::now_micros();
        let before_commit = async {
            let mut tx = self.db.writes().begin().await?;
            sqlx::query("INSERT INTO albums (id, title, genre, theme, cover, create_time) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id.to_string())
                .bind(album.title)
                .bind(album.genre)
                .bind(album.theme)
                .bind(album.cover.encode_to_vec())
                .bind(create_time)
                .execute(&mut *tx)
                .await?;
            let songs = insert_songs(&mut *tx, album.songs, Some(id), create_time).await?;
            let stored = Album {
                id: id.to_string(),
                title: album.title.to_owned(),
                genre: album.genre.to_owned(),
                theme: album.theme.to_owned(),
                songs,
                cover: Some(album.cover.clone()),
                create_time: Some(db::timestamp(create_time)),
            };
            if let Some(claim) = &claim {
                claim.complete(&mut tx, &stored).await?;
            }
            Ok::<_, ClaimError>((tx, stored))
        };
        let (tx, stored) = match deadline {
            None => before_commit.await,
            Some(deadline) => tokio::time::timeout_at(deadline, before_commit)
                .await
                .map_err(|_| InsertError::Deadline)?,
        }
        .map_err(InsertError::NotStored)?;
        if let Err(error) = tx.commit().await {
            let found = sqlx::query("SELECT 1 FROM albums WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(self.db.writes())
                .await;
            match found {
                Ok(None) => return Err(InsertError::NotStored(error.into())),
                Ok(Some(_)) => {
                    tracing::warn!(%error, "the album's commit reported an error, yet the album is stored")
                }
                Err(_) => return Err(InsertError::Unknown(error)),
            }
        }
        if let Some(claim) = claim {
            claim.settle();
        }
        Ok(stored)
    }

    /// One song.
    pub async fn song(&self, id: Uuid) -> Result<Option<Song>, sqlx::Error> {
        sqlx::query(&format!("SELECT {SONG_COLUMNS} FROM songs WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.db.reads())
            .await?
            .map(|row| song_from_row(&row))
            .transpose()
    }

    /// One album with its songs in track order.
    pub async fn album(&self, id: Uuid) -> Result<Option<Album>, sqlx::Error> {
        let Some(row) = sqlx::query(&format!("SELECT {ALBUM_COLUMNS} FROM albums WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.db.reads())
            .await?
        else {
            return Ok(None);
        };
        let songs = sqlx::query(&format!(
            "SELECT {SONG_COLUMNS} FROM songs WHERE album_id = $1 ORDER BY track"
        ))
        .bind(id.to_string())
        .fetch_all(self.db.reads())
        .await?
        .iter()
        .map(song_from_row)
        .collect::<Result<_, _>>()?;
        album_from_row(&row, songs).map(Some)
    }

    /// Up to `limit` albums after `after`, newest first, each with its songs: two
    /// queries, the albums and then all their songs, whatever the page's size.
    pub async fn list_albums(
        &self,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<AlbumPage, sqlx::Error> {
        let (rows, more) = self
            .newest_first(
                &format!("SELECT {ALBUM_COLUMNS} FROM albums"),
                None,
                after,
                limit,
            )
            .await?;
        let mut songs: std::collections::HashMap<String, Vec<Song>> =
            std::collections::HashMap::new();
        if !rows.is_empty() {
            let placeholders: Vec<String> = (1..=rows.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT {SONG_COLUMNS} FROM songs WHERE album_id IN ({}) ORDER BY album_id, track",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for row in &rows {
                query = query.bind(row.try_get::<String, _>("id")?);
            }
            for row in query.fetch_all(self.db.reads()).await? {
                let song = song_from_row(&row)?;
                songs
                    .entry(song.album_id().to_owned())
                    .or_default()
                    .push(song);
            }
        }
        let mut albums = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in &rows {
            let id: String = row.try_get("id")?;
            last = Some(Cursor {
                create_time: row.try_get("create_time")?,
                id: parse_id(id.clone())?,
            });
            albums.push(album_from_row(row, songs.remove(&id).unwrap_or_default())?);
        }
        Ok(AlbumPage {
            albums,
            next: if more { last } else { None },
        })
    }

    /// Up to `limit` songs after `after`, newest first, of one genre (by its key) or of
    /// every genre.
    pub async fn list(
        &self,
        genre_key: Option<&str>,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<SongPage, sqlx::Error> {
        let genre = genre_key.map(|key| ("genre_key", key));
        let (rows, more) = self
            .newest_first(
                &format!("SELECT {SONG_COLUMNS} FROM songs"),
                genre,
                after,
                limit,
            )
            .await?;
        let mut songs = Vec::with_capacity(limit);
        let mut last = None;
        for row in &rows {
            last = Some(Cursor {
                create_time: row.try_get("create_time")?,
                id: parse_id(row.try_get("id")?)?,
            });
            songs.push(song_from_row(row)?);
        }
        Ok(SongPage {
            songs,
            next: if more { last } else { None },
        })
    }

    /// The rows of `select` (a `SELECT … FROM table` with `create_time` and `id`) where
    /// `column = value` if given, after `after`, newest first (ties by id), at most
    /// `limit`; and whether more follow. One row more than asked is read to know.
    async fn newest_first(
        &self,
        select: &str,
        equal: Option<(&str, &str)>,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<(Vec<AnyRow>, bool), sqlx::Error> {
        let mut conditions = Vec::new();
        let mut parameter = 0;
        let mut next = || {
            parameter += 1;
            format!("${parameter}")
        };
        if let Some((column, _)) = equal {
            conditions.push(format!("{column} = {}", next()));
        }
        if after.is_some() {
            let (time, same_time, id) = (next(), next(), next());
            conditions.push(format!(
                "(create_time < {time} OR (create_time = {same_time} AND id < {id}))"
            ));
        }
        let filter = match conditions.is_empty() {
            true => String::new(),
            false => format!("WHERE {}", conditions.join(" AND ")),
        };
        let limit_parameter = next();
        let sql =
            format!("{select} {filter} ORDER BY create_time DESC, id DESC LIMIT {limit_parameter}");
        let mut query = sqlx::query(&sql);
        if let Some((_, value)) = equal {
            query = query.bind(value);
        }
        if let Some(cursor) = after {
            query = query
                .bind(cursor.create_time)
                .bind(cursor.create_time)
                .bind(cursor.id.to_string());
        }
        let mut rows = query
            .bind(limit as i64 + 1)
            .fetch_all(self.db.reads())
            .await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        Ok((rows, more))
    }
}

/// Inserts `songs` in one statement, as tracks 1, 2, … of `album_id` (or of no album),
/// and returns them as stored. One statement, not one per song: on SQLite each is a
/// round trip to the connection's thread.
async fn insert_songs<'e>(
    executor: impl Executor<'e, Database = Any>,
    songs: &[NewSong<'_>],
    album_id: Option<Uuid>,
    create_time: i64,
) -> Result<Vec<Song>, sqlx::Error> {
    const COLUMNS: usize = 10;
    let mut sql = String::from(
        "INSERT INTO songs (id, album_id, track, title, genre, genre_key, theme, lyrics, model, create_time) VALUES ",
    );
    for row in 0..songs.len() {
        let first = row * COLUMNS + 1;
        let placeholders: Vec<String> = (first..first + COLUMNS).map(|n| format!("${n}")).collect();
        let separator = if row == 0 { "" } else { ", " };
        sql.push_str(&format!("{separator}({})", placeholders.join(", ")));
    }
    let album_id = album_id.map(|id| id.to_string());
    let stored: Vec<Song> = songs
        .iter()
        .map(|song| Song {
            id: Uuid::now_v7().to_string(),
            title: song.written.title.clone(),
            genre: song.genre.to_owned(),
            theme: song.theme.to_owned(),
            lyrics: song.written.lyrics.clone(),
            album_id: Some(album_id.clone().unwrap_or_default()),
            create_time: Some(db::timestamp(create_time)),
            model: song.model.to_owned(),
        })
        .collect();
    let mut query = sqlx::query(&sql);
    for ((track, song), stored) in (1..).zip(songs).zip(&stored) {
        query = query
            .bind(stored.id.as_str())
            .bind(album_id.as_deref())
            .bind(track)
            .bind(stored.title.as_str())
            .bind(song.genre)
            .bind(genre_key(song.genre))
            .bind(song.theme)
            .bind(stored.lyrics.as_str())
            .bind(song.model)
            .bind(create_time);
    }
    query.execute(executor).await?;
    Ok(stored)
}

/// An album from its row (of [`ALBUM_COLUMNS`]) and its songs in track order.
fn album_from_row(row: &AnyRow, songs: Vec<Song>) -> Result<Album, sqlx::Error> {
    let cover: Vec<u8> = row.try_get("cover")?;
    let cover =
        Cover::decode(cover.as_slice()).map_err(|error| sqlx::Error::Decode(error.into()))?;
    Ok(Album {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        genre: row.try_get("genre")?,
        theme: row.try_get("theme")?,
        songs,
        cover: Some(cover),
        create_time: Some(db::timestamp(row.try_get("create_time")?)),
    })
}

fn parse_id(id: String) -> Result<Uuid, sqlx::Error> {
    Uuid::parse_str(&id).map_err(|error| sqlx::Error::Decode(error.into()))
}

fn song_from_row(row: &AnyRow) -> Result<Song, sqlx::Error> {
    let album_id: Option<String> = row.try_get("album_id")?;
    Ok(Song {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        genre: row.try_get("genre")?,
        theme: row.try_get("theme")?,
        lyrics: row.try_get("lyrics")?,
        album_id: Some(album_id.unwrap_or_default()),
        create_time: Some(db::timestamp(row.try_get("create_time")?)),
        model: row.try_get("model")?,
    })
}
