"""Generates the Python stubs from the repository's `proto/` with grpcio-tools, into
`clients/python/generated/` (not committed): run on import when they are missing or
older than a .proto file, or by hand: `python -m superstar_client.generate`."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO = HERE.parents[2] / "proto"
OUT = HERE.parent / "generated"
FILES = [
    "superstar/v1/bounds.proto",
    "superstar/v1/resources.proto",
    "superstar/v1/song_producer.proto",
    "superstar/v1/cover_designer.proto",
    "google/api/annotations.proto",
    "google/api/field_behavior.proto",
    "google/api/http.proto",
    "google/api/httpbody.proto",
]


def _stale() -> bool:
    stamp = OUT / ".generated"
    if not stamp.exists():
        return True
    newest = max(path.stat().st_mtime for path in PROTO.rglob("*.proto"))
    return newest > stamp.stat().st_mtime


def ensure() -> Path:
    """The folder holding the generated `superstar` and `google.api` modules."""
    if _stale():
        import grpc_tools
        from grpc_tools import protoc

        OUT.mkdir(exist_ok=True)
        well_known = Path(grpc_tools.__file__).parent / "_proto"
        arguments = [
            "grpc_tools.protoc",
            f"-I{PROTO}",
            f"-I{well_known}",
            f"--python_out={OUT}",
            f"--grpc_python_out={OUT}",
            *FILES,
        ]
        if protoc.main(arguments) != 0:
            raise RuntimeError("protoc failed on proto/")
        (OUT / ".generated").touch()
    return OUT


if __name__ == "__main__":
    print(ensure())
