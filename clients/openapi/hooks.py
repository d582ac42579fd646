"""schemathesis hooks for the JSON API (loaded by schemathesis.toml).

A `requestId` is a one-time key (AIP-155): sent again with a different request, it is
refused with 400, as documented. Generated data reuses values from one case to the
next, so every valid `requestId` is replaced with a fresh UUID before the call, as a
real client would make one; an invalid one is left as it is, still invalid.
"""

import re
import uuid

import schemathesis

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@schemathesis.hook
def before_call(context, case, kwargs):
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("requestId"), str):
        if UUID.fullmatch(body["requestId"]):
            body["requestId"] = str(uuid.uuid4())
