"""The invoices app: `joblane serve examples.invoices.app:app --profile docurift`.

The bundled `extraction` type: invoice number, total, currency, vendor and date out of invoice
text, each with a confidence, and an overall confidence weighted by field."""

from __future__ import annotations

from joblane import Joblane
from joblane.examples import app as bundled

app = Joblane("invoices")
app.include(bundled, "extraction")

__all__ = ["app"]
