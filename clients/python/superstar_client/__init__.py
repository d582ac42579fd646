"""A small Python client of the Superstar gateway, over gRPC with stubs generated from
the repository's `proto/` (see `generate.py`).

    from superstar_client import connect
    client = connect()                       # localhost:8443, certs/ca.pem, SUPERSTAR_KEY
    for progress in client.songs.StreamAlbum(client.album_request("synthwave", "night drive", 2)):
        ...

Every call carries the API key as `x-api-key` metadata (a call credential, sent only
over TLS) and a deadline.
"""

import os
import sys
from pathlib import Path

from . import generate

_GENERATED = generate.ensure()
if str(_GENERATED) not in sys.path:
    sys.path.insert(0, str(_GENERATED))

import grpc  # noqa: E402

from superstar.v1 import (  # noqa: E402  (generated)
    cover_designer_pb2,
    cover_designer_pb2_grpc,
    resources_pb2,
    song_producer_pb2,
    song_producer_pb2_grpc,
)

__all__ = [
    "Client",
    "connect",
    "cover_designer_pb2",
    "resources_pb2",
    "song_producer_pb2",
]

CHECKOUT = Path(__file__).resolve().parents[3]


class _ApiKey(grpc.AuthMetadataPlugin):
    """Adds the API key to every call."""

    def __init__(self, key: str):
        self._key = key

    def __call__(self, context, callback):
        callback((("x-api-key", self._key),), None)


class Client:
    """Stubs of both services on one TLS channel to the gateway."""

    def __init__(self, channel: grpc.Channel):
        self.channel = channel
        self.songs = song_producer_pb2_grpc.SongProducerStub(channel)
        self.covers = cover_designer_pb2_grpc.CoverDesignerStub(channel)

    @staticmethod
    def album_request(genre: str, theme: str, songs: int = 1, request_id: str = ""):
        return song_producer_pb2.MakeMeSuperstarRequest(
            genre=genre, theme=theme, songs_count=songs, request_id=request_id
        )

    def close(self):
        self.channel.close()


def connect(endpoint: str = "localhost:8443", ca: str | None = None, key: str | None = None) -> Client:
    """A client of the gateway at `endpoint` (host:port), trusting `ca` (default: the
    checkout's certs/ca.pem), sending `key` (default: SUPERSTAR_KEY)."""
    key = key or os.environ.get("SUPERSTAR_KEY")
    if not key:
        raise SystemExit("set SUPERSTAR_KEY to a client key (see .env)")
    ca_path = Path(ca or os.environ.get("SUPERSTAR_CA") or CHECKOUT / "certs" / "ca.pem")
    credentials = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(root_certificates=ca_path.read_bytes()),
        grpc.metadata_call_credentials(_ApiKey(key)),
    )
    return Client(grpc.secure_channel(endpoint, credentials))
