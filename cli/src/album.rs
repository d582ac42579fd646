//! `superstar album`: an album made through StreamAlbum, each song shown as it is
//! written, then written out as Markdown with its cover.

use std::{io::IsTerminal, path::PathBuf, time::Duration};

use indicatif::{ProgressBar, ProgressStyle};
use superstar_proto::v1::{
    Album, MakeMeSuperstarRequest, album_progress::Event,
    cover_designer_client::CoverDesignerClient, song_producer_client::SongProducerClient,
};

use crate::{
    client::Client,
    failure::{Failure, Kind},
    json::to_json,
    reads::{album_text, cover_image, write_file},
};

/// What `superstar album` was asked for.
pub struct AlbumArgs {
    /// The genre.
    pub genre: String,
    /// The theme.
    pub theme: String,
    /// How many songs.
    pub songs: i32,
    /// What the cover should show, if not what the songs suggest.
    pub cover: Option<String>,
    /// The folder for album.md and cover.png, if not one named after the album.
    pub out: Option<PathBuf>,
    /// The request id that makes a retry safe, if the user gave one.
    pub request_id: Option<String>,
}

/// How far the album is, shown on a terminal as a bar, elsewhere as plain lines.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(songs: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(songs);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{bar:20}] {pos}/{len} songs")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_message("writing");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self { bar }
    }

    /// A line above the bar, or on its own when there is no bar.
    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn song_done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if bar.position() == bar.length().unwrap_or(0) {
                bar.set_message("painting the cover");
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Makes the album. It carries a request id (AIP-155), so a call cut off (UNAVAILABLE)
/// is sent again and the gateway answers it with the same album, made and paid once.
pub async fn album(client: &Client, args: AlbumArgs, json: bool) -> Result<(), Failure> {
    let request_id = args
        .request_id
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let songs_count = args.songs.max(1);
    let request = MakeMeSuperstarRequest {
        genre: args.genre,
        theme: args.theme,
        songs_count,
        cover_description: args.cover.unwrap_or_default(),
        request_id,
    };
    let progress = Progress::new(u64::try_from(songs_count).unwrap_or(1));
    let producer = SongProducerClient::new(client.channel());
    let written = std::cell::Cell::new(0);
    let album = client
        .call("album", || {
            let request = client.request(request.clone());
            let mut producer = producer.clone();
            let (progress, written) = (&progress, &written);
            async move {
                let mut stream = producer.stream_album(request).await?.into_inner();
                while let Some(message) = stream.message().await? {
                    match message.event {
                        // (A retry's repeat gets the album alone: no song twice.)
                        Some(Event::Song(song)) => {
                            written.set(written.get() + 1);
                            progress.say(&format!("song {}: {}", written.get(), song.title));
                            progress.song_done();
                        }
                        Some(Event::Cover(cover)) => progress.say(&format!("cover: {}", cover.id)),
                        Some(Event::Album(album)) => return Ok(album),
                        None => {}
                    }
                }
                Err(tonic::Status::unavailable(
                    "the stream ended without the album",
                ))
            }
        })
        .await;
    progress.finish();
    let album = album?;
    let folder = args
        .out
        .unwrap_or_else(|| PathBuf::from(slug(&album.title)));
    std::fs::create_dir_all(&folder)
        .map_err(|error| Failure::new(Kind::Other, format!("{}: {error}", folder.display())))?;
    write_album(client, &album, &folder).await?;
    if json {
        println!("{}", to_json(&album, "superstar.v1.Album"));
    } else {
        println!(
            "{}: {} songs, written to {}",
            album.title,
            album.songs.len(),
            folder.join("album.md").display()
        );
    }
    Ok(())
}

/// `album.md` and `cover.png` in `folder`.
async fn write_album(
    client: &Client,
    album: &Album,
    folder: &std::path::Path,
) -> Result<(), Failure> {
    if let Some(cover) = &album.cover {
        let covers = CoverDesignerClient::new(client.channel());
        let image = cover_image(client, &covers, cover.id.clone()).await?;
        write_file(&folder.join("cover.png"), &image.data)?;
    }
    write_file(&folder.join("album.md"), album_text(album).as_bytes())
}

/// A folder name from a title: lowercase letters and digits, words joined by `-`.
pub fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        "album".to_owned()
    } else {
        words.join("-")
    }
}
