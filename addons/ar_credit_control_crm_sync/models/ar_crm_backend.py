"""A CRM connection of a company, and the entry points that run crm_sync inside Odoo.

The backend turns its fields into a ``crm_sync`` configuration, hands the SDK the Odoo ``env``
(in-process gateway: the user's own access rights apply) and a state store on the addon's
tables, and records every run in ``ar.crm.sync.run``. Buttons run as the user who presses them;
the scheduled action runs as the addon's integration user (never superuser), in the backend's
company only. Credentials are readable only by system administrators; the run reads them with
``sudo`` and no message, log line or chatter entry ever contains them (errors pass through
crm_sync's redaction). The server they are sent to is changed by system administrators only,
must be https (or loopback), and changing it forgets the stored credentials.
"""

import json
import logging
import threading
from datetime import timedelta

from pydantic import SecretStr

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

from crm_sync.config import (
    ZOHO_ACCOUNTS_HOSTS,
    Secrets,
    ZohoFields,
    is_secure_url,
    parse_config,
)
from crm_sync.connector import ErpPosition
from crm_sync.engine import DL_PUSH, RunReport
from crm_sync.errors import (
    AuthError,
    ConfigError,
    CrmSyncError,
    LockHeld,
    RemoteUnavailable,
)
from crm_sync.redaction import redact, register_secret
from crm_sync.retry import RetryPolicy
from crm_sync.runtime import build_runtime

from ..services.state_store import OdooStateStore

_logger = logging.getLogger(__name__)

DATA_CENTRES = [
    ("com", "United States (zoho.com)"),
    ("eu", "Europe (zoho.eu)"),
    ("in", "India (zoho.in)"),
    ("com.au", "Australia (zoho.com.au)"),
    ("com.cn", "China (zoho.com.cn)"),
    ("jp", "Japan (zoho.jp)"),
    ("sa", "Saudi Arabia (zoho.sa)"),
    ("ca", "Canada (zohocloud.ca)"),
]
assert {code for code, _label in DATA_CENTRES} == set(ZOHO_ACCOUNTS_HOSTS)
SECRET_FIELDS = ("client_secret", "refresh_token")
# Where the credentials are sent: system administrators only, and a change forgets them.
SERVER_URL_FIELDS = ("api_base_url",)
INTEGRATION_USER = "ar_credit_control_crm_sync.user_crm_integration"


def _auto_commit():
    """Crons keep finished pages; tests and buttons leave the transaction to Odoo."""
    return not getattr(threading.current_thread(), "testing", False)


class ArCrmBackend(models.Model):
    _name = "ar.crm.backend"
    _description = "CRM backend"
    _inherit = ["mail.thread", "ar.company.owned"]
    _order = "company_id, name"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    crm_type = fields.Selection(
        [("zoho", "Zoho CRM")],
        string="CRM",
        required=True,
        default="zoho",
        tracking=True,
        help="The CRM this backend talks to. Other CRMs (SOAP, FXiaoKe) plug in here.",
    )
    # -- connection --
    zoho_data_centre = fields.Selection(
        DATA_CENTRES, string="Data centre", required=True, default="com", tracking=True
    )
    api_base_url = fields.Char(
        string="Accounts server URL",
        tracking=True,
        copy=False,
        help="Overrides the data centre's accounts server (a test emulator, a proxy). The API "
        "address comes back with every access token. Set by system administrators only; an "
        "https:// address (http:// only to this machine). Changing it clears the client secret "
        "and the refresh token.",
    )
    client_id = fields.Char(string="Client ID", tracking=True)
    client_secret = fields.Char(groups="base.group_system", copy=False)
    refresh_token = fields.Char(groups="base.group_system", copy=False)
    has_credentials = fields.Boolean(compute="_compute_has_credentials", string="Credentials set")
    timeout_seconds = fields.Integer(string="Timeout (s)", default=30)
    retry_attempts = fields.Integer(default=6, help="Attempts on 429/5xx before a run fails.")
    retry_base_delay = fields.Float(string="Retry delay (s)", default=1.0)
    # -- what moves --
    accounts_module = fields.Char(default="Accounts", required=True)
    payments_module = fields.Char(default="Payments", help="Empty: no payments from the CRM.")
    field_mapping = fields.Text(
        help="API names of CRM fields that differ from the defaults, as JSON, e.g. "
        '{"credit_limit": "Credit_Line", "external_id": "ERP_ID"}.'
    )
    customer_domain = fields.Char(
        default="[('is_company', '=', True)]",
        required=True,
        help="Odoo customers that are synchronised.",
    )
    create_in_odoo = fields.Boolean(
        string="Create CRM accounts in Odoo", default=True, tracking=True
    )
    create_in_crm = fields.Boolean(
        string="Create Odoo customers in the CRM", default=True, tracking=True
    )
    sync_payments = fields.Boolean(
        string="Import CRM payments",
        default=True,
        tracking=True,
        help="Payments recorded in the CRM arrive as draft payments for accounting to review.",
    )
    match_by_vat = fields.Boolean(default=True)
    match_by_email = fields.Boolean(default=True)
    match_by_name = fields.Boolean(default=True)
    deletion_policy = fields.Selection(
        [("archive", "Archive the Odoo customer"), ("ignore", "Ignore")],
        string="CRM deletions",
        required=True,
        default="archive",
        tracking=True,
        help="Odoo customers are never deleted: a CRM deletion archives them, or is ignored.",
    )
    archived_in_odoo = fields.Selection(
        [("ignore", "Leave the CRM account alone"), ("mark", "Mark the CRM account")],
        string="Odoo archiving",
        required=True,
        default="ignore",
    )
    overlap_seconds = fields.Integer(default=300, help="Re-read window behind each cursor.")
    full_rescan_hours = fields.Integer(
        default=24,
        help="Credit figures change without touching the customer: every so many hours a run "
        "compares every customer (only changed ones are sent). 0: never.",
    )
    last_full_scan = fields.Datetime(readonly=True, copy=False)
    use_queue_job = fields.Boolean(
        string="Push in background jobs",
        help="With the queue_job addon installed, scheduled runs send customers to the CRM in "
        "background jobs of the chunk size; without it they run inline.",
    )
    push_chunk_size = fields.Integer(default=1000)
    # -- runs --
    run_ids = fields.One2many("ar.crm.sync.run", "backend_id")
    last_run_id = fields.Many2one("ar.crm.sync.run", readonly=True, copy=False)
    last_run_state = fields.Selection(related="last_run_id.state", string="Last run")
    last_run_date = fields.Datetime(related="last_run_id.started_at", string="Last run at")
    run_count = fields.Integer(compute="_compute_counts")
    dead_letter_count = fields.Integer(compute="_compute_counts")

    _sql_constraints = [
        ("chunk_positive", "CHECK(push_chunk_size > 0)", "The chunk size must be positive."),
    ]

    @api.depends_context("uid")
    def _compute_has_credentials(self):
        for backend in self:
            sudo = backend.sudo()
            backend.has_credentials = bool(sudo.client_secret and sudo.refresh_token)

    def _compute_counts(self):
        runs = dict(
            self.env["ar.crm.sync.run"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        letters = dict(
            self.env["ar.crm.dead.letter"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.run_count = runs.get(backend, 0)
            backend.dead_letter_count = letters.get(backend, 0)

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get(name) for vals in vals_list for name in SERVER_URL_FIELDS):
            self._check_server_url_rights()
        return super().create(vals_list)

    def write(self, vals):
        moved = self.browse()
        if any(name in vals for name in SERVER_URL_FIELDS):
            self._check_server_url_rights()
            moved = self.filtered(
                lambda backend: any(
                    (backend[name] or False) != (vals[name] or False)
                    for name in SERVER_URL_FIELDS
                    if name in vals
                )
            )
        result = super().write(vals)
        if moved:
            moved._forget_credentials(keep=set(vals))
        return result

    def _check_server_url_rights(self):
        # Credentials are posted to this server: whoever sets it could collect them.
        if not self.env.su and not self.env.user.has_group("base.group_system"):
            raise AccessError(
                _(
                    "Only system administrators may change the address of the CRM server: the "
                    "credentials are sent there."
                )
            )

    def _forget_credentials(self, keep=()):
        """The server changed: the secrets (but those just given) and cached tokens go."""
        cleared = {name: False for name in SECRET_FIELDS if name not in keep}
        if cleared:
            self.sudo().write(cleared)
        self.env["ar.crm.sync.state"].sudo().search(
            [("backend_id", "in", self.ids), ("key", "=like", "token:%")]
        ).unlink()

    @api.constrains(*SERVER_URL_FIELDS)
    def _check_server_url(self):
        for backend in self:
            for name in SERVER_URL_FIELDS:
                if backend[name] and not is_secure_url(backend[name]):
                    raise ValidationError(
                        _(
                            "%(backend)s: the CRM server address %(url)s is refused. Use an "
                            "https:// address (http:// only to this machine: localhost, "
                            "127.0.0.1, ::1).",
                            backend=backend.name,
                            url=backend[name],
                        )
                    )

    @api.constrains("field_mapping")
    def _check_field_mapping(self):
        for backend in self:
            try:
                backend._zoho_fields()
            except (ValueError, TypeError) as exc:
                raise ValidationError(
                    _("Field mapping of %(backend)s: %(error)s", backend=backend.name, error=exc)
                ) from None

    @api.constrains("customer_domain")
    def _check_customer_domain(self):
        for backend in self:
            try:
                domain = safe_eval(backend.customer_domain or "[]")
                self.env["res.partner"].search_count(domain, limit=1)
            except Exception as exc:
                raise ValidationError(
                    _("Customer filter of %(backend)s: %(error)s", backend=backend.name, error=exc)
                ) from None

    # ------------------------------------------------------------------ configuration

    def _zoho_fields(self):
        overrides = json.loads(self.field_mapping) if self.field_mapping else {}
        if not isinstance(overrides, dict):
            raise ValueError(_("a JSON object is expected"))
        unknown = set(overrides) - set(ZohoFields.model_fields)
        if unknown:
            raise ValueError(
                _(
                    "unknown fields %(fields)s; known: %(known)s",
                    fields=", ".join(sorted(unknown)),
                    known=", ".join(ZohoFields.model_fields),
                )
            )
        return {**ZohoFields().model_dump(), **overrides}

    def _sync_config(self):
        """The crm_sync configuration of this backend (settings only, no secret)."""
        self.ensure_one()
        if self.crm_type != "zoho":
            raise UserError(_("CRM %(crm)s is not supported yet.", crm=self.crm_type))
        rules = [
            rule
            for rule, wanted in (
                ("vat", self.match_by_vat),
                ("email", self.match_by_email),
                ("name", self.match_by_name),
            )
            if wanted
        ]
        raw = {
            "crm": {
                "data_centre": self.zoho_data_centre,
                "accounts_url": self.api_base_url or None,
                "client_id": self.client_id or "",
                "accounts_module": self.accounts_module,
                "payments_module": self.payments_module or "",
                "timeout_seconds": self.timeout_seconds or 30,
                "fields": self._zoho_fields(),
            },
            "odoo": {
                "url": self.get_base_url(),
                "database": self.env.cr.dbname,
                "login": self.env.user.login,
                "company_id": self.company_id.id,
                "customer_domain": [
                    list(term) if isinstance(term, (list, tuple)) else term
                    for term in safe_eval(self.customer_domain or "[]")
                ],
            },
            "sync": {
                "overlap_seconds": max(self.overlap_seconds, 0),
                "duplicate_rules": rules,
                "create_in_odoo": self.create_in_odoo,
                "create_in_crm": self.create_in_crm,
                "deletions_from_crm": self.deletion_policy,
                "archived_in_odoo": self.archived_in_odoo,
                "sync_payments": self.sync_payments and bool(self.payments_module),
            },
            "retry": {
                "max_attempts": max(self.retry_attempts, 1),
                "base_delay": max(self.retry_base_delay, 0.0),
            },
        }
        return parse_config(raw, source=self.name)

    def _sync_secrets(self):
        backend = self.sudo()
        if not (backend.client_id and backend.client_secret and backend.refresh_token):
            raise ConfigError("client id, client secret or refresh token missing", code="secret")
        for name in SECRET_FIELDS:
            register_secret(backend[name])  # masked wherever crm_sync logs or reports
        return Secrets(
            zoho_client_secret=SecretStr(backend.client_secret),
            zoho_refresh_token=SecretStr(backend.refresh_token),
        )

    def _runtime(self, *, commit=False):
        """(runtime, state store) for one run, in this backend's company and user's rights."""
        self.ensure_one()
        backend = self.with_company(self.company_id)
        config = backend._sync_config()
        state = OdooStateStore(backend.sudo(), commit=commit)
        retry = RetryPolicy(
            max_attempts=config.retry.max_attempts,
            base_delay=config.retry.base_delay,
            max_delay=config.retry.max_delay,
        )
        runtime = build_runtime(
            config,
            secrets=backend._sync_secrets(),
            odoo_env=backend.env,
            state=state,
            retry=retry,
        )
        return runtime, state

    # ------------------------------------------------------------------ runs

    def _start_run(self, trigger, full_scan=False):
        return (
            self.env["ar.crm.sync.run"]
            .sudo()
            .create(
                {
                    "backend_id": self.id,
                    "company_id": self.company_id.id,
                    "trigger": trigger,
                    "full_scan": full_scan,
                    "user_id": self.env.uid,
                }
            )
        )

    @api.model
    def _describe_error(self, exc):
        """A user-facing message for a crm_sync error, with every secret masked."""
        detail = redact(str(exc))
        if isinstance(exc, LockHeld):
            return _("Another synchronisation of this backend is running; try again shortly.")
        if isinstance(exc, AuthError):
            return _(
                "The CRM refused the credentials (%(detail)s). Check the client ID, client "
                "secret and refresh token.",
                detail=detail,
            )
        if isinstance(exc, ConfigError):
            return _("The backend is not fully configured: %(detail)s", detail=detail)
        if isinstance(exc, RemoteUnavailable):
            return _(
                "The CRM is unavailable or rate-limited (%(detail)s). The next run retries.",
                detail=detail,
            )
        return _("Synchronisation failed: %(detail)s", detail=detail)

    def _full_scan_due(self):
        if not self.full_rescan_hours:
            return False
        return not self.last_full_scan or self.last_full_scan < fields.Datetime.now() - timedelta(
            hours=self.full_rescan_hours
        )

    def _execute(self, trigger, work, *, commit=False, full_scan=False):
        """Run ``work(runtime)`` → RunReport (or None), recorded as one ``ar.crm.sync.run``.

        crm_sync errors end the run as failed (or skipped when locked) and are returned as a
        message; anything else propagates so that Odoo rolls the transaction back.
        """
        self.ensure_one()
        run = self._start_run(trigger, full_scan)
        self.sudo().last_run_id = run
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        # Credit figures are computed, not stored: read them fresh, not from this env's cache.
        self.env.invalidate_all()
        runtime = None
        try:
            runtime, _state = self._runtime(commit=commit)
            report = work(runtime)
        except CrmSyncError as exc:
            message = self._describe_error(exc)
            run._finish("locked" if isinstance(exc, LockHeld) else "failed", error=message)
            _logger.warning(
                "CRM backend %s: %s run ended: %s (%s)",
                self.id,
                trigger,
                type(exc).__name__,
                exc.code or "-",
            )
            return run, message
        finally:
            if runtime is not None:
                runtime.close()
        counters = report.as_dict() if report is not None else {}
        counters.pop("dry_run", None)
        run._finish("partial" if counters.get("dead_letters") else "done", counters)
        if full_scan:
            self.sudo().last_full_scan = run.started_at
        _logger.info("CRM backend %s: %s run finished: %s", self.id, trigger, counters)
        return run, None

    def _sync(self, trigger, *, commit=False):
        full = self._full_scan_due()

        def work(runtime):
            if self.use_queue_job:
                return self._sync_with_chunks(runtime, full)
            return runtime.engine.run(full=full)

        return self._execute(trigger, work, commit=commit, full_scan=full)

    def _sync_with_chunks(self, runtime, full):
        """Pull inline, then push the customers in independent chunks: background jobs that
        several workers share when queue_job is installed, inline otherwise. The Odoo cursor
        moves to where the plan scanned only once every chunk is pushed."""
        engine = runtime.engine
        report = RunReport()
        with engine.state.lock():
            engine.pull_customers(report)
            engine.pull_deletions(report)
            if engine.options.sync_payments:
                engine.pull_payments(report)
            plan = engine.plan_push(self.push_chunk_size, full=full)
        report.add("push_chunks", len(plan.chunks))
        if "queue.job" in self.env:
            self._delay_push_chunks(plan)
            return report
        for chunk in plan.chunks:
            chunk_report = engine.push_chunk(chunk)
            report.dead_letters += chunk_report.dead_letters
            for name, amount in chunk_report.counters.items():
                report.add(name, amount)
        engine.complete_push(plan.scanned)
        return report

    def _delay_push_chunks(self, plan):
        """One job per chunk, run in parallel; the cursor job runs when all of them are done
        (a failed chunk job holds it back until it is retried successfully)."""
        from odoo.addons.queue_job.delay import group  # noqa: PLC0415 (optional addon)

        scanned = plan.scanned.encode() if plan.scanned else False
        complete = self.delayable(
            description=self.env._("CRM sync %(name)s: move the Odoo cursor", name=self.name)
        )._complete_push_job(scanned)
        if not plan.chunks:
            complete.delay()
            return
        jobs = [
            self.delayable(
                description=self.env._(
                    "CRM sync %(name)s: push %(count)s customers", name=self.name, count=len(chunk)
                )
            )._push_chunk_job(chunk)
            for chunk in plan.chunks
        ]
        group(*jobs).on_done(complete).delay()

    def _push_chunk_job(self, erp_ids):
        """Background job: send one chunk of customers to the CRM."""
        self.ensure_one()
        run, message = self._execute("queue", lambda runtime: runtime.engine.push_chunk(erp_ids))
        if message:
            raise UserError(message)  # the job is marked failed and can be retried
        return run.counters

    def _complete_push_job(self, scanned):
        """Background job, after every chunk of a plan: move the Odoo cursor."""
        self.ensure_one()
        position = ErpPosition.decode(scanned) if scanned else None

        def work(runtime):
            report = RunReport()
            report.add("cursor_moved", int(runtime.engine.complete_push(position)))
            return report

        _run, message = self._execute("queue", work)
        if message:
            raise UserError(message)

    def _replay(self, letters=None):
        """Re-send dead letters: the given ones, or all of the backend's."""
        self.ensure_one()
        push_ids = None
        if letters is not None and set(letters.mapped("stream")) == {DL_PUSH}:
            push_ids = [int(key) for key in letters.mapped("record_key")]

        def work(runtime):
            if push_ids is None:
                return runtime.engine.replay()
            with runtime.state.lock():
                return runtime.engine.push_chunk(push_ids, force=True)

        run, _message = self._execute("replay", work)
        return run

    # ------------------------------------------------------------------ buttons

    def _check_manager(self):
        # Buttons can be called over RPC by anyone who can read the record.
        self.check_access("write")

    def action_test_connection(self):
        """Refresh a CRM access token and read one account; read one Odoo customer."""
        self._check_manager()
        self.ensure_one()

        def work(runtime):
            runtime.crm.check()
            runtime.erp.check()
            return None

        _run, message = self._execute("check", work)
        # A notification rather than an error: the failed check stays in the run log.
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("CRM connection"),
                "message": message
                or _("%(backend)s: the CRM and Odoo answered.", backend=self.name),
                "type": "danger" if message else "success",
                "sticky": bool(message),
            },
        }

    def action_sync_now(self):
        """One incremental pass in both directions, in this transaction."""
        self._check_manager()
        runs = self.env["ar.crm.sync.run"]
        for backend in self:
            run, _message = backend._sync("manual")
            runs |= run
        return runs._action_notify()

    def action_replay_dead_letters(self):
        self._check_manager()
        runs = self.env["ar.crm.sync.run"]
        for backend in self:
            runs |= backend._replay()
        return runs._action_notify()

    def action_view_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ar_credit_control_crm_sync.action_ar_crm_sync_run"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action

    def action_view_dead_letters(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ar_credit_control_crm_sync.action_ar_crm_dead_letter"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------ cron

    def _as_integration_user(self):
        """This backend as the CRM integration user, in the backend's company only.

        Scheduled runs write with that user's rights (group_crm_integration: partners, draft
        payments, reading invoices and credit figures), never as superuser; record rules then
        keep them inside the company. The user belongs to every company that has a backend.
        """
        self.ensure_one()
        user = self.env.ref(INTEGRATION_USER).sudo()
        if self.company_id not in user.company_ids:
            user.company_ids = [Command.link(self.company_id.id)]
        return self.with_user(user).with_context(allowed_company_ids=self.company_id.ids)

    @api.model
    def _cron_sync_all(self):
        """Run every active backend of every company, one after the other."""
        commit = _auto_commit()
        for backend in self.sudo().search([("active", "=", True)]):
            try:
                backend._as_integration_user()._sync("cron", commit=commit)
            except Exception as exc:
                if not commit:
                    raise
                self.env.cr.rollback()  # pylint: disable=invalid-commit
                _logger.exception("CRM backend %s: scheduled run crashed", backend.id)
                # The run was committed when it started: do not leave it "running".
                backend.last_run_id.filtered(lambda run: run.state == "running")._finish(
                    "failed", error=_("Internal error (%(error)s).", error=type(exc).__name__)
                )
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
