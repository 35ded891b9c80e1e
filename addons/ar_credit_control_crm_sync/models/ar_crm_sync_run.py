"""One sync run of a backend: when, who, what moved, and how it ended (never a secret)."""

import json

from odoo import _, api, fields, models

RUN_STATES = [
    ("running", "Running"),
    ("done", "Done"),
    ("partial", "Done with dead letters"),
    ("failed", "Failed"),
    ("locked", "Skipped: another run"),
]
TRIGGERS = [
    ("manual", "Sync now"),
    ("cron", "Scheduled"),
    ("check", "Connection test"),
    ("replay", "Replay"),
    ("queue", "Queued chunk"),
]


class ArCrmSyncRun(models.Model):
    _name = "ar.crm.sync.run"
    _description = "CRM sync run"
    _order = "started_at desc, id desc"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "ar.crm.backend", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    user_id = fields.Many2one("res.users", string="Started by", default=lambda self: self.env.user)
    trigger = fields.Selection(TRIGGERS, required=True)
    state = fields.Selection(RUN_STATES, required=True, default="running")
    started_at = fields.Datetime(required=True, default=fields.Datetime.now)
    finished_at = fields.Datetime()
    duration = fields.Float(string="Seconds", compute="_compute_duration")
    full_scan = fields.Boolean(help="Odoo customers were rescanned from the start.")
    counters = fields.Json()
    counters_text = fields.Text(string="Counters", compute="_compute_counters_text")
    crm_created = fields.Integer(string="Created in CRM")
    crm_updated = fields.Integer(string="Updated in CRM")
    odoo_created = fields.Integer(string="Created in Odoo")
    odoo_updated = fields.Integer(string="Updated in Odoo")
    odoo_archived = fields.Integer(string="Archived in Odoo")
    payments_created = fields.Integer(string="Draft payments")
    dead_letters = fields.Integer()
    error_summary = fields.Text(help="What went wrong, without credentials.")

    @api.depends("started_at", "finished_at")
    def _compute_duration(self):
        for run in self:
            end = run.finished_at or run.started_at
            run.duration = (end - run.started_at).total_seconds() if run.started_at else 0.0

    @api.depends("counters")
    def _compute_counters_text(self):
        for run in self:
            run.counters_text = json.dumps(run.counters or {}, indent=1, sort_keys=True)

    def _finish(self, state, counters=None, error=None):
        counters = dict(counters or {})
        self.write(
            {
                "state": state,
                "finished_at": fields.Datetime.now(),
                "counters": counters,
                "crm_created": counters.get("crm_created", 0),
                "crm_updated": counters.get("crm_updated", 0),
                "odoo_created": counters.get("odoo_created", 0),
                "odoo_updated": counters.get("odoo_writes", 0),
                "odoo_archived": counters.get("odoo_archived", 0),
                "payments_created": counters.get("payments_created", 0),
                "dead_letters": counters.get("dead_letters", 0),
                "error_summary": error or False,
            }
        )

    def _action_notify(self):
        """A notification summing up these runs, for the buttons that start them."""
        problems = self.filtered(lambda run: run.state in ("partial", "failed", "locked"))
        lines = [
            _(
                "%(trigger)s: %(state)s. CRM created %(crm_created)s, updated %(crm_updated)s; "
                "Odoo created %(odoo_created)s, updated %(odoo_updated)s; draft payments "
                "%(payments)s; dead letters %(dead)s.",
                trigger=dict(self._fields["trigger"]._description_selection(self.env))[run.trigger],
                state=dict(self._fields["state"]._description_selection(self.env))[run.state],
                crm_created=run.crm_created,
                crm_updated=run.crm_updated,
                odoo_created=run.odoo_created,
                odoo_updated=run.odoo_updated,
                payments=run.payments_created,
                dead=run.dead_letters,
            )
            for run in self
        ]
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("CRM synchronisation"),
                "message": "\n".join(lines),
                "type": "warning" if problems else "success",
                "sticky": bool(problems),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
