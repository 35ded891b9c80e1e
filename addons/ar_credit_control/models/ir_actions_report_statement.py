"""Statements of many customers in one PDF.

Odoo hands wkhtmltopdf one HTML document per record. A wkhtmltopdf built without its patched
Qt (the distributions' package) refuses more than one input document: it exits with status 1,
which Odoo accepts, and the PDF is empty, so printing a statement run for two customers or more
failed. A patched build takes them but loads every document at once, each with the report's
stylesheets and fonts, which a run of a thousand customers does not survive.

So the statement reports go to wkhtmltopdf a batch of customers at a time (for an unpatched
build each batch joined into one document, a page break between customers) and the PDFs of
the batches are merged in order.
"""

import functools
import subprocess

import lxml.html

from odoo import api, models
from odoo.tools.pdf import merge_pdf

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin

STATEMENT_REPORT_NAMES = (
    "ar_credit_control.report_ar_statement_outstanding",
    "ar_credit_control.report_ar_statement_activity",
)
PDF_BATCH_SIZE = 50  # customers per wkhtmltopdf call


@functools.cache
def wkhtmltopdf_takes_several_documents(binary: str) -> bool:
    """Only builds against wkhtmltopdf's patched Qt accept several input documents."""
    try:
        version = subprocess.run(  # noqa: S603 (Odoo's wkhtmltopdf path, no shell)
            [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return False
    return "patched qt" in version.lower()


def join_documents(bodies: list[str]) -> str:
    """One HTML document with the content of all `bodies` (same report, same stylesheets),
    each after a page break."""
    document = lxml.html.document_fromstring(bodies[0])
    target = document.body
    for body in bodies[1:]:
        page = lxml.html.Element("div", style="page-break-before: always;")
        page.extend(list(lxml.html.document_fromstring(body).body))
        target.append(page)
    return lxml.html.tostring(document, encoding="unicode", doctype="<!DOCTYPE html>")


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    @api.model
    def _statement_pdf_batch_size(self):
        return max(int(self.env.context.get("ar_statement_pdf_batch_size") or PDF_BATCH_SIZE), 1)

    def _run_wkhtmltopdf(self, bodies, report_ref=False, **kwargs):
        if (
            len(bodies) < 2
            or not report_ref
            or self._get_report(report_ref).report_name not in STATEMENT_REPORT_NAMES
        ):
            return super()._run_wkhtmltopdf(bodies, report_ref=report_ref, **kwargs)
        several = wkhtmltopdf_takes_several_documents(_get_wkhtmltopdf_bin())
        batch_size = self._statement_pdf_batch_size()
        documents = []
        for start in range(0, len(bodies), batch_size):
            batch = bodies[start : start + batch_size]
            if not several and len(batch) > 1:
                batch = [join_documents(batch)]
            documents.append(super()._run_wkhtmltopdf(batch, report_ref=report_ref, **kwargs))
        return documents[0] if len(documents) == 1 else merge_pdf(documents)
