"""Records the CRM or Odoo refused, with what was sent and why, until they go through."""

import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

DEAD_LETTER_STREAMS = [
    ("erp.customers", "Odoo → CRM customer"),
    ("crm.customers", "CRM → Odoo customer"),
    ("crm.payments", "CRM → Odoo payment"),
]


class ArCrmDeadLetter(models.Model):
    _name = "ar.crm.dead.letter"
    _description = "CRM sync dead letter"
    _order = "write_date desc, id desc"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "ar.crm.backend", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    stream = fields.Selection(DEAD_LETTER_STREAMS, required=True)
    record_key = fields.Char(string="Record", required=True)
    payload = fields.Json(required=True)
    payload_text = fields.Text(string="Payload", compute="_compute_payload_text")
    error = fields.Text(required=True)
    code = fields.Char(required=True)
    attempts = fields.Integer(default=1)

    _sql_constraints = [
        (
            "backend_stream_key_unique",
            "UNIQUE(backend_id, stream, record_key)",
            "One dead letter per record and backend.",
        ),
    ]

    @api.depends("payload")
    def _compute_payload_text(self):
        for letter in self:
            letter.payload_text = json.dumps(letter.payload or {}, indent=2, sort_keys=True)

    def action_replay(self):
        """Re-send these records now (credit managers)."""
        self.check_access("write")
        if not self:
            raise UserError(_("Select the dead letters to replay."))
        runs = self.env["ar.crm.sync.run"]
        for backend in self.backend_id:
            letters = self.filtered(lambda letter, b=backend: letter.backend_id == b)
            runs |= backend._replay(letters)
        return runs._action_notify()
