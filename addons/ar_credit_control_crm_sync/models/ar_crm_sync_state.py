"""Key/value sync state of a backend: cursors, the last run, the cached CRM access token.

Holds an access token, so only system administrators may read it; the sync reads and writes
it through :class:`~..services.state_store.OdooStateStore`.
"""

from odoo import fields, models


class ArCrmSyncState(models.Model):
    _name = "ar.crm.sync.state"
    _description = "CRM sync state value"
    _order = "backend_id, key"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "ar.crm.backend", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    key = fields.Char(required=True)
    value = fields.Text(required=True)

    _sql_constraints = [
        ("backend_key_unique", "UNIQUE(backend_id, key)", "One value per key and backend."),
    ]
