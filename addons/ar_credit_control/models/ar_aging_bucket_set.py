"""Aging bucket sets: the columns of the aging report, one set per company or more.

A set holds its aging buckets (the last day of each, the last one open-ended), one "in
payment" line for invoices paid by a payment the bank has not matched yet and one "unapplied"
line for payments and credit notes not matched with an invoice yet (unapplied cash: see
``ar.receivable``), which are no receivable of any age. The buckets are
validated by :class:`ar_engine.aging.BucketSet`; its error codes become translated messages.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ar_engine.aging import Bucket, BucketSet
from ar_engine.errors import InvalidInputError

# Labels written by this module in English and translated into every installed language
# (ArAgingBucketSet._default_labels).
DEFAULT_SET_NAME = "Standard (30/60/90)"
NOT_DUE_LABEL = "Not due"
IN_PAYMENT_LABEL = "In payment"
UNAPPLIED_LABEL = "Unapplied"
DEFAULT_LABELS = (DEFAULT_SET_NAME, NOT_DUE_LABEL, IN_PAYMENT_LABEL, UNAPPLIED_LABEL)
DEFAULT_LINES = (
    # (label, last day or None for the open-ended bucket)
    (NOT_DUE_LABEL, 0),
    ("0-30", 30),
    ("31-60", 60),
    ("61-90", 90),
    ("90+", None),
)


class ArAgingBucketSet(models.Model):
    _name = "ar.aging.bucket.set"
    _description = "Aging bucket set"
    _inherit = ["mail.thread", "ar.company.owned"]
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    basis = fields.Selection(
        [("due_date", "Due date"), ("invoice_date", "Invoice date")],
        string="Aged by",
        required=True,
        default="due_date",
        tracking=True,
        help="Due date: days past each instalment's due date. Invoice date: days since the "
        "invoice date.",
    )
    is_default = fields.Boolean(
        string="Default for the company", tracking=True, help="Used when no set is chosen."
    )
    line_ids = fields.One2many(
        "ar.aging.bucket.set.line", "bucket_set_id", string="Buckets", copy=True
    )

    @api.model_create_multi
    def create(self, vals_list):
        bucket_sets = super().create(vals_list)
        bucket_sets._ensure_special_lines()
        return bucket_sets

    def write(self, vals):
        result = super().write(vals)
        if "line_ids" in vals:
            self._ensure_special_lines()
        return result

    def _ensure_special_lines(self):
        """The "in payment" line (first) and the "unapplied" line (last) of every set."""
        special = {"in_payment": (IN_PAYMENT_LABEL, 0), "unapplied": (UNAPPLIED_LABEL, 1000)}
        missing = [
            (bucket_set, kind)
            for bucket_set in self
            for kind in special
            if not bucket_set.line_ids.filtered(lambda line, kind=kind: line.kind == kind)
        ]
        # Written in English, then translated: in the user's language it would be the English
        # value too, and every other language would show it.
        self.env["ar.aging.bucket.set.line"].with_context(lang="en_US").create(
            [
                {
                    "bucket_set_id": bucket_set.id,
                    "kind": kind,
                    "name": special[kind][0],
                    "sequence": special[kind][1],
                }
                for bucket_set, kind in missing
            ]
        )
        self.browse({bucket_set.id for bucket_set, _kind in missing})._translate_default_labels()

    def _default_labels(self):
        """{English label: its translation in the env's language} of the labels written by
        this module: the default set's name and the buckets named in words."""
        _ = self.env._
        return {
            DEFAULT_SET_NAME: _("Standard (30/60/90)"),
            NOT_DUE_LABEL: _("Not due"),
            IN_PAYMENT_LABEL: _("In payment"),
            UNAPPLIED_LABEL: _("Unapplied"),
        }

    def _translate_default_labels(self, langs=None):
        """Give the labels written by this module (in English) their translation in each
        installed language (or `langs`) that has none yet. They are data: Odoo's loading of the
        .po files does not reach them. A label a user renamed or translated is kept."""
        langs = [
            lang
            for lang in langs or [code for code, _name in self.env["res.lang"].get_installed()]
            if lang != "en_US"
        ]
        translations = {lang: self.with_context(lang=lang)._default_labels() for lang in langs}
        for records in (self, self.line_ids):
            for record in records.with_context(lang="en_US"):
                english = record.name
                if english not in DEFAULT_LABELS:
                    continue
                missing = {
                    lang: labels[english]
                    for lang, labels in translations.items()
                    if labels[english] != english and record.with_context(lang=lang).name == english
                }
                if missing:
                    record.update_field_translations("name", missing)

    def _line_of_kind(self, kind):
        """The set's "in_payment" or "unapplied" line."""
        self.ensure_one()
        return self.line_ids.filtered(lambda line: line.kind == kind)[:1]

    def _columns(self):
        """The columns of summaries and statements: in payment, the aging buckets in order,
        unapplied."""
        return (
            self._line_of_kind("in_payment") | self._aging_lines() | self._line_of_kind("unapplied")
        )

    # ------------------------------------------------------------------ engine

    def _aging_lines(self):
        """The aging lines in order: by last day, the open-ended one last."""
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: line.kind == "age")
        return lines.sorted(lambda line: (line.open_ended, line.max_days, line.id))

    def _current_lines(self):
        """The buckets that are not late: not due (the first aging line), in payment and
        unapplied cash (of no age, it lowers the current receivables, not the overdue ones).
        The rest of the open receivables is overdue, for the KPIs and the overview alike."""
        self.ensure_one()
        return (
            self._aging_lines()[:1]
            | self._line_of_kind("in_payment")
            | self._line_of_kind("unapplied")
        )

    def _engine_bucket_set(self) -> BucketSet:
        """The validated engine bucket set; the bucket keys are the line ids."""
        self.ensure_one()
        buckets = []
        previous_max = None
        for line in self._aging_lines():
            min_days = None if previous_max is None else previous_max + 1
            max_days = None if line.open_ended else line.max_days
            buckets.append(Bucket(str(line.id), line.name or "", min_days, max_days))
            previous_max = max_days if max_days is not None else previous_max
        try:
            return BucketSet(tuple(buckets), basis=self.basis)
        except InvalidInputError as error:
            raise ValidationError(self._engine_error_message(error)) from error

    def _engine_error_message(self, error: InvalidInputError) -> str:
        _ = self.env._
        messages = {
            "too_few_buckets": _("An aging set needs at least a 'not due' and an overdue bucket."),
            "first_bucket_not_not_due": _(
                "The first bucket must be the 'not due' one, ending at day 0."
            ),
            "last_bucket_not_open": _("The last bucket must be open-ended (no last day)."),
            "open_bucket_not_last": _("Only the last bucket may be open-ended."),
            "not_contiguous": _("The buckets must follow each other without gaps."),
            "empty_bucket": _("Two buckets end on the same day: each bucket needs its own days."),
            "empty": _("Every bucket needs a label."),
            "duplicate": _("Two buckets have the same label."),
            "invalid_choice": _("Age by the due date or the invoice date."),
        }
        message = messages.get(error.code, _("The aging buckets are not valid."))
        return _("Aging set %(name)s: %(message)s", name=self.display_name, message=message)

    @api.constrains("line_ids", "basis")
    def _check_buckets(self):
        for bucket_set in self:
            bucket_set._engine_bucket_set()
            if len(bucket_set.line_ids.filtered(lambda line: line.kind == "in_payment")) > 1:
                raise ValidationError(self.env._("An aging set has one 'in payment' line only."))
            if len(bucket_set.line_ids.filtered(lambda line: line.kind == "unapplied")) > 1:
                raise ValidationError(self.env._("An aging set has one 'unapplied' line only."))

    @api.constrains("is_default", "company_id", "active")
    def _check_one_default(self):
        for bucket_set in self.filtered("is_default"):
            others = self.search_count(
                [
                    ("company_id", "=", bucket_set.company_id.id),
                    ("is_default", "=", True),
                    ("id", "!=", bucket_set.id),
                ]
            )
            if others:
                raise ValidationError(
                    self.env._(
                        "Company %(company)s already has a default aging set.",
                        company=bucket_set.company_id.name,
                    )
                )

    # ------------------------------------------------------------------ defaults

    @api.model
    def _get_default(self, company=None):
        """The company's default set, created the first time it is asked for."""
        company = company or self.env.company
        bucket_set = self.sudo().search(
            [("company_id", "=", company.id), ("is_default", "=", True)], limit=1
        )
        if not bucket_set:
            bucket_set = self.sudo()._create_default(company)
        return bucket_set.sudo(False).with_env(self.env)

    @api.model
    def _create_default(self, company):
        bucket_set = self.with_context(lang="en_US").create(
            {
                "name": DEFAULT_SET_NAME,
                "company_id": company.id,
                "is_default": True,
                "line_ids": [
                    (
                        0,
                        0,
                        {
                            "sequence": index + 1,
                            "name": label,
                            "max_days": max_days or 0,
                            "open_ended": max_days is None,
                        },
                    )
                    for index, (label, max_days) in enumerate(DEFAULT_LINES)
                ],
            }
        )
        bucket_set._translate_default_labels()
        return bucket_set.with_env(self.env)

    @api.model
    def _install_defaults(self):
        """One default set per existing company (called on install)."""
        for company in self.env["res.company"].sudo().search([]):
            self._get_default(company)


class ArAgingBucketSetLine(models.Model):
    _name = "ar.aging.bucket.set.line"
    _description = "Aging bucket"
    _order = "bucket_set_id, sequence, id"

    bucket_set_id = fields.Many2one(
        "ar.aging.bucket.set", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="bucket_set_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(string="Label", required=True, translate=True)
    kind = fields.Selection(
        [("age", "Aging bucket"), ("in_payment", "In payment"), ("unapplied", "Unapplied")],
        required=True,
        default="age",
        readonly=True,
    )
    max_days = fields.Integer(
        string="Last day",
        help="Last day past due (or since the invoice) held by this bucket; 0 for 'not due'.",
    )
    open_ended = fields.Boolean(help="The last bucket: every older item.")

    @api.constrains("name", "max_days", "open_ended")
    def _check_bucket_set(self):
        self.bucket_set_id._check_buckets()

    def unlink(self):
        bucket_sets = self.bucket_set_id
        result = super().unlink()
        bucket_sets = bucket_sets.exists()
        bucket_sets._ensure_special_lines()
        bucket_sets._check_buckets()
        return result
