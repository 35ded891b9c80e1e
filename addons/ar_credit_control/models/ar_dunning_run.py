"""The dunning run: one per company and day, from facts to communications.

1. Facts: ONE SQL query per company returns every open receivable instalment of the customers
   who have something due (overdue, or within the reminder horizon), with its flags (disputed,
   promised, in payment), its own level and the customer's level; days are counted from the
   company's local date.
2. Decisions: ``ar_engine.dunning.decide_dunning_batch``, per policy.
3. Record, in chunks, each committed on its own: communications and their lines, the
   instalments' and customers' new levels, credit holds. The customer's "last dunning" date is
   written in the same transaction as its communication, so a run cut short and started again
   finds those customers already dunned today and creates nothing twice; a unique key per
   (customer, company, day) guards it too.
4. Send, in chunks: each communication on its own savepoint, so one broken template or missing
   address leaves a clear message on that communication and the others go out.

Unapplied cash (payments and credit notes not matched yet, ``ar.receivable``): where the company
sets it against the overdue amount (``ar_net_unapplied_cash``, on by default), the facts carry
the open credits (the engine nets them from the amount due), customers whose unapplied cash
covers their overdue items are not dunned and leave dunning, and before each chunk is sent the
open items of its letters and the customers' unapplied cash are read again: a customer who paid
since the letter was recorded, even between two chunks of the run, gets no letter ("Not sent:
paid"). The run's log (its chatter) names those customers. Without the setting, credits are
not netted and overdue invoices count in full.

A session-level advisory lock per company refuses a second run while one is under way; it is
released when the run ends or its connection closes (a killed worker never leaves it behind).
"""

import logging
from collections import defaultdict
from datetime import datetime
from time import monotonic

import pytz
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ar_engine.dunning import CustomerDunningFacts, DunningItem, decide_dunning_batch

from .ar_credit_profile_dunning import segment_collector_sql
from .ar_receivable import awaiting_bank, net_overdue, open_line

_logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
# Customers named one by one in a log message of the run; the rest are counted.
LOG_NAMES = 50
# Advisory lock namespace of the dunning run (first key); the second key is the company id.
LOCK_NAMESPACE = 0x41524455  # "ARDU"


class ArDunningRun(models.Model):
    _name = "ar.dunning.run"
    _description = "Dunning run"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    date = fields.Date(required=True, readonly=True, help="The company's local date of the run.")
    trigger = fields.Selection(
        [("cron", "Scheduled"), ("manual", "Manual")], required=True, readonly=True
    )
    user_id = fields.Many2one("res.users", string="Started by", readonly=True)
    state = fields.Selection(
        [("running", "Running"), ("done", "Done")], default="running", readonly=True, index=True
    )
    customer_count = fields.Integer(
        string="Customers considered", readonly=True, help="Customers with something due."
    )
    processed_count = fields.Integer(string="Customers processed", readonly=True)
    communication_ids = fields.One2many("ar.dunning.communication", "run_id")
    communication_count = fields.Integer(compute="_compute_counts")
    sent_count = fields.Integer(compute="_compute_counts")
    error_count = fields.Integer(compute="_compute_counts")
    skipped_count = fields.Integer(
        compute="_compute_counts",
        string="Not sent: paid",
        help="Letters recorded, then not sent: the customer paid before their turn came.",
    )
    progress = fields.Float(compute="_compute_counts", string="Progress (%)")
    finished_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("company_date_unique", "UNIQUE(company_id, date)", "One dunning run per company a day.")
    ]

    @api.depends("communication_ids.state", "customer_count", "processed_count")
    def _compute_counts(self):
        counts = defaultdict(int)
        if self.ids:
            for run, state, count in self.env["ar.dunning.communication"]._read_group(
                [("run_id", "in", self.ids)], ["run_id", "state"], ["__count"]
            ):
                counts[run.id, state] += count
        for run in self:
            run.communication_count = sum(
                count for (run_id, _state), count in counts.items() if run_id == run.id
            )
            run.sent_count = counts[run.id, "sent"]
            run.error_count = counts[run.id, "error"]
            run.skipped_count = counts[run.id, "skipped"]
            run.progress = (
                100.0 * run.processed_count / run.customer_count if run.customer_count else 100.0
            )

    @api.depends("company_id", "date")
    def _compute_display_name(self):
        for run in self:
            run.display_name = self.env._(
                "Dunning run %(date)s (%(company)s)", date=run.date, company=run.company_id.name
            )

    # ------------------------------------------------------------------ entry points

    @api.model
    def action_run_now(self):
        """Manual run of the current company (credit managers)."""
        if not self.env.user.has_group("ar_credit_control.group_credit_control_manager"):
            raise AccessError(self.env._("Only credit managers can start a dunning run."))
        run = self.sudo()._run_company(self.env.company, trigger="manual", commit=False)
        return {
            "type": "ir.actions.act_window",
            "res_model": "ar.dunning.run",
            "res_id": run.id,
            "view_mode": "form",
        }

    @api.model
    def _cron_dunning_run(self, chunk_size=CHUNK_SIZE, time_budget=240.0):
        """Daily run of every company with a dunning policy, in committed chunks.

        Stops when the time budget is spent (at least one chunk per call) and reports the rest
        so that Odoo calls the cron again; the next call resumes the same day's run.
        """
        deadline = monotonic() + time_budget
        companies = self.env["res.company"].search([])
        finished = 0
        for company in companies:
            try:
                run = self._run_company(
                    company, trigger="cron", chunk_size=chunk_size, deadline=deadline, commit=True
                )
            except UserError as error:  # another run holds the lock: it does the work
                _logger.info("dunning run of %s skipped: %s", company.name, error)
                continue
            if run and run.state != "done":
                self.env["ir.cron"]._notify_progress(
                    done=finished, remaining=len(companies) - finished
                )
                return False
            finished += 1
        self.env["ir.cron"]._notify_progress(done=finished, remaining=0)
        return True

    # ------------------------------------------------------------------ the run

    @api.model
    def _company_today(self, company):
        """Today in the company's time zone (its partner's), UTC without one."""
        tz = pytz.timezone(company.partner_id.tz or "UTC")
        return pytz.utc.localize(datetime.utcnow()).astimezone(tz).date()

    def _acquire_lock(self, company):
        self.env.cr.execute(SQL("SELECT pg_try_advisory_lock(%s, %s)", LOCK_NAMESPACE, company.id))
        if not self.env.cr.fetchone()[0]:
            raise UserError(
                self.env._(
                    "A dunning run of %(company)s is already under way. Wait for it to finish "
                    "and open the dunning runs to see its progress.",
                    company=company.name,
                )
            )

    def _release_lock(self, company):
        self.env.cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", LOCK_NAMESPACE, company.id))

    @api.model
    def _run_company(
        self,
        company,
        trigger,
        chunk_size=CHUNK_SIZE,
        deadline=None,
        commit=True,
        send=True,
        run_date=None,
    ):
        """Run (or resume) today's dunning of `company`. Returns the run, or an empty
        recordset when the company has no policy. With ``send=False`` the communications are
        recorded and left to send ("To send") by the next call. ``run_date`` runs as on
        another day (the demo data replays past runs)."""
        # The run is the system's work: whoever starts it, it reads and writes as superuser.
        started_by = self.env.uid
        self = (
            self.sudo()
            .with_company(company)
            .with_context(tracking_disable=True, mail_create_nolog=True)
        )
        policies = self.env["ar.dunning.policy"]._policies_for(company)
        if not policies:
            return self.browse()
        self._acquire_lock(company)
        try:
            run_date = run_date or self._company_today(company)
            run = self.search([("company_id", "=", company.id), ("date", "=", run_date)])
            if not run:
                run = self.create(
                    {
                        "company_id": company.id,
                        "date": run_date,
                        "trigger": trigger,
                        "user_id": started_by,
                    }
                )
            elif run.state == "done":
                run.state = "running"  # a later run the same day sends only what is new
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
            run._execute(policies, chunk_size, deadline, commit, send)
            return run
        finally:
            self._release_lock(company)

    def _out_of_time(self, deadline, did_something):
        return deadline is not None and did_something and monotonic() >= deadline

    def _execute(self, policies, chunk_size, deadline, commit, send=True):
        self.ensure_one()
        # Each item's invoice, filled by the facts query: the items are then written without
        # reading the journal items again.
        move_of = {}
        self = self.with_context(dunning_move_of=move_of)
        facts, chosen = self._gather_facts(policies)
        covered = self._covered_by_unapplied_cash(facts)
        if covered:
            self._log_covered(covered)
        # A customer whose communication of an earlier day still waits under the daily email
        # cap gets that one first: no second communication, no level climbed unannounced.
        waiting = self._waiting_customers()
        decisions = [
            entry
            for entry in self._decide(
                {pid: f for pid, f in facts.items() if pid not in covered}, chosen
            )
            if entry[0].partner_id not in waiting
        ]
        to_record = [
            (decision, policy, current)
            for decision, policy, current in decisions
            if decision.communicate or decision.customer_level != current or decision.credit_hold
        ]
        self.customer_count = max(self.customer_count, self.processed_count + len(to_record))
        did_something = False
        for start in range(0, len(to_record), chunk_size):
            if self._out_of_time(deadline, did_something):
                return False
            chunk = to_record[start : start + chunk_size]
            self._record(chunk)
            self.processed_count += len(chunk)
            did_something = True
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self._reset_levels(
            [
                partner_id
                for partner_id, customer in facts.items()
                if partner_id not in covered
                and any(self._is_overdue(item) for item in customer.items)
            ],
            covered_partner_ids=list(covered),
        )
        if not send:
            return False
        while True:
            pending = self._next_to_send(chunk_size)
            if not pending:
                break
            if self._out_of_time(deadline, did_something):
                return False
            # Read again just before sending: a customer may have paid since the letter was
            # recorded (or since the previous chunk went out).
            pending = self._skip_paid(pending)
            pending._send()
            did_something = True
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self._report_held_back()
        self.write({"state": "done", "finished_at": fields.Datetime.now()})
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return True

    # ------------------------------------------------------------------ sending order

    def _pending_domain(self):
        """Communications waiting to be sent: this run's, and those an earlier day's cap held
        back."""
        return [
            ("company_id", "=", self.company_id.id),
            ("state", "=", "draft"),
            ("date", "<=", self.date),
        ]

    def _waiting_customers(self):
        """Customers with a communication of an earlier day still waiting to be sent."""
        waiting = self.env["ar.dunning.communication"].search(
            [*self._pending_domain(), ("date", "<", self.date)]
        )
        return set(waiting.partner_id.ids)

    def _next_to_send(self, limit):
        """The next communications to send, the most urgent first: the oldest day, then the
        highest level, then the largest amount. Under the company's daily email cap, those with
        an email wait once today's allowance is spent (the others still go)."""
        communications = self.env["ar.dunning.communication"]
        order = "date, level_sequence desc, amount_due desc, id"
        cap = self.company_id.ar_dunning_daily_email_cap
        if cap <= 0:
            return communications.search(self._pending_domain(), order=order, limit=limit)
        without_email = communications.search(
            [*self._pending_domain(), ("level_id.channel_email", "=", False)],
            order=order,
            limit=limit,
        )
        allowance = min(limit, cap - self._emails_sent_today())
        with_email = (
            communications.search(
                [*self._pending_domain(), ("level_id.channel_email", "=", True)],
                order=order,
                limit=allowance,
            )
            if allowance > 0
            else communications
        )
        return without_email | with_email

    def _report_held_back(self):
        held = self.env["ar.dunning.communication"].search_count(
            [*self._pending_domain(), ("level_id.channel_email", "=", True)]
        )
        if held:
            self.message_post(
                body=self.env._(
                    "%(count)s dunning emails wait for the next runs: today's cap of %(cap)s "
                    "emails is reached. They go out first, the most urgent first.",
                    count=held,
                    cap=self.company_id.ar_dunning_daily_email_cap,
                )
            )

    def _emails_sent_today(self):
        """Dunning emails the company queued since midnight (its time zone): what the day's
        cap counts."""
        tz = pytz.timezone(self.company_id.partner_id.tz or "UTC")
        midnight = tz.localize(datetime.combine(self.date, datetime.min.time()))
        return self.env["ar.dunning.communication"].search_count(
            [
                ("company_id", "=", self.company_id.id),
                ("mail_id", "!=", False),
                ("sent_at", ">=", midnight.astimezone(pytz.utc).replace(tzinfo=None)),
            ]
        )

    # ------------------------------------------------------------------ facts

    def _is_overdue(self, item):
        """Whether a DunningItem of the facts is owed and past due at the run's date (an
        invoice paid and waiting for the bank is not owed)."""
        return item.amount_residual > 0 and item.due_date < self.date and not item.in_payment

    # ------------------------------------------------------------------ unapplied cash

    def _covered_by_unapplied_cash(self, facts):
        """{customer id: (overdue, unapplied cash)} of the customers of the facts whose
        unapplied cash covers all they have overdue, where the company nets it: they paid, the
        payment waits to be matched. Empty when the company does not net unapplied cash."""
        if not self.company_id.ar_net_unapplied_cash:
            return {}
        overdue = defaultdict(float)
        for partner_id, customer in facts.items():
            for item in customer.items:
                if self._is_overdue(item):
                    overdue[partner_id] += item.amount_residual
        if not overdue:
            return {}
        unapplied = self.env["ar.receivable"]._unapplied_cash(self.company_id, list(overdue))
        currency = self.company_id.currency_id
        return {
            partner_id: (amount, unapplied[partner_id])
            for partner_id, amount in overdue.items()
            if partner_id in unapplied
            and currency.is_zero(net_overdue(amount, unapplied[partner_id]))
        }

    def _skip_paid(self, communications):
        """The `communications` still to send; the others are marked "Not sent: paid".

        Reads again, for each letter, what its items still owe (open, not waiting for the
        bank) and, where the company nets it, the customer's unapplied cash: a letter with
        nothing left to claim is not sent. One query for the items, one for the cash."""
        if not communications:
            return communications
        company = self.company_id
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT line.communication_id,
                       SUM(CASE WHEN %(open_line)s AND NOT (%(awaiting_bank)s)
                                THEN aml.amount_residual ELSE 0 END)
                  FROM ar_dunning_communication_line line
                  JOIN account_move_line aml ON aml.id = line.move_line_ref
                  JOIN account_move move ON move.id = aml.move_id
                 WHERE line.communication_id = ANY(%(communications)s)
                 GROUP BY line.communication_id
                """,
                open_line=open_line("aml"),
                awaiting_bank=awaiting_bank("move"),
                communications=communications.ids,
            )
        )
        still_open = {communication_id: float(amount) for communication_id, amount in rows}
        unapplied = {}
        if company.ar_net_unapplied_cash:
            unapplied = self.env["ar.receivable"]._unapplied_cash(
                company, communications.partner_id.ids
            )
        paid = {}
        for communication in communications:
            claimed = still_open.get(communication.id, 0.0)
            cash = unapplied.get(communication.partner_id.id, 0.0)
            if company.currency_id.compare_amounts(claimed - cash, 0.0) <= 0:
                paid[communication] = (claimed, cash)
        if not paid:
            return communications
        currency = company.currency_id
        skipped = self.env["ar.dunning.communication"]
        for communication, (claimed, cash) in paid.items():
            communication.write(
                {
                    "state": "skipped",
                    "error_message": self.env._(
                        "Not sent: the customer paid. Still open on this letter: %(claimed)s; "
                        "payments and credit notes not matched yet: %(cash)s.",
                        claimed=currency.format(claimed),
                        cash=currency.format(cash),
                    ),
                }
            )
            skipped |= communication
        self._post_customer_list(
            self.env._("Letters not sent, the customers paid before their turn came:"),
            [
                self.env._(
                    "%(customer)s: %(claimed)s still open on the letter, %(cash)s unapplied",
                    customer=communication.partner_id.display_name,
                    claimed=currency.format(claimed),
                    cash=currency.format(cash),
                )
                for communication, (claimed, cash) in paid.items()
            ],
        )
        _logger.info("dunning run %s: %d letters not sent, paid", self.id, len(skipped))
        return communications - skipped

    def _log_covered(self, covered):
        currency = self.company_id.currency_id
        partners = self.env["res.partner"].browse(sorted(covered))
        self._post_customer_list(
            self.env._(
                "Not dunned, their overdue invoices are covered by payments and credit notes "
                "not matched yet (unapplied):"
            ),
            [
                self.env._(
                    "%(customer)s: %(overdue)s overdue, %(cash)s unapplied",
                    customer=partner.display_name,
                    overdue=currency.format(covered[partner.id][0]),
                    cash=currency.format(covered[partner.id][1]),
                )
                for partner in partners
            ],
        )
        _logger.info(
            "dunning run %s: %d customers covered by unapplied cash",
            self.id,
            len(covered),
        )

    def _post_customer_list(self, title, lines):
        """One message in the run's log: a title and a list of customers (the first
        LOG_NAMES named, the others counted)."""
        items = [Markup("<li>%s</li>") % line for line in lines[:LOG_NAMES]]
        if len(lines) > LOG_NAMES:
            items.append(
                Markup("<li>%s</li>")
                % self.env._("and %(count)s more", count=len(lines) - LOG_NAMES)
            )
        self.message_post(body=Markup("<p>%s</p><ul>%s</ul>") % (title, Markup("").join(items)))

    def _reminder_horizon(self, policies):
        """Days before the due date the earliest reminder of these policies goes out."""
        days = [level.days for level in policies.level_ids]
        return max(0, -min(days)) if days else 0

    def _gather_facts(self, policies):
        """{partner id: CustomerDunningFacts}, {partner id: policy} in one query.

        Only the items the engine can act on are read: open debits due by the reminder
        horizon, and open credits (netted from the amount due) where the company sets
        unapplied cash against the overdue amount. Disputed, promised and in-payment invoices
        are few: hash-joined as sets of move ids.
        """
        self.ensure_one()
        self.env.flush_all()
        horizon = self._reminder_horizon(policies)
        receivable_accounts = self.env["ar.receivable"]._account_ids(self.company_id)
        self.env.cr.execute(
            SQL(
                """
                WITH open_items AS (
                    -- "reconciled IS NOT TRUE" and "parent_state" as in Odoo's partial index
                    -- account_move_line__unreconciled_index (account_id, partner_id).
                    SELECT aml.id, aml.move_id, aml.amount_residual,
                           COALESCE(aml.date_maturity, aml.date) AS date_maturity,
                           COALESCE(item_state.level, 0) AS level,
                           COALESCE(partner.commercial_partner_id, partner.id) AS partner_id
                      FROM account_move_line aml
                      JOIN res_partner partner ON partner.id = aml.partner_id
                      LEFT JOIN ar_dunning_item item_state ON item_state.move_line_ref = aml.id
                     WHERE aml.account_id = ANY(%(accounts)s)
                       AND aml.reconciled IS NOT TRUE
                       AND aml.parent_state = 'posted'
                       AND aml.company_id = %(company)s
                       AND ((aml.amount_residual < 0 AND %(net_unapplied)s)
                            OR (aml.amount_residual > 0
                                AND aml.date_maturity <= %(horizon_date)s))
                ),
                due_customers AS (
                    SELECT DISTINCT open_items.partner_id
                      FROM open_items
                      JOIN res_partner customer ON customer.id = open_items.partner_id
                     WHERE open_items.amount_residual > 0
                       AND NOT COALESCE(customer.ar_no_dunning, false)
                ),
                disputed AS (
                    SELECT DISTINCT rel.move_id
                      FROM ar_dispute_account_move_rel rel
                      JOIN ar_dispute dispute ON dispute.id = rel.dispute_id
                     WHERE dispute.state = 'open' AND dispute.company_id = %(company)s
                ),
                promised AS (
                    SELECT DISTINCT rel.move_id
                      FROM ar_payment_promise_account_move_rel rel
                      JOIN ar_payment_promise promise ON promise.id = rel.promise_id
                     WHERE promise.state = 'open' AND promise.company_id = %(company)s
                ),
                -- Paid by a payment the bank has not matched yet ("paid" in Community).
                in_payment AS (
                    SELECT id AS move_id
                      FROM account_move
                     WHERE payment_state IN ('in_payment', 'paid')
                       AND amount_residual <> 0
                       AND company_id = %(company)s
                )
                SELECT item.partner_id, item.id, item.move_id, item.amount_residual,
                       item.date_maturity, item.level,
                       disputed.move_id IS NOT NULL,
                       promised.move_id IS NOT NULL,
                       in_payment.move_id IS NOT NULL,
                       COALESCE(profile.dunning_level, 0), profile.dunning_last_date,
                       profile.segment, profile.grade
                  FROM open_items item
                  JOIN due_customers due ON due.partner_id = item.partner_id
                  LEFT JOIN disputed ON disputed.move_id = item.move_id
                  LEFT JOIN promised ON promised.move_id = item.move_id
                  LEFT JOIN in_payment ON in_payment.move_id = item.move_id
                  LEFT JOIN ar_credit_profile profile
                         ON profile.partner_id = item.partner_id
                        AND profile.company_id = %(company)s
                 ORDER BY item.partner_id, item.id
                """,
                company=self.company_id.id,
                accounts=receivable_accounts,
                horizon_date=fields.Date.add(self.date, days=horizon),
                net_unapplied=bool(self.company_id.ar_net_unapplied_cash),
            )
        )
        items = defaultdict(list)
        customers = {}
        move_of = self.env.context.get("dunning_move_of")
        for (
            partner_id,
            line_id,
            move_id,
            residual,
            due_date,
            level,
            disputed,
            promised,
            in_payment,
            customer_level,
            last_date,
            segment,
            grade,
        ) in self.env.cr.fetchall():
            items[partner_id].append(
                DunningItem(line_id, residual, due_date, level, disputed, promised, in_payment)
            )
            if move_of is not None:
                move_of[line_id] = move_id
            customers[partner_id] = (customer_level, last_date, segment or "standard", grade)
        # Read each policy's criteria once, not per customer.
        criteria = [(policy, policy.segment, policy.grade) for policy in policies]
        chosen_by_profile = {}
        facts, chosen = {}, {}
        for partner_id, (level, last_date, segment, grade) in customers.items():
            key = (segment, grade)
            if key not in chosen_by_profile:
                chosen_by_profile[key] = next(
                    (
                        policy
                        for policy, p_segment, p_grade in criteria
                        if (not p_segment or p_segment == segment)
                        and (not p_grade or p_grade == grade)
                    ),
                    None,
                )
            policy = chosen_by_profile[key]
            if not policy:
                continue
            chosen[partner_id] = policy
            facts[partner_id] = CustomerDunningFacts(
                partner_id=partner_id,
                company_id=self.company_id.id,
                items=tuple(items[partner_id]),
                current_level=level,
                last_dunning_date=last_date,
            )
        return facts, chosen

    def _decide(self, facts, chosen):
        """[(decision, policy, stored customer level)] for every customer of the facts."""
        by_policy = defaultdict(list)
        for partner_id, customer in facts.items():
            by_policy[chosen[partner_id]].append(customer)
        result = []
        for policy, customers in by_policy.items():
            engine_policy = policy._to_engine()
            for customer, decision in zip(
                customers, decide_dunning_batch(customers, engine_policy, self.date)
            ):
                result.append((decision, policy, customer.current_level))
        result.sort(key=lambda entry: entry[0].partner_id)
        return result

    # ------------------------------------------------------------------ recording

    def _record(self, chunk):
        """Write one chunk of decisions: communications with their items, the items' and the
        customers' levels, credit holds. Set-based SQL: a chunk is thousands of customers."""
        self.ensure_one()
        company = self.company_id
        communicating = [(d, p) for d, p, _c in chunk if d.communicate]
        if communicating:
            levels = {
                (level.policy_id.id, level.sequence): level.id
                for level in self.env["ar.dunning.level"].search(
                    [("policy_id", "in", list({p.id for _d, p in communicating}))]
                )
            }
            partner_ids = [d.partner_id for d, _p in communicating]
            contacts = self._dunning_contacts(partner_ids)
            self.env.cr.execute(
                SQL(
                    """
                    INSERT INTO ar_dunning_communication
                           (run_id, company_id, partner_id, contact_id, date, policy_id,
                            level_id, level_sequence, kind, amount_due, state, create_uid,
                            create_date, write_uid, write_date)
                    SELECT %(run)s, %(company)s, data.partner_id, data.contact_id, %(date)s,
                           data.policy_id, data.level_id, data.level_sequence, data.kind,
                           data.amount_due, 'draft', %(uid)s, now() AT TIME ZONE 'UTC',
                           %(uid)s, now() AT TIME ZONE 'UTC'
                      FROM unnest(%(partners)s::int[], %(contacts)s::int[], %(policies)s::int[],
                                  %(levels)s::int[], %(sequences)s::int[], %(kinds)s::varchar[],
                                  %(amounts)s::numeric[])
                           AS data(partner_id, contact_id, policy_id, level_id, level_sequence,
                                   kind, amount_due)
                    RETURNING partner_id, id
                    """,
                    run=self.id,
                    company=company.id,
                    date=self.date,
                    uid=self.env.uid,
                    partners=partner_ids,
                    contacts=[contacts.get(pid, pid) for pid in partner_ids],
                    policies=[p.id for _d, p in communicating],
                    levels=[levels[p.id, d.level.sequence] for d, p in communicating],
                    sequences=[d.level.sequence for d, _p in communicating],
                    kinds=[d.kind for d, _p in communicating],
                    amounts=[d.amount_due for d, _p in communicating],
                )
            )
            communication_ids = dict(self.env.cr.fetchall())
            self.env["ar.dunning.communication"].invalidate_model()
            self.invalidate_recordset(["communication_ids"])
            self._insert_lines(
                [
                    (communication_ids[decision.partner_id], line)
                    for decision, _policy in communicating
                    for line in decision.lines
                ]
            )
        profiles = self._write_levels(chunk)
        on_hold = self.env["ar.credit.profile"].browse(
            [
                profiles[d.partner_id][0]
                for d, _p, _c in chunk
                if d.credit_hold and not profiles[d.partner_id][1]
            ]
        )
        for profile in on_hold:
            profile.with_context(tracking_disable=False, mail_notrack=False).write(
                {"credit_hold": True}
            )
            profile.message_post(
                body=self.env._(
                    "Put on credit hold by the dunning run of %(date)s: the customer reached "
                    "a dunning level that holds credit.",
                    date=self.date,
                )
            )

    def _dunning_contacts(self, partner_ids):
        """{customer id: the contact that receives its dunning}: its first active contact of
        type "Dunning Address" when it has one, else its invoice address (the customer itself
        when it is one, else its first invoice-type contact: what ``address_get(['invoice'])``
        finds for a usual customer). Customers with neither are left out: the communication
        goes to the customer itself. One query for the whole chunk."""
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT ON (contact.commercial_partner_id)
                       contact.commercial_partner_id, contact.id
                  FROM res_partner contact
                 WHERE contact.commercial_partner_id = ANY(%s)
                   AND contact.type IN ('dunning', 'invoice')
                   AND contact.active
                 ORDER BY contact.commercial_partner_id, contact.type <> 'dunning',
                          contact.id <> contact.commercial_partner_id, contact.id
                """,
                partner_ids,
            )
        )
        return dict(self.env.cr.fetchall())

    def _insert_lines(self, lines):
        if not lines:
            return
        move_of = self.env.context["dunning_move_of"]
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO ar_dunning_communication_line
                       (communication_id, company_id, move_line_ref, move_ref, due_date,
                        days_overdue, amount_residual, previous_level, level, create_uid,
                        create_date, write_uid, write_date)
                SELECT data.communication_id, %(company)s, data.line_id, data.move_id,
                       data.due_date, data.days_overdue, data.amount_residual,
                       data.previous_level, data.level, %(uid)s, now() AT TIME ZONE 'UTC',
                       %(uid)s, now() AT TIME ZONE 'UTC'
                  FROM unnest(%(comm)s::int[], %(line)s::int[], %(move)s::int[], %(due)s::date[],
                              %(days)s::int[], %(amount)s::numeric[], %(previous)s::int[],
                              %(level)s::int[])
                       AS data(communication_id, line_id, move_id, due_date, days_overdue,
                               amount_residual, previous_level, level)
                """,
                uid=self.env.uid,
                company=self.company_id.id,
                comm=[comm_id for comm_id, _line in lines],
                move=[move_of[line.item_id] for _c, line in lines],
                line=[line.item_id for _c, line in lines],
                due=[line.due_date for _c, line in lines],
                days=[line.days_overdue for _c, line in lines],
                amount=[line.amount_residual for _c, line in lines],
                previous=[line.previous_level for _c, line in lines],
                level=[line.level for _c, line in lines],
            )
        )
        self.env["ar.dunning.communication.line"].invalidate_model()

    def _write_levels(self, chunk):
        """Store the items' levels (``ar.dunning.item``: a narrow table, not the busy
        ``account_move_line``) and the customers' (their credit profile). Returns
        {customer id: (credit profile id, on credit hold)}."""
        lines = [line for d, _p, _c in chunk if d.communicate for line in d.lines]
        if lines:
            self.env.cr.execute(
                SQL(
                    """
                    INSERT INTO ar_dunning_item
                           (move_line_ref, company_id, level, last_date, create_uid, create_date,
                            write_uid, write_date)
                    SELECT data.id, %(company)s, data.level, %(date)s, %(uid)s,
                           now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
                      FROM unnest(%(ids)s::int[], %(levels)s::int[]) AS data(id, level)
                    ON CONFLICT (move_line_ref) DO UPDATE
                       SET level = EXCLUDED.level, last_date = EXCLUDED.last_date,
                           write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                    """,
                    company=self.company_id.id,
                    date=self.date,
                    uid=self.env.uid,
                    ids=[line.item_id for line in lines],
                    levels=[line.level for line in lines],
                )
            )
            self.env["ar.dunning.item"].invalidate_model()
            self.env["account.move.line"].invalidate_model(["ar_dunning_level", "ar_dunning_date"])
        # The customers' levels in their credit profile: the missing profiles are created
        # where all profiles are (``_get_or_create``, the ORM), then the dunning columns of the
        # chunk's profiles are set in one UPDATE.
        partner_ids = [d.partner_id for d, _p, _c in chunk]
        profile_model = self.env["ar.credit.profile"]
        profile_model._get_or_create(self.env["res.partner"].browse(partner_ids), self.company_id)
        profile_model.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE ar_credit_profile profile
                   SET dunning_level = data.level,
                       dunning_last_date = COALESCE(CASE WHEN data.sent THEN %(date)s::date END,
                                                    profile.dunning_last_date),
                       collector_id = COALESCE(profile.collector_id, %(policy_collector)s)
                  FROM unnest(%(partners)s::int[], %(levels)s::int[], %(sent)s::bool[],
                              %(collectors)s::int[])
                       AS data(partner_id, level, sent, collector)
                 WHERE profile.partner_id = data.partner_id
                   AND profile.company_id = %(company)s
                RETURNING profile.partner_id, profile.id, COALESCE(profile.credit_hold, false)
                """,
                company=self.company_id.id,
                date=self.date,
                partners=partner_ids,
                levels=[d.customer_level for d, _p, _c in chunk],
                sent=[d.communicate for d, _p, _c in chunk],
                # The policy's collector becomes the customer's when they have none, neither
                # their own nor their segment's (which stays the segment's: not copied).
                policy_collector=SQL(
                    "CASE WHEN %s IS NULL THEN data.collector END",
                    segment_collector_sql("profile"),
                ),
                collectors=[p.collector_id.id or None for _d, p, _c in chunk],
            )
        )
        profiles = {partner_id: (pid, hold) for partner_id, pid, hold in self.env.cr.fetchall()}
        self.env["ar.credit.profile"].invalidate_model(
            ["dunning_level", "dunning_last_date", "collector_id"]
        )
        return profiles

    def _reset_levels(self, overdue_partner_ids=(), covered_partner_ids=()):
        """Customers with no overdue open item left leave dunning (level 0).

        `overdue_partner_ids`: customers the run's facts show overdue; only the others are
        looked up in the journal items (a hashed anti-join instead of one lookup per customer
        in dunning). `covered_partner_ids`: customers whose unapplied cash covers their
        overdue items (``_covered_by_unapplied_cash``): nothing overdue is left to them."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE ar_credit_profile profile
                   SET dunning_level = 0
                 WHERE profile.company_id = %(company)s
                   AND profile.dunning_level > 0
                   AND (profile.partner_id IN (SELECT unnest(%(covered)s::int[]))
                   OR profile.partner_id NOT IN (SELECT unnest(%(overdue)s::int[]))
                   AND NOT EXISTS (
                       SELECT 1
                         FROM account_move_line aml
                         JOIN res_partner partner ON partner.id = aml.partner_id
                         JOIN account_move move ON move.id = aml.move_id
                        WHERE partner.commercial_partner_id = profile.partner_id
                          AND aml.company_id = profile.company_id
                          AND aml.account_id = ANY(%(accounts)s)
                          AND %(open_line)s
                          AND NOT (%(awaiting_bank)s)
                          AND aml.amount_residual > 0
                          AND aml.date_maturity < %(date)s
                   ))
                """,
                company=self.company_id.id,
                date=self.date,
                overdue=list(overdue_partner_ids),
                covered=list(covered_partner_ids),
                accounts=self.env["ar.receivable"]._account_ids(self.company_id),
                open_line=open_line("aml"),
                awaiting_bank=awaiting_bank("move"),
            )
        )
        self.env["ar.credit.profile"].invalidate_model(["dunning_level"])
