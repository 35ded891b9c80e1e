"""Portal pages of customer statements and balance confirmations.

/my/statement: a logged-in portal user sees the open items of their own commercial partner
only, with the aging, the PDF, and Odoo's pay-online link for invoices when a payment
provider is set up.

/statement/confirm/<id>: the page of a balance confirmation, opened with its access token
(no login needed), which the customer confirms or contests before the link expires. Once
answered, the link shows only that it was answered. The pages are in the customer's language;
an amount of the form that is not an amount within the balance is refused with a message.
"""

import math

from odoo import fields, http
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..models.ar_balance_confirmation import ANSWERED_STATES

MAX_CONTEST_LINES = 5
MAX_AMOUNT_CHARS = 32
MAX_NOTE_CHARS = 2000


class ArStatementPortal(CustomerPortal):
    # ------------------------------------------------------------------ statement

    def _statement_values(self, partner, company, as_of):
        statement_model = request.env["ar.statement"].sudo()
        data = statement_model._outstanding_data(partner, company, as_of)
        statement = data.get(partner.id, {"items": [], "buckets": [], "total": 0.0})
        moves = (
            request.env["account.move"].sudo().browse([i["move_id"] for i in statement["items"]])
        )
        return {
            "partner": partner,
            "company": company,
            "currency": company.currency_id,
            "as_of": as_of,
            "statement": statement,
            "moves": {move.id: move for move in moves},
            "pay_links": statement_model._pay_online_links(moves, company),
        }

    @http.route(["/my/statement"], type="http", auth="user", website=True)
    def portal_my_statement(self, **kw):
        partner = request.env.user.partner_id.commercial_partner_id
        company = request.env.user.company_id
        values = self._prepare_portal_layout_values()
        values.update(
            self._statement_values(partner, company, fields.Date.context_today(request.env.user))
        )
        values["page_name"] = "ar_statement"
        values["confirmations"] = (
            request.env["ar.balance.confirmation"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", partner.id),
                    ("company_id", "=", company.id),
                    ("state", "=", "sent"),
                    ("expiry_date", ">=", fields.Date.context_today(request.env.user)),
                ]
            )
        )
        return request.render("ar_credit_control.portal_my_statement", values)

    @http.route(["/my/statement/pdf"], type="http", auth="user", website=True)
    def portal_my_statement_pdf(self, **kw):
        partner = request.env.user.partner_id.commercial_partner_id
        company = request.env.user.company_id
        return self._statement_pdf_response(partner, company, fields.Date.context_today(partner))

    def _statement_pdf_response(self, partner, company, as_of):
        report = request.env.ref("ar_credit_control.action_report_ar_statement_outstanding").sudo()
        pdf, _kind = (
            request.env["ir.actions.report"]
            .sudo()
            .with_company(company)
            .with_context(lang=partner.lang or request.env.lang)
            ._render_qweb_pdf(
                report.report_name,
                partner.ids,
                data={"company_id": company.id, "as_of": fields.Date.to_string(as_of)},
            )
        )
        filename = f"statement-{as_of}.pdf"
        headers = [
            ("Content-Type", "application/pdf"),
            ("Content-Length", len(pdf)),
            ("Content-Disposition", http.content_disposition(filename)),
        ]
        return request.make_response(pdf, headers=headers)

    # ------------------------------------------------------------------ confirmation

    def _confirmation_or_error(self, confirmation_id, access_token):
        """(confirmation in sudo, None) or (None, error response)."""
        confirmation = (
            request.env["ar.balance.confirmation"].sudo().browse(confirmation_id).exists()
        )
        # Only the token counts, even for a logged-in user: it names the customer.
        if not confirmation or not confirmation._check_portal_token(access_token):
            return None, request.render(
                "ar_credit_control.portal_confirmation_invalid", {}, status=403
            )
        if confirmation.state in ("draft",):
            return None, request.render(
                "ar_credit_control.portal_confirmation_invalid", {}, status=403
            )
        self._use_customer_lang(confirmation)
        if confirmation.state == "sent" and confirmation._is_expired():
            confirmation._expire_if_due()
        if confirmation.state == "expired":
            return None, request.render(
                "ar_credit_control.portal_confirmation_expired",
                {"confirmation": confirmation},
                status=410,
            )
        if confirmation.state in ANSWERED_STATES:
            return None, self._answered_page(confirmation, just_answered=False)
        return confirmation, None

    def _use_customer_lang(self, confirmation):
        """A visitor who is not logged in gets the pages in the customer's language."""
        lang = confirmation.partner_id.lang
        if (
            request.env.user._is_public()
            and lang
            and lang != request.env.lang
            and request.env["res.lang"]._lang_get(lang)
        ):
            request.update_context(lang=lang)

    def _answered_page(self, confirmation, just_answered):
        """The page of an answered request: its answer and nothing of the statement."""
        return request.render(
            "ar_credit_control.portal_confirmation_answered",
            {"confirmation": confirmation, "just_answered": just_answered},
            status=200 if just_answered else 410,
        )

    def _confirmation_page(self, confirmation, access_token, error=None):
        values = self._statement_values(
            confirmation.partner_id, confirmation.company_id, confirmation.date
        )
        values.update(
            {
                "confirmation": confirmation,
                "access_token": access_token,
                "line_types": confirmation.env["ar.reconciliation.discrepancy.line"]
                ._fields["type"]
                ._description_selection(request.env),
                "line_slots": range(MAX_CONTEST_LINES),
                "page_name": "ar_balance_confirmation",
                "error": error,
            }
        )
        return request.render(
            "ar_credit_control.portal_balance_confirmation", values, status=400 if error else 200
        )

    @http.route(
        ["/statement/confirm/<int:confirmation_id>"], type="http", auth="public", website=True
    )
    def portal_balance_confirmation(self, confirmation_id, access_token=None, **kw):
        confirmation, error = self._confirmation_or_error(confirmation_id, access_token)
        if error:
            return error
        return self._confirmation_page(confirmation, access_token)

    @http.route(
        ["/statement/confirm/<int:confirmation_id>/pdf"],
        type="http",
        auth="public",
        website=True,
    )
    def portal_balance_confirmation_pdf(self, confirmation_id, access_token=None, **kw):
        confirmation, error = self._confirmation_or_error(confirmation_id, access_token)
        if error:
            return error
        return self._statement_pdf_response(
            confirmation.partner_id, confirmation.company_id, confirmation.date
        )

    @http.route(
        ["/statement/confirm/<int:confirmation_id>/answer"],
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_balance_confirmation_answer(
        self, confirmation_id, access_token=None, answer=None, replied_by=None, note=None, **kw
    ):
        confirmation, error = self._confirmation_or_error(confirmation_id, access_token)
        if error:
            return error
        url = confirmation.get_portal_url()
        if answer not in ("confirm", "contest"):
            return request.redirect(url)
        replied_by = (replied_by or "").strip()[:200] or confirmation.partner_id.name
        note = (note or "").strip()[:MAX_NOTE_CHARS] or False
        if answer == "confirm":
            confirmation._record_confirmed(replied_by, note, "portal")
        else:
            lines, error = self._contest_lines(request.httprequest.form, confirmation)
            if error:
                return self._confirmation_page(confirmation, access_token, error)
            if not lines and not note:
                return request.redirect(url + "&error=contest_empty")
            confirmation._record_contested(replied_by, note, "portal", lines)
        if request.env.user._is_internal():
            confirmation._note_answer_from_internal_session(request.env.user)
        return self._answered_page(confirmation, just_answered=True)

    def _contest_lines(self, form, confirmation):
        """(lines, error): the lines the customer filled in (a type and an amount or a
        description), or the message for the first amount that is not an amount between 0
        and the confirmed balance."""
        types = dict(
            request.env["ar.reconciliation.discrepancy.line"]
            ._fields["type"]
            ._description_selection(request.env)
        )
        currency = confirmation.currency_id
        limit = abs(confirmation.balance)
        lines = []
        for index in range(MAX_CONTEST_LINES):
            line_type = form.get(f"line_type_{index}")
            raw_amount = (form.get(f"line_amount_{index}") or "").strip()
            line_note = (form.get(f"line_note_{index}") or "").strip()[:500]
            if line_type not in types or not (raw_amount or line_note):
                continue
            amount = _parse_amount(raw_amount) if raw_amount else 0.0
            if amount is None:
                return [], request.env._(
                    "Line %(line)s: “%(amount)s” is not an amount.",
                    line=index + 1,
                    amount=raw_amount[:MAX_AMOUNT_CHARS],
                )
            if amount < 0 or currency.compare_amounts(amount, limit) > 0:
                return [], request.env._(
                    "Line %(line)s: the amount must be between 0 and the balance of %(balance)s.",
                    line=index + 1,
                    balance=currency.format(limit),
                )
            lines.append(
                {"type": line_type, "amount": currency.round(amount), "note": line_note or False}
            )
        return lines, None


def _parse_amount(raw):
    """The amount typed in a form ("1,200.50"), or None when it is not a finite number."""
    if len(raw) > MAX_AMOUNT_CHARS:
        return None
    try:
        amount = float(raw.replace(",", "").replace(" ", ""))
    except ValueError:
        return None
    return amount if math.isfinite(amount) else None
