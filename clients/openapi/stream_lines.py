"""Checks a JSON server stream against the OpenAPI document: every line of standard
input must be one message that matches the schema of the operation's 200 reply.

    curl ... https://localhost:8443/v1/albums:stream -d '...' |
        .venv/bin/python clients/openapi/stream_lines.py docs/openapi.json StreamAlbum

A stream is newline-delimited JSON sent as `application/json` (Envoy's transcoder names
no other type), which a checker reading the body as one JSON value cannot read; this
reads it line by line. Prints how many messages matched; exits 1 at the first that
does not.
"""

import json
import sys

from jsonschema import Draft202012Validator


def main() -> None:
    document_path, operation_id = sys.argv[1], sys.argv[2]
    with open(document_path, encoding="utf-8") as file:
        document = json.load(file)
    operations = [
        operation
        for path in document["paths"].values()
        for operation in path.values()
        if operation.get("operationId") == operation_id
    ]
    if len(operations) != 1:
        sys.exit(f"no operation {operation_id} in {document_path}")
    reply = operations[0]["responses"]["200"]["content"]["application/json"]["schema"]
    # The document is the root, so that the reply's `$ref`s resolve within it.
    validator = Draft202012Validator({**document, **reply})
    lines = [line for line in sys.stdin.read().split("\n") if line]
    if not lines:
        sys.exit("the stream sent no message")
    for number, line in enumerate(lines, start=1):
        message = json.loads(line)
        errors = sorted(validator.iter_errors(message), key=str)
        if errors:
            sys.exit(f"message {number} does not match {operation_id}'s reply: {errors[0].message}\n{line}")
    print(len(lines))


if __name__ == "__main__":
    main()
