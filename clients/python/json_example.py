#!/usr/bin/env python3
"""The same API as JSON over HTTPS (Envoy transcodes it to gRPC), with httpx: makes an
album, then reads its first song back with only some fields (readMask).

    python clients/python/json_example.py --genre synthwave --theme "night drive"
"""

import argparse
import os
import sys
from pathlib import Path

import httpx

CHECKOUT = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="https://localhost:8443")
    parser.add_argument("--genre", required=True)
    parser.add_argument("--theme", required=True)
    parser.add_argument("--songs", type=int, default=1)
    args = parser.parse_args()
    key = os.environ.get("SUPERSTAR_KEY")
    if not key:
        raise SystemExit("set SUPERSTAR_KEY to a client key (see .env)")
    ca = os.environ.get("SUPERSTAR_CA") or str(CHECKOUT / "certs" / "ca.pem")
    with httpx.Client(base_url=args.base, verify=ca, headers={"x-api-key": key}, timeout=300) as http:
        made = http.post(
            "/v1/albums",
            json={"genre": args.genre, "theme": args.theme, "songsCount": args.songs},
        )
        if made.status_code != 200:
            error = made.json()
            print(f"json_example: HTTP {made.status_code}: {error.get('message')}", file=sys.stderr)
            return 1
        album = made.json()
        print(f"album: {album['id']} {album['title']} ({len(album['songs'])} songs)")
        song = http.get(
            f"/v1/songs/{album['songs'][0]['id']}", params={"readMask": "title,genre"}
        ).json()
        print(f"first song: {song}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
