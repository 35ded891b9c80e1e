"""Credit evaluation: gather each customer's facts with set-based SQL, score them with
``ar_engine``, write grades, reviews and snapshot figures back in batches.

The cron evaluates every customer with receivables once a day in chunks, committing each
chunk and reporting progress, so a run cut short resumes where it stopped.
"""

import json
import logging
from datetime import datetime, time
from time import monotonic

import pytz
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ar_engine.errors import InvalidInputError
from ar_engine.scoring import DEFAULT_SCORING_CONFIG, CreditFacts, ScoringConfig, score_partners

_logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000


def _scaled(bands, weight):
    return tuple((threshold, points * weight) for threshold, points in bands)


class ArCreditEvaluation(models.AbstractModel):
    _name = "ar.credit.evaluation"
    _description = "Credit evaluation (service)"

    # ------------------------------------------------------------------ configuration

    @api.model
    def _scoring_config(self, company):
        """The company's weights and grade cut-offs as the engine's ScoringConfig."""
        base = DEFAULT_SCORING_CONFIG
        try:
            return ScoringConfig(
                grade_cutoffs=(
                    company.ar_grade_cutoff_a,
                    company.ar_grade_cutoff_b,
                    company.ar_grade_cutoff_c,
                    company.ar_grade_cutoff_d,
                ),
                min_paid_instalments=company.ar_min_paid_instalments,
                late_share_bands=_scaled(base.late_share_bands, company.ar_weight_lateness),
                avg_days_late_bands=_scaled(base.avg_days_late_bands, company.ar_weight_lateness),
                max_days_late_bands=_scaled(base.max_days_late_bands, company.ar_weight_lateness),
                oldest_overdue_bands=_scaled(base.oldest_overdue_bands, company.ar_weight_overdue),
                utilisation_bands=_scaled(base.utilisation_bands, company.ar_weight_utilisation),
                dispute_share_bands=_scaled(base.dispute_share_bands, company.ar_weight_disputes),
            )
        except InvalidInputError as error:
            raise ValidationError(
                _(
                    "The credit scoring settings of %(company)s are not valid: %(error)s",
                    company=company.name,
                    error=error,
                )
            ) from error

    # ------------------------------------------------------------------ reasons

    @api.model
    def _reason_templates(self):
        """Translatable sentences, one per reason code of the engine."""
        return {
            "no_payment_history": _(
                "no payment history yet (%(paid_instalment_count)d paid instalments, "
                "%(min_paid_instalments)d needed for a grade)"
            ),
            "late_payments": _(
                "paid %(late_share_pct)d%% of the amount due late in the last "
                "%(window_months)d months, average %(avg_days_late)d days"
            ),
            "max_days_late": _(
                "worst payment was %(max_days_late)d days late in the last %(window_months)d months"
            ),
            "overdue": _(
                "%(amount_overdue)s currently overdue, oldest %(oldest_overdue_days)d days"
            ),
            "credit_limit_utilisation": _(
                "open exposure is %(utilisation_pct)d%% of the credit limit "
                "(%(open_exposure)s of %(credit_limit)s)"
            ),
            "disputes": _(
                "%(disputed_count)d disputed invoices totalling %(disputed_amount)s "
                "(%(disputed_share_pct)d%% of the amount invoiced in the last "
                "%(window_months)d months)"
            ),
            "young_customer": _("customer for only %(customer_age_days)d days"),
            "long_relationship": _("customer for %(customer_age_years)d years"),
            "external_rating": _("external credit rating %(rating)s"),
            "external_score": _("external credit score %(external_score)s (rated %(rating)s)"),
            "financial_assessment": _("financial statements assessed as %(assessment)s"),
            "industry_risk": _("%(industry_risk)s industry risk"),
        }

    @api.model
    def _render_reasons(self, reasons, currency):
        """Reasons (dicts with code, points, params) as sentences in the user's language."""
        templates = self._reason_templates()
        money = {"amount_overdue", "open_exposure", "credit_limit", "disputed_amount"}
        lines = []
        for reason in reasons:
            params = dict(reason.get("params") or {})
            for key in money & set(params):
                params[key] = currency.format(params[key]) if currency else params[key]
            template = templates.get(reason["code"], reason["code"])
            try:
                sentence = template % params
            except (KeyError, TypeError, ValueError):
                sentence = reason["code"]
            points = reason.get("points") or 0
            lines.append(
                f"{'+' if points > 0 else ''}{points:g}  {sentence}" if points else sentence
            )
        return lines

    # ------------------------------------------------------------------ facts

    @api.model
    def _window_start(self, company, today):
        return today - relativedelta(months=company.ar_scoring_window_months)

    @api.model
    def _payment_behaviour(self, partner_ids, company, today):
        """Paid instalments in the window, lateness measured per instalment (receivable line)
        against its own maturity date and weighted by the amount each payment settled."""
        accounts = self.env["ar.receivable"]._account_ids(company)
        query = SQL(
            """
            WITH members AS (
                SELECT id, commercial_partner_id FROM res_partner
                 WHERE commercial_partner_id = ANY(%(partners)s)
            ),
            settled AS (
                SELECT mb.commercial_partner_id AS partner_id,
                       dl.id AS line_id,
                       part.amount,
                       GREATEST(part.max_date - COALESCE(dl.date_maturity, dl.date), 0) AS days_late
                  FROM account_move_line dl
                  JOIN members mb ON mb.id = dl.partner_id
                  JOIN account_partial_reconcile part ON part.debit_move_id = dl.id
                  JOIN account_move_line cl ON cl.id = part.credit_move_id
                 WHERE dl.account_id = ANY(%(accounts)s)
                   AND dl.company_id = %(company)s
                   AND dl.parent_state = 'posted'
                   AND part.max_date > %(window_start)s
                   AND part.max_date <= %(today)s
                   -- a credit note (booked in a sales journal) settles an invoice, but it is
                   -- not the customer paying
                   AND cl.journal_id <> ALL(%(sale_journals)s)
            )
            SELECT partner_id,
                   COUNT(DISTINCT line_id),
                   SUM(amount * days_late) / NULLIF(SUM(amount), 0),
                   COALESCE(SUM(amount) FILTER (WHERE days_late = 0), 0) / NULLIF(SUM(amount), 0),
                   MAX(days_late)
              FROM settled
             GROUP BY partner_id
            """,
            partners=list(partner_ids),
            accounts=accounts,
            sale_journals=self.env["account.journal"]
            .sudo()
            .with_context(active_test=False)
            .search([("type", "=", "sale")])
            .ids,
            company=company.id,
            window_start=self._window_start(company, today),
            today=today,
        )
        return {row[0]: row[1:] for row in self.env.execute_query(query)}

    @api.model
    def _invoicing_history(self, partner_ids, company, today):
        """First invoice date, net invoiced in the scoring window and in the last 12 months."""
        query = SQL(
            """
            SELECT commercial_partner_id,
                   MIN(invoice_date),
                   COALESCE(SUM(amount_total_signed) FILTER (
                       WHERE invoice_date > %(window_start)s), 0),
                   COALESCE(SUM(amount_total_signed) FILTER (
                       WHERE invoice_date > %(year_start)s), 0)
              FROM account_move
             WHERE commercial_partner_id = ANY(%(partners)s)
               AND company_id = %(company)s
               AND state = 'posted'
               AND move_type IN ('out_invoice', 'out_refund')
             GROUP BY commercial_partner_id
            """,
            partners=list(partner_ids),
            company=company.id,
            window_start=self._window_start(company, today),
            year_start=today - relativedelta(years=1),
        )
        return {row[0]: row[1:] for row in self.env.execute_query(query)}

    @api.model
    def _disputed(self, partner_ids, company):
        """{partner id: (invoices, amount)} under an open dispute: the disputed invoices'
        total in company currency (what the customer contests, paid or not)."""
        query = SQL(
            """
            SELECT partner_id, COUNT(*), COALESCE(SUM(amount), 0)
              FROM (
                  -- an invoice in two open disputes counts once
                  SELECT DISTINCT dispute.partner_id, move.id,
                         ABS(move.amount_total_signed) AS amount
                    FROM ar_dispute dispute
                    JOIN ar_dispute_account_move_rel rel ON rel.dispute_id = dispute.id
                    JOIN account_move move ON move.id = rel.move_id
                   WHERE dispute.partner_id = ANY(%(partners)s)
                     AND dispute.company_id = %(company)s
                     AND dispute.state = 'open'
              ) disputed
             GROUP BY partner_id
            """,
            partners=list(partner_ids),
            company=company.id,
        )
        return {row[0]: (row[1], float(row[2])) for row in self.env.execute_query(query)}

    @api.model
    def _snapshot_inputs(self, profiles, company, today):
        """(exposures, invoicing histories, credit limits) of profiles, by partner id."""
        partner_ids = profiles.partner_id.ids
        history = self._invoicing_history(partner_ids, company, today)
        exposures = self.env["ar.credit.exposure"]._compute_exposures(
            partner_ids, company, today=today
        )
        limits = {p.id: p.credit_limit for p in profiles.partner_id.with_company(company).sudo()}
        return exposures, history, limits

    @api.model
    def _gather_facts(self, profiles, company, today):
        """(CreditFacts list, exposures, histories, limits) for profiles of one company."""
        partner_ids = profiles.partner_id.ids
        behaviour = self._payment_behaviour(partner_ids, company, today)
        exposures, history, limits = self._snapshot_inputs(profiles, company, today)
        disputed = self._disputed(partner_ids, company)
        facts = []
        for profile in profiles:
            pid = profile.partner_id.id
            paid_count, avg_late, on_time, worst = behaviour.get(pid, (0, None, None, None))
            first_invoice, invoiced_window, _invoiced_year = history.get(pid, (None, 0, 0))
            exposure = exposures[pid]
            disputed_count, disputed_amount = disputed.get(pid, (0, 0.0))
            facts.append(
                CreditFacts(
                    partner_id=pid,
                    company_id=company.id,
                    window_months=company.ar_scoring_window_months,
                    paid_instalment_count=paid_count,
                    avg_days_late=float(avg_late) if paid_count else None,
                    share_paid_on_time=min(float(on_time), 1.0) if paid_count else None,
                    max_days_late=float(worst) if paid_count else None,
                    amount_overdue=max(exposure.amount_overdue, 0.0),
                    oldest_overdue_days=exposure.oldest_overdue_days(today),
                    open_exposure=max(exposure.total, 0.0),
                    credit_limit=limits.get(pid) or None,
                    disputed_count=disputed_count,
                    disputed_amount=disputed_amount,
                    customer_age_days=(today - first_invoice).days if first_invoice else None,
                    invoiced_amount=max(float(invoiced_window), 0.0),
                    external_rating=profile.external_rating or None,
                    financial_assessment=profile.financial_assessment or None,
                    industry_risk=profile.industry_risk or None,
                )
            )
        return facts, exposures, history, limits

    # ------------------------------------------------------------------ evaluation

    @api.model
    def _evaluate_partners(self, partners, company, trigger="manual", today=None):
        """Evaluate these customers in `company` now. Returns their profiles."""
        commercial = partners.commercial_partner_id
        profiles = self.env["ar.credit.profile"]._get_or_create(commercial, company)
        for start in range(0, len(profiles), CHUNK_SIZE):
            self._evaluate_chunk(profiles[start : start + CHUNK_SIZE], company, trigger, today)
        return profiles

    @api.model
    def _evaluate_chunk(self, profiles, company, trigger, today=None):
        today = today or fields.Date.context_today(self)
        now = fields.Datetime.now()
        self.env.flush_all()
        facts, exposures, history, limits = self._gather_facts(profiles, company, today)
        try:
            scores = score_partners(facts, self._scoring_config(company))
        except InvalidInputError as error:
            raise ValidationError(
                _(
                    "Credit evaluation failed on %(field)s: %(error)s",
                    field=error.field,
                    error=error,
                )
            ) from error
        previous = {p.id: p.grade for p in profiles}
        rows = []
        for profile, score in zip(profiles, scores, strict=True):
            reasons = json.dumps(
                [{"code": r.code, "points": r.points, "params": r.params} for r in score.reasons],
                default=float,
            )
            rows.append((profile, score, reasons))
        self._write_scores(rows, now)
        self._write_snapshots(profiles, exposures, history, limits, today, now)
        self._insert_reviews(rows, previous, trigger, now)
        changed_by_grade = {}
        for profile, score, _reasons in rows:
            # A first grade was set by the bulk UPDATE (the review records it); later changes
            # go through the ORM so that they are tracked in the chatter.
            if previous[profile.id] and previous[profile.id] != score.grade:
                changed_by_grade.setdefault(score.grade, profiles.browse())
                changed_by_grade[score.grade] |= profile
        for grade, changed in changed_by_grade.items():
            changed.sudo().write({"grade": grade})
        regraded = profiles.browse(
            [profile.id for profile, score, _r in rows if previous[profile.id] != score.grade]
        )
        if regraded:
            self.env["ar.credit.policy"]._apply_to_profiles(regraded, only_auto=True)
        self.env["ar.credit.segment.rule"]._assign_segments(profiles)
        return scores

    @api.model
    def _write_scores(self, rows, now):
        """Score, reasons and a first grade in one UPDATE (later grade changes go through the
        ORM so that they are tracked)."""
        self.env.cr.execute(
            SQL(
                """
                UPDATE ar_credit_profile p
                   SET score = v.score, reasons_json = v.reasons, last_evaluation_date = %(now)s,
                       grade = COALESCE(p.grade, v.grade),
                       write_date = %(now)s, write_uid = %(uid)s
                  FROM unnest(%(ids)s::int[], %(scores)s::int[], %(grades)s::varchar[],
                              %(reasons)s::text[]) AS v(id, score, grade, reasons)
                 WHERE p.id = v.id
                """,
                now=now,
                uid=self.env.uid,
                ids=[profile.id for profile, _score, _reasons in rows],
                scores=[score.score for _profile, score, _reasons in rows],
                grades=[score.grade for _profile, score, _reasons in rows],
                reasons=[reasons for _profile, _score, reasons in rows],
            )
        )
        self.env["ar.credit.profile"].invalidate_model()

    @api.model
    def _write_snapshots(self, profiles, exposures, history, limits, today, now):
        """The stored credit figures lists filter and sort by, in one UPDATE."""
        columns = {
            key: []
            for key in (
                "ids",
                "limits",
                "exposures",
                "available",
                "utilisation",
                "overdue",
                "oldest",
                "invoiced",
            )
        }
        for profile in profiles:
            pid = profile.partner_id.id
            exposure, limit = exposures[pid], limits.get(pid) or 0.0
            total = exposure.total
            columns["ids"].append(profile.id)
            columns["limits"].append(limit)
            columns["exposures"].append(total)
            columns["available"].append(limit - total if limit else 0.0)
            columns["utilisation"].append(round(100.0 * total / limit, 2) if limit else 0.0)
            columns["overdue"].append(exposure.amount_overdue)
            columns["oldest"].append(exposure.oldest_overdue_days(today))
            columns["invoiced"].append(float(history.get(pid, (0, 0, 0))[2] or 0.0))
        self.env.cr.execute(
            SQL(
                """
                UPDATE ar_credit_profile p
                   SET credit_limit = v.lim, exposure = v.exposure, available_credit = v.available,
                       utilisation = v.utilisation, amount_overdue = v.overdue,
                       oldest_overdue_days = v.oldest, invoiced_last_12_months = v.invoiced,
                       snapshot_date = %(now)s
                  FROM unnest(%(ids)s::int[], %(limits)s::numeric[], %(exposures)s::numeric[],
                              %(available)s::numeric[], %(utilisation)s::float8[],
                              %(overdue)s::numeric[], %(oldest)s::int[], %(invoiced)s::numeric[])
                       AS v(id, lim, exposure, available, utilisation, overdue, oldest, invoiced)
                 WHERE p.id = v.id
                """,
                now=now,
                **columns,
            )
        )
        self.env["ar.credit.profile"].invalidate_model()

    @api.model
    def _insert_reviews(self, rows, previous, trigger, now):
        """One review per evaluation, inserted in one statement."""
        values = {
            "profile": [],
            "partner": [],
            "company": [],
            "prev": [],
            "grade": [],
            "score": [],
            "reasons": [],
        }
        for profile, score, reasons in rows:
            values["profile"].append(profile.id)
            values["partner"].append(profile.partner_id.id)
            values["company"].append(profile.company_id.id)
            values["prev"].append(previous[profile.id] or None)
            values["grade"].append(score.grade)
            values["score"].append(score.score)
            values["reasons"].append(reasons)
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO ar_credit_review (profile_id, partner_id, company_id, previous_grade,
                       grade, grade_changed, score, reasons_json, review_date, trigger, user_id,
                       create_uid, create_date, write_uid, write_date)
                SELECT v.profile, v.partner, v.company, v.prev, v.grade,
                       v.prev IS DISTINCT FROM v.grade, v.score, v.reasons, %(now)s, %(trigger)s,
                       %(uid)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(profile)s::int[], %(partner)s::int[], %(company)s::int[],
                              %(prev)s::varchar[], %(grade)s::varchar[], %(score)s::int[],
                              %(reasons)s::text[])
                       AS v(profile, partner, company, prev, grade, score, reasons)
                """,
                now=now,
                trigger=trigger,
                uid=self.env.uid,
                **values,
            )
        )
        self.env["ar.credit.review"].invalidate_model()

    # ------------------------------------------------------------------ snapshots and cron

    @api.model
    def _refresh_snapshots(self, company, profiles=None):
        """Refresh the stored exposure figures of profiles (all of the company by default)."""
        profiles = profiles or self.env["ar.credit.profile"].sudo().search(
            [("company_id", "=", company.id)]
        )
        today = fields.Date.context_today(self)
        for start in range(0, len(profiles), CHUNK_SIZE):
            chunk = profiles[start : start + CHUNK_SIZE]
            self.env.flush_all()
            exposures, history, limits = self._snapshot_inputs(chunk, company, today)
            self._write_snapshots(chunk, exposures, history, limits, today, fields.Datetime.now())
        return profiles

    @api.model
    def _customers_to_evaluate(self, company, since):
        """Commercial partners with receivable lines in `company` whose profile was not
        evaluated since `since` (so a cut-short run resumes where it stopped)."""
        accounts = self.env["ar.receivable"]._account_ids(company)
        query = SQL(
            """
            SELECT DISTINCT rp.commercial_partner_id
              FROM account_move_line aml
              JOIN res_partner rp ON rp.id = aml.partner_id
             WHERE aml.account_id = ANY(%(accounts)s)
               AND aml.company_id = %(company)s
               AND aml.parent_state = 'posted'
            EXCEPT
            SELECT partner_id FROM ar_credit_profile
             WHERE company_id = %(company)s AND last_evaluation_date >= %(since)s
            """,
            accounts=accounts,
            company=company.id,
            since=since,
        )
        return sorted(row[0] for row in self.env.execute_query(query))

    @api.model
    def _start_of_today_utc(self):
        """Midnight of the user's today (their time zone, as fields.Date.context_today), as a
        naive UTC datetime comparable with stored Datetime values."""
        tz_name = self.env.context.get("tz") or self.env.user.tz or "UTC"
        try:
            zone = pytz.timezone(tz_name)
        except pytz.UnknownTimeZoneError:
            zone = pytz.utc
        midnight = zone.localize(datetime.combine(fields.Date.context_today(self), time.min))
        return midnight.astimezone(pytz.utc).replace(tzinfo=None)

    @api.model
    def _cron_evaluate_credit(self, chunk_size=CHUNK_SIZE, time_budget=240.0):
        """Daily re-evaluation of every customer with receivables.

        Works in chunks, committing each one, until the time budget is spent; then reports
        the remaining count so that Odoo runs the cron again for the rest. What was committed
        is not evaluated twice the same day.
        """
        started = monotonic()
        since = self._start_of_today_utc()
        plan = [
            (company, self._customers_to_evaluate(company, since))
            for company in self.env["res.company"].search([])
        ]
        remaining = sum(len(ids) for _company, ids in plan)
        done = 0
        for company, ids in plan:
            for start in range(0, len(ids), chunk_size):
                # At least one chunk per call, so a small budget still makes progress.
                if done and monotonic() - started > time_budget:
                    self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
                    return False
                chunk = self.env["res.partner"].browse(ids[start : start + chunk_size])
                self.with_company(company)._evaluate_partners(chunk, company, trigger="cron")
                done += len(chunk)
                remaining -= len(chunk)
                self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
                self.env.cr.commit()  # pylint: disable=invalid-commit
                _logger.info("credit evaluation: %d customers done, %d left", done, remaining)
        return True
