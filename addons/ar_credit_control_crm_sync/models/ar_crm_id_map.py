"""The id map: which Odoo record is which CRM record, with the content hashes last exchanged."""

from odoo import api, fields, models

STREAMS = [("customers", "Customers"), ("payments", "Payments")]


class ArCrmIdMap(models.Model):
    _name = "ar.crm.id.map"
    _description = "CRM id map"
    _order = "backend_id, stream, id"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "ar.crm.backend", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    stream = fields.Selection(STREAMS, required=True)
    local_id = fields.Char(string="Odoo id", required=True)
    remote_id = fields.Char(string="CRM id", index=True)
    push_hash = fields.Char(default="")
    pull_hash = fields.Char(default="")
    partner_id = fields.Many2one("res.partner", compute="_compute_records", string="Customer")
    payment_id = fields.Many2one("account.payment", compute="_compute_records", string="Payment")

    _sql_constraints = [
        (
            "backend_stream_local_unique",
            "UNIQUE(backend_id, stream, local_id)",
            "An Odoo record is mapped once per backend.",
        ),
    ]

    @api.depends("stream", "local_id")
    def _compute_records(self):
        for entry in self:
            local = int(entry.local_id) if (entry.local_id or "").isdigit() else False
            entry.partner_id = local if entry.stream == "customers" else False
            entry.payment_id = local if entry.stream == "payments" else False
