"""Bad-debt provision (percentage-of-aging, IFRS 9 simplified approach, CAS 22 aging groups).

A matrix gives a loss rate per bucket of an aging set. A run at a date takes the open
receivables per bucket from the aging query as of that date, the allowance account's balance
at that date, and lets ``ar_engine.provision`` compute the required allowance and the
difference; a manager posts that difference (increase: expense / allowance; decrease: the
reverse).
"""

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ar_engine.errors import InvalidInputError
from ar_engine.provision import ProvisionMatrix, compute_provision

MANAGER_GROUP = "ar_credit_control.group_credit_control_manager"


class ArProvisionMatrix(models.Model):
    _name = "ar.provision.matrix"
    _description = "Bad-debt provision matrix"
    _inherit = ["mail.thread"]
    _check_company_auto = True
    _order = "company_id, name"

    name = fields.Char(required=True, translate=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, tracking=True
    )
    bucket_set_id = fields.Many2one(
        "ar.aging.bucket.set",
        string="Aging buckets",
        required=True,
        check_company=True,
        tracking=True,
    )
    allowance_account_id = fields.Many2one(
        "account.account",
        string="Allowance account",
        required=True,
        check_company=True,
        tracking=True,
        help="The contra-receivable account holding the allowance for doubtful accounts.",
    )
    expense_account_id = fields.Many2one(
        "account.account",
        string="Bad-debt expense account",
        required=True,
        check_company=True,
        tracking=True,
    )
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        check_company=True,
        domain="[('type', '=', 'general')]",
        tracking=True,
    )
    line_ids = fields.One2many("ar.provision.matrix.line", "matrix_id", string="Loss rates")

    def action_load_buckets(self):
        """Add a 0% line for every bucket of the aging set that has none."""
        for matrix in self:
            missing = matrix.bucket_set_id.line_ids - matrix.line_ids.bucket_id
            matrix.line_ids = [
                Command.create({"bucket_id": bucket.id, "rate_percent": 0.0}) for bucket in missing
            ]

    def _engine_matrix(self) -> ProvisionMatrix:
        """The engine matrix keyed by bucket line id; buckets without a line count 0%."""
        self.ensure_one()
        rates = {str(bucket.id): 0.0 for bucket in self.bucket_set_id.line_ids}
        for line in self.line_ids:
            rates[str(line.bucket_id.id)] = line.rate_percent
        try:
            return ProvisionMatrix(rates)
        except InvalidInputError as error:
            raise ValidationError(
                self.env._(
                    "Provision matrix %(name)s: a loss rate is a percentage between 0 and 100.",
                    name=self.display_name,
                )
            ) from error

    @api.constrains("line_ids", "bucket_set_id")
    def _check_rates(self):
        for matrix in self:
            if matrix.line_ids.bucket_id.bucket_set_id - matrix.bucket_set_id:
                raise ValidationError(
                    self.env._("The loss rates must use the buckets of the matrix's aging set.")
                )
            matrix._engine_matrix()


class ArProvisionMatrixLine(models.Model):
    _name = "ar.provision.matrix.line"
    _description = "Bad-debt provision loss rate"
    _order = "matrix_id, sequence, id"

    matrix_id = fields.Many2one("ar.provision.matrix", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="matrix_id.company_id", store=True)
    bucket_id = fields.Many2one(
        "ar.aging.bucket.set.line", string="Bucket", required=True, ondelete="cascade"
    )
    sequence = fields.Integer(related="bucket_id.sequence")
    rate_percent = fields.Float(string="Loss rate (%)", digits=(5, 2))

    _sql_constraints = [
        ("bucket_unique", "UNIQUE(matrix_id, bucket_id)", "One loss rate per bucket."),
    ]

    @api.constrains("rate_percent")
    def _check_rate(self):
        self.matrix_id._check_rates()


class ArProvisionRun(models.Model):
    _name = "ar.provision.run"
    _description = "Bad-debt provision run"
    _inherit = ["mail.thread"]
    _check_company_auto = True
    _order = "date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    matrix_id = fields.Many2one(
        "ar.provision.matrix", required=True, check_company=True, tracking=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(
        string="As of", required=True, default=fields.Date.context_today, tracking=True
    )
    state = fields.Selection(
        [("draft", "Proposed"), ("posted", "Posted")],
        default="draft",
        readonly=True,
        tracking=True,
    )
    line_ids = fields.One2many("ar.provision.run.line", "run_id", readonly=True)
    total_required = fields.Monetary(readonly=True)
    existing_allowance = fields.Monetary(readonly=True)
    adjustment = fields.Monetary(
        readonly=True, help="Positive: the allowance is increased; negative: part is reversed."
    )
    move_id = fields.Many2one("account.move", string="Journal entry", readonly=True, copy=False)
    posted_by_id = fields.Many2one("res.users", readonly=True, copy=False)

    @api.depends("matrix_id.name", "date")
    def _compute_name(self):
        for run in self:
            run.name = f"{run.matrix_id.name or ''} {run.date or ''}".strip()

    def _open_amounts_by_bucket(self):
        """{bucket line id (str): open receivables in company currency} as of the run's date."""
        aging = self.env["ar.aging.report"]
        self.env.flush_all()
        aging._disable_jit()
        query = SQL(
            "SELECT items.bucket_id, SUM(items.amount_residual) FROM (%s) AS items"
            " WHERE items.bucket_id IS NOT NULL GROUP BY items.bucket_id",
            aging._open_items_sql(self.matrix_id.bucket_set_id, self.date, self.company_id.ids),
        )
        return {str(bucket_id): amount for bucket_id, amount in self.env.execute_query(query)}

    def _allowance_balance(self):
        """The allowance account's credit balance at the end of the run's date."""
        [(balance,)] = self.env.execute_query(
            SQL(
                """
                SELECT COALESCE(-SUM(balance), 0) FROM account_move_line
                 WHERE account_id = %s AND company_id = %s
                   AND parent_state = 'posted' AND date <= %s
                """,
                self.matrix_id.allowance_account_id.id,
                self.company_id.id,
                self.date,
            )
        )
        return balance

    def action_compute(self):
        self._check_manager()
        for run in self:
            if run.state != "draft":
                raise UserError(self.env._("A posted provision run cannot be recomputed."))
            existing = run._allowance_balance()
            if existing < 0:
                raise UserError(
                    self.env._(
                        "The allowance account %(account)s has a debit balance at %(date)s: "
                        "correct it before computing the provision.",
                        account=run.matrix_id.allowance_account_id.display_name,
                        date=run.date,
                    )
                )
            result = compute_provision(
                run._open_amounts_by_bucket(),
                existing,
                run.matrix_id._engine_matrix(),
                decimals=run.currency_id.decimal_places,
            )
            run.write(
                {
                    "line_ids": [Command.clear()]
                    + [
                        Command.create(
                            {
                                "bucket_id": int(line.bucket_key),
                                "open_amount": float(line.open_amount),
                                "rate_percent": float(line.rate_percent),
                                "required": float(line.required),
                            }
                        )
                        for line in result.lines
                    ],
                    "total_required": float(result.total_required),
                    "existing_allowance": float(result.existing_allowance),
                    "adjustment": float(result.adjustment),
                }
            )
        return True

    def _check_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only a credit manager can compute or post provisions."))

    def action_post(self):
        """Recompute, then book the adjustment (nothing to book when it is zero)."""
        self._check_manager()
        for run in self:
            if run.state != "draft":
                raise UserError(self.env._("This provision run is already posted."))
            lock_date = run.company_id._get_user_fiscal_lock_date(run.matrix_id.journal_id)
            if run.date <= lock_date:
                raise UserError(
                    self.env._(
                        "The provision date %(date)s is in a locked period (locked up to "
                        "%(lock)s).",
                        date=run.date,
                        lock=lock_date,
                    )
                )
            run.action_compute()
            move = self.env["account.move"]
            if not run.currency_id.is_zero(run.adjustment):
                move = run._create_move()
            run.write({"state": "posted", "move_id": move.id, "posted_by_id": self.env.uid})
        return True

    def _create_move(self):
        matrix = self.matrix_id
        label = self.env._("Bad-debt provision %(name)s", name=self.name)
        amount = self.adjustment  # > 0: Dr expense / Cr allowance; < 0: the reverse
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": matrix.journal_id.id,
                "company_id": self.company_id.id,
                "date": self.date,
                "ref": label,
                "line_ids": [
                    Command.create(
                        {
                            "name": label,
                            "account_id": matrix.expense_account_id.id,
                            "balance": amount,
                        }
                    ),
                    Command.create(
                        {
                            "name": label,
                            "account_id": matrix.allowance_account_id.id,
                            "balance": -amount,
                        }
                    ),
                ],
            }
        )
        move.action_post()
        return move


class ArProvisionRunLine(models.Model):
    _name = "ar.provision.run.line"
    _description = "Bad-debt provision per bucket"
    _order = "run_id, sequence, id"

    run_id = fields.Many2one("ar.provision.run", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="run_id.company_id", store=True)
    currency_id = fields.Many2one(related="run_id.currency_id")
    bucket_id = fields.Many2one("ar.aging.bucket.set.line", string="Bucket", ondelete="cascade")
    sequence = fields.Integer(related="bucket_id.sequence")
    open_amount = fields.Monetary()
    rate_percent = fields.Float(string="Loss rate (%)", digits=(5, 2))
    required = fields.Monetary(string="Required allowance")
