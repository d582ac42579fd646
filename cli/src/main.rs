//! `superstar`: the command-line client of the Superstar gateway.
//!
//! It speaks gRPC (tonic) to the gateway over TLS, as any client of the API would:
//! albums with their progress (StreamAlbum), lyrics streamed (GenerateLyrics), an
//! interactive Jam, and the reads. Each call carries the API key, a request id and a
//! deadline; reads, and creates that carry a request id, are retried after UNAVAILABLE
//! with backoff inside that deadline. A failure is one line on stderr and an exit code
//! per kind (see `superstar --help`). The key is never printed.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};

use superstar_cli::{
    album,
    album::AlbumArgs,
    client::{Client, Settings},
    config,
    failure::{EXIT_CODES, Failure, Kind},
    lyrics, reads,
};

/// Make albums, stream lyrics and jam with the Superstar API.
///
/// The API key comes from SUPERSTAR_KEY, else from the first client in the .env of the
/// checkout you are in; it is never printed.
#[derive(Debug, Parser)]
#[command(name = "superstar", version, after_help = EXIT_CODES)]
struct Cli {
    /// The gateway.
    #[arg(
        long,
        global = true,
        env = "SUPERSTAR_ENDPOINT",
        default_value = "https://localhost:8443"
    )]
    endpoint: String,
    /// The CA that signed the gateway's certificate [default: certs/ca.pem of the
    /// checkout you are in, else the public web roots].
    #[arg(long, global = true, env = "SUPERSTAR_CA", value_name = "FILE")]
    ca: Option<PathBuf>,
    /// How long the whole command may take, retries included, in seconds.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 300.0)]
    timeout: f64,
    /// Print the API's JSON instead of text (reads, album, lyrics).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// What the songs are: every command that writes takes these.
#[derive(Debug, clap::Args)]
struct Brief {
    /// The genre, e.g. "heavy metal".
    #[arg(long)]
    genre: String,
    /// What the songs are about.
    #[arg(long)]
    theme: String,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make an album: each song shown as it is written, then Markdown and cover.png
    /// written into a folder.
    Album {
        #[command(flatten)]
        brief: Brief,
        /// How many songs (1 to 10).
        #[arg(long, default_value_t = 1)]
        songs: i32,
        /// What the cover should show [default: derived from the songs].
        #[arg(long)]
        cover: Option<String>,
        /// The folder to write album.md and cover.png into [default: one named after
        /// the album's title].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The album's request id (a UUID; AIP-155) [default: a fresh one]. The same
        /// id again gets the same album, made and paid for once.
        #[arg(long, value_name = "UUID")]
        request_id: Option<String>,
    },
    /// Stream songs to stdout, each as soon as it is written.
    Lyrics {
        #[command(flatten)]
        brief: Brief,
        /// How many songs (1 to 10).
        #[arg(long, default_value_t = 1)]
        songs: i32,
    },
    /// An interactive session: the take streams as it is written; each line you type
    /// asks for a revision; Ctrl-D ends.
    Jam {
        #[command(flatten)]
        brief: Brief,
    },
    /// Songs: list them or get one.
    Songs {
        #[command(subcommand)]
        command: Songs,
    },
    /// Albums: get one.
    Albums {
        #[command(subcommand)]
        command: Albums,
    },
    /// Covers: download one.
    Cover {
        #[command(subcommand)]
        command: Cover,
    },
    /// Whether the gateway and the services behind it are serving.
    Health,
}

#[derive(Debug, Subcommand)]
enum Songs {
    /// Newest first: one page of 100, or every page with --all.
    List {
        #[arg(long)]
        genre: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// One song, or only some of its fields.
    Get {
        id: String,
        /// Only these fields, e.g. `title,lyrics`.
        #[arg(long, value_name = "A,B")]
        fields: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum Albums {
    /// One album with its tracks.
    Get { id: String },
}

#[derive(Debug, Subcommand)]
enum Cover {
    /// Download a cover's PNG.
    Get {
        id: String,
        /// Where to write it.
        #[arg(short, long, value_name = "FILE")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let usage = error.use_stderr();
            let _ = error.print();
            return if usage {
                ExitCode::from(Kind::Usage as u8)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("superstar: {}", failure.message);
            failure.exit_code()
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    if !(cli.timeout.is_finite() && cli.timeout > 0.0) {
        return Err(Failure::new(
            Kind::Usage,
            "--timeout: a positive number of seconds",
        ));
    }
    let client = Client::new(Settings {
        endpoint: cli.endpoint,
        ca: config::ca(cli.ca),
        // The key from the environment only, never a flag (a process list shows flags).
        key: config::key(std::env::var("SUPERSTAR_KEY").ok()),
        timeout: Duration::from_secs_f64(cli.timeout),
    })?;
    let json = cli.json;
    match cli.command {
        Command::Album {
            brief,
            songs,
            cover,
            out,
            request_id,
        } => {
            let args = AlbumArgs {
                genre: brief.genre,
                theme: brief.theme,
                songs,
                cover,
                out,
                request_id,
            };
            album::album(&client, args, json).await
        }
        Command::Lyrics { brief, songs } => {
            lyrics::lyrics(&client, brief.genre, brief.theme, songs, json).await
        }
        Command::Jam { brief } => lyrics::jam(&client, brief.genre, brief.theme).await,
        Command::Songs {
            command: Songs::List { genre, all },
        } => reads::list_songs(&client, genre, all, json).await,
        Command::Songs {
            command: Songs::Get { id, fields },
        } => reads::get_song(&client, id, fields, json).await,
        Command::Albums {
            command: Albums::Get { id },
        } => reads::get_album(&client, id, json).await,
        Command::Cover {
            command: Cover::Get { id, out },
        } => reads::get_cover(&client, id, &out, json).await,
        Command::Health => reads::health(&client, json).await,
    }
}
