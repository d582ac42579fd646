"""Makes an album through the JSON API with a client generated from the OpenAPI
document, as a JSON user in any language would (docs/api.md, "From the OpenAPI document"):

    .venv/bin/openapi-python-client generate --path docs/openapi.json --meta none \
        --output-path superstar_client
    SUPERSTAR_KEY=... .venv/bin/python clients/openapi/album.py --genre jazz --theme rain

The generated package (superstar_client) is looked up in the current folder.
"""

import argparse
import os
import sys

sys.path.insert(0, os.getcwd())

from superstar_client import AuthenticatedClient  # noqa: E402
from superstar_client.api.song_producer import get_album, make_me_superstar  # noqa: E402
from superstar_client.models import Album, MakeMeSuperstarRequest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genre", required=True)
    parser.add_argument("--theme", required=True)
    parser.add_argument("--songs", type=int, default=2)
    parser.add_argument("--gateway", default="https://localhost:8443")
    parser.add_argument("--ca", default="certs/ca.pem")
    args = parser.parse_args()

    # The key as a bearer token: the document's `bearer` security scheme.
    client = AuthenticatedClient(
        base_url=args.gateway, token=os.environ["SUPERSTAR_KEY"], verify_ssl=args.ca
    )
    request = MakeMeSuperstarRequest(genre=args.genre, theme=args.theme, songs_count=args.songs)
    album = make_me_superstar.sync(client=client, body=request)
    if not isinstance(album, Album):
        sys.exit(f"the album was refused: {album}")
    again = get_album.sync(client=client, id=album.id)
    if not isinstance(again, Album) or again.id != album.id:
        sys.exit(f"the album could not be read back: {again}")
    for number, song in enumerate(album.songs, start=1):
        print(f"song {number}: {song.title}")
    print(f"album: {album.id} ({album.create_time.isoformat()})")


if __name__ == "__main__":
    main()
