#!/usr/bin/env python3
"""Makes an album and streams lyrics through the gateway, over gRPC.

    python clients/python/example.py album --genre synthwave --theme "night drive" --songs 2
    python clients/python/example.py lyrics --genre "polish disco polo" --theme "summer at the lake" --songs 3

Needs SUPERSTAR_KEY (and trusts the checkout's certs/ca.pem, or SUPERSTAR_CA).
"""

import argparse
import sys
import uuid

import grpc

from superstar_client import connect, song_producer_pb2


def album(client, args) -> None:
    """StreamAlbum: each song as it is written, the cover, then the stored album. The
    request id makes a retry safe: the same id gets the same album, made once."""
    request = client.album_request(args.genre, args.theme, args.songs, str(uuid.uuid4()))
    track = 0
    for progress in client.songs.StreamAlbum(request, timeout=args.timeout):
        event = progress.WhichOneof("event")
        if event == "song":
            track += 1
            print(f"song {track}: {progress.song.title}", flush=True)
        elif event == "cover":
            print(f"cover: {progress.cover.id}", flush=True)
        elif event == "album":
            made = progress.album
            print(f"album: {made.id} {made.title} ({len(made.songs)} songs)", flush=True)


def lyrics(client, args) -> None:
    """GenerateLyrics: each song printed as soon as it is written and stored."""
    request = song_producer_pb2.GenerateLyricsRequest(
        genre=args.genre, theme=args.theme, songs_count=args.songs
    )
    for song in client.songs.GenerateLyrics(request, timeout=args.timeout):
        print(f"# {song.title}\n\n{song.lyrics}\n", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default="localhost:8443")
    parser.add_argument("--timeout", type=float, default=300, help="seconds")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("album", "lyrics"):
        command = commands.add_parser(name)
        command.add_argument("--genre", required=True)
        command.add_argument("--theme", required=True)
        command.add_argument("--songs", type=int, default=1)
    args = parser.parse_args()
    client = connect(args.endpoint)
    try:
        {"album": album, "lyrics": lyrics}[args.command](client, args)
    except grpc.RpcError as error:
        print(f"example: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
