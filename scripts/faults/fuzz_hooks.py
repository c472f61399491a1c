"""schemathesis hooks for the OpenAPI fault test: tus's PATCH body has its own media type,
`application/offset+octet-stream`, which schemathesis has no strategy for; it gets raw
bytes, as any tus client sends."""

from hypothesis import strategies as st

import schemathesis

schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=64 * 1024))
