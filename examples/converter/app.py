"""The converter app: `joblane serve examples.converter.app:app --profile apidatatools`.

The bundled `json_format` type: strict RFC 8259 validation (a failure names the line and the
column), pretty-printing with a chosen indent. The apidatatools profile serves the formatted
document as a downloadable file and shows its first characters as the `preview`; a result too
large to keep inline is stored as a file by Joblane itself and linked with a signed URL."""

from __future__ import annotations

from joblane import Joblane
from joblane.examples import app as bundled

app = Joblane("converter")
app.include(bundled, "json_format")

__all__ = ["app"]
