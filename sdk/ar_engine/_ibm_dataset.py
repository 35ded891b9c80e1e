"""Reader for the public IBM "accounts receivable" sample (one settled invoice per row).

Private helper for the benchmarks and tests: the file is read where it lies, never copied.
Columns used: countryCode, customerID, invoiceNumber, InvoiceDate, DueDate, InvoiceAmount,
Disputed, SettledDate, PaperlessBill (dates are US ``M/D/YYYY``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from .errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class IbmInvoice:
    invoice_number: str
    customer_id: str
    country_code: str
    invoice_date: date
    due_date: date
    settled_date: date
    amount: float
    disputed: bool
    paperless: bool


def _us_date(text: str, field: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y").date()
    except ValueError as error:
        raise InvalidInputError(
            f"{field}: {text!r} is not M/D/YYYY", field=field, code="not_a_date"
        ) from error


def load_ibm_invoices(path: str | Path) -> list[IbmInvoice]:
    """All rows of the file, in file order."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            IbmInvoice(
                invoice_number=row["invoiceNumber"].strip(),
                customer_id=row["customerID"].strip(),
                country_code=row["countryCode"].strip(),
                invoice_date=_us_date(row["InvoiceDate"], "InvoiceDate"),
                due_date=_us_date(row["DueDate"], "DueDate"),
                settled_date=_us_date(row["SettledDate"], "SettledDate"),
                amount=float(row["InvoiceAmount"]),
                disputed=row["Disputed"].strip().lower() == "yes",
                paperless=row["PaperlessBill"].strip().lower() == "electronic",
            )
            for row in csv.DictReader(handle)
        ]
