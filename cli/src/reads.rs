//! The reads: songs, albums, covers and health. Each retries UNAVAILABLE, and prints
//! text for people or, with `--json`, the API's JSON.

use std::path::Path;

use superstar_proto::v1::{
    Album, GetAlbumRequest, GetCoverImageRequest, GetCoverRequest, GetSongRequest,
    ListSongsRequest, Song, cover_designer_client::CoverDesignerClient,
    song_producer_client::SongProducerClient,
};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::{
    client::Client,
    failure::{Failure, Kind},
    json::to_json,
};

/// `songs list`: one page, or with `all` every page, newest first.
pub async fn list_songs(
    client: &Client,
    genre: Option<String>,
    all: bool,
    json: bool,
) -> Result<(), Failure> {
    let songs = SongProducerClient::new(client.channel());
    let mut token = String::new();
    let mut listed: Vec<Song> = Vec::new();
    loop {
        let request = ListSongsRequest {
            page_size: 100,
            page_token: token.clone(),
            genre: genre.clone().unwrap_or_default(),
        };
        let page = client
            .unary("list songs", &songs, request, |mut c, r| async move {
                c.list_songs(r).await
            })
            .await?;
        if !json {
            for song in &page.songs {
                println!("{}  {}  ({})", song.id, song.title, song.genre);
            }
        }
        listed.extend(page.songs);
        token = page.next_page_token;
        if !all || token.is_empty() {
            break;
        }
    }
    if json {
        let page = superstar_proto::v1::ListSongsResponse {
            songs: listed,
            next_page_token: token,
        };
        println!("{}", to_json(&page, "superstar.v1.ListSongsResponse"));
    } else if !token.is_empty() {
        eprintln!("(more: --all lists every song)");
    }
    Ok(())
}

/// `songs get ID [--fields a,b]`.
pub async fn get_song(
    client: &Client,
    id: String,
    fields: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    let paths: Vec<String> = fields
        .iter()
        .flat_map(|fields| fields.split(','))
        .map(|field| snake_case(field.trim()))
        .filter(|field| !field.is_empty())
        .collect();
    let request = GetSongRequest {
        id,
        read_mask: (!paths.is_empty()).then(|| prost_types::FieldMask {
            paths: paths.clone(),
        }),
    };
    let songs = SongProducerClient::new(client.channel());
    let song = client
        .unary("get song", &songs, request, |mut c, r| async move {
            c.get_song(r).await
        })
        .await?;
    if json {
        let mut value = to_json(&song, "superstar.v1.Song");
        // As over the gateway's JSON (AIP-157): the fields masked out are absent.
        if let (false, Some(object)) = (paths.is_empty(), value.as_object_mut()) {
            object.retain(|name, _| paths.contains(&snake_case(name)));
        }
        println!("{value}");
    } else if paths.is_empty() {
        print_song(&song);
    } else {
        let value = to_json(&song, "superstar.v1.Song");
        for path in &paths {
            if let Some(field) = value.get(camel_case(path)) {
                match field.as_str() {
                    Some(text) => println!("{path}: {text}"),
                    None => println!("{path}: {field}"),
                }
            }
        }
    }
    Ok(())
}

/// `albums get ID`.
pub async fn get_album(client: &Client, id: String, json: bool) -> Result<(), Failure> {
    let songs = SongProducerClient::new(client.channel());
    let request = GetAlbumRequest { id };
    let album = client
        .unary("get album", &songs, request, |mut c, r| async move {
            c.get_album(r).await
        })
        .await?;
    if json {
        println!("{}", to_json(&album, "superstar.v1.Album"));
    } else {
        print!("{}", album_text(&album));
    }
    Ok(())
}

/// `cover get ID -o FILE`: the PNG into FILE (and the cover's JSON with `--json`).
pub async fn get_cover(client: &Client, id: String, out: &Path, json: bool) -> Result<(), Failure> {
    let covers = CoverDesignerClient::new(client.channel());
    let image = cover_image(client, &covers, id.clone()).await?;
    write_file(out, &image.data)?;
    if json {
        let request = GetCoverRequest { id };
        let cover = client
            .unary("get cover", &covers, request, |mut c, r| async move {
                c.get_cover(r).await
            })
            .await?;
        println!("{}", to_json(&cover, "superstar.v1.Cover"));
    } else {
        println!(
            "wrote {} ({} bytes, {})",
            out.display(),
            image.data.len(),
            image.content_type
        );
    }
    Ok(())
}

/// `health`: the gateway's and the song producer's health, SERVING or not.
pub async fn health(client: &Client, json: bool) -> Result<(), Failure> {
    let health = HealthClient::new(client.channel());
    let request = HealthCheckRequest {
        service: String::new(),
    };
    let answer = client
        .unary("health", &health, request, |mut c, r| async move {
            c.check(r).await
        })
        .await?;
    let status = ServingStatus::try_from(answer.status).unwrap_or(ServingStatus::Unknown);
    let name = status.as_str_name();
    if json {
        println!("{}", serde_json::json!({ "status": name }));
    } else {
        println!("{name}");
    }
    if status == ServingStatus::Serving {
        Ok(())
    } else {
        Err(Failure::new(Kind::Unavailable, format!("health: {name}")))
    }
}

/// A cover's PNG (`google.api.HttpBody`).
pub async fn cover_image(
    client: &Client,
    covers: &CoverDesignerClient<tonic::transport::Channel>,
    id: String,
) -> Result<superstar_proto::google::api::HttpBody, Failure> {
    let request = GetCoverImageRequest { id };
    client
        .unary("get cover", covers, request, |mut c, r| async move {
            c.get_cover_image(r).await
        })
        .await
}

/// A song for people: its title, then its lyrics.
pub fn print_song(song: &Song) {
    println!("# {}\n\n{}\n", song.title, song.lyrics.trim_end());
}

/// An album as Markdown: title, what it is, the cover, then each track with its lyrics
/// (section headings such as `[Chorus]` become Markdown headings).
pub fn album_text(album: &Album) -> String {
    let mut text = format!(
        "# {}\n\n*{}* — {}\n\n",
        album.title, album.genre, album.theme
    );
    if album.cover.is_some() {
        text += "![cover](cover.png)\n\n";
    }
    for (track, song) in album.songs.iter().enumerate() {
        text += &format!("## {}. {}\n\n", track + 1, song.title);
        for line in song.lyrics.trim().lines() {
            let line = line.trim_end();
            match line
                .strip_prefix('[')
                .and_then(|line| line.strip_suffix(']'))
            {
                Some(heading) => text += &format!("### {heading}\n\n"),
                None if line.is_empty() => text += "\n",
                None => text += &format!("{line}  \n"),
            }
        }
        text += "\n";
    }
    text
}

/// Writes `bytes` to `path`, a failure naming the path if it cannot.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes)
        .map_err(|error| Failure::new(Kind::Other, format!("{}: {error}", path.display())))
}

/// `albumId` → `album_id` (the mask's paths are the proto's field names).
pub fn snake_case(name: &str) -> String {
    let mut snake = String::new();
    for character in name.chars() {
        if character.is_ascii_uppercase() {
            snake.push('_');
            snake.push(character.to_ascii_lowercase());
        } else {
            snake.push(character);
        }
    }
    snake
}

/// `album_id` → `albumId` (the JSON's names).
pub fn camel_case(name: &str) -> String {
    let mut parts = name.split('_');
    let mut camel = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let mut characters = part.chars();
        if let Some(first) = characters.next() {
            camel.push(first.to_ascii_uppercase());
            camel.extend(characters);
        }
    }
    camel
}
