"""The customer's collections page: open items with their instalments and days late, and what
the customer can do about them: pay what is due now online, promise to pay, dispute an item,
download the statement.

Two ways in, each naming one customer (commercial partner) in one company:
- /my/collections: a logged-in portal user, for their own commercial partner and company;
- /my/collections/<profile id>?access_token=…: the signed link of the dunning emails and
  letters (the credit profile's token, checked in constant time; the id alone opens nothing).
Everything the browser posts is checked again here: an item must be an open item of that
customer, a promise amount within what is due, a date not in the past, a file small and of a
known type. sudo is used only after that check, for that customer's data.
"""

from datetime import timedelta
from urllib.parse import urlencode

import werkzeug.exceptions

from odoo import fields, http
from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.http import request
from odoo.tools.mimetypes import guess_mimetype

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.controllers.portal import PaymentPortal

from .ar_statement_portal import MAX_NOTE_CHARS, ArStatementPortal, _parse_amount

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
ALLOWED_MIMETYPES = {"application/pdf", "image/png", "image/jpeg", "text/plain"}
MAX_PROMISE_DAYS = 366  # how far ahead a customer may promise on their own
MAX_LINES = 200  # items per payment or promise


class ArCollectionsPortal(ArStatementPortal, PaymentPortal):
    # ------------------------------------------------------------------ access

    def _collections_access(self, profile_id, access_token):
        """The customer's credit profile (sudo) and the URL prefix of its pages, or raise.

        With a profile id, only its token counts (even for a logged-in user: it names the
        customer); without, the logged-in user's own commercial partner in their company."""
        profiles = request.env["ar.credit.profile"].sudo()
        if profile_id:
            profile = profiles.browse(profile_id).exists()
            if not profile or not profile._check_portal_token(access_token):
                raise werkzeug.exceptions.Forbidden()
            self._use_customer_lang(profile)
            return profile, f"/my/collections/{profile.id}", access_token
        user = request.env.user
        if user._is_public():
            raise werkzeug.exceptions.Forbidden()
        partner = user.partner_id.commercial_partner_id
        profile = profiles._get_or_create(partner, user.company_id)
        return profile, "/my/collections", None

    def _with_token(self, url, access_token, **params):
        query = {"access_token": access_token, **params} if access_token else params
        return url + ("?" + urlencode(query) if query else "")

    def _today(self, profile):
        return request.env["ar.dunning.run"].sudo()._company_today(profile.company_id)

    def _chosen_items(self, profile, line_ids, payable_only=True):
        """(items, error): the open items of the customer named by `line_ids` (from a form),
        each one checked to be an open, payable item of this customer."""
        try:
            wanted = {int(value) for value in line_ids[: MAX_LINES + 1]}
        except (TypeError, ValueError):
            wanted = set()
        if not wanted or len(wanted) > MAX_LINES:
            return [], request.env._("Choose at least one item.")
        statement = profile._portal_items(self._today(profile))
        items = [
            item
            for item in statement["items"]
            if item["line_id"] in wanted and (item["payable"] or not payable_only)
        ]
        if len(items) != len(wanted):
            return [], request.env._("These items are not open on your account any more.")
        return items, None

    # ------------------------------------------------------------------ page

    @http.route(
        ["/my/collections", "/my/collections/<int:profile_id>"],
        type="http",
        auth="public",
        website=True,
        sitemap=False,
    )
    def portal_my_collections(self, profile_id=None, access_token=None, **kw):
        if not profile_id and request.env.user._is_public():
            return request.redirect("/web/login?redirect=/my/collections")
        try:
            profile, base, token = self._collections_access(profile_id, access_token)
        except werkzeug.exceptions.Forbidden:
            return self._invalid_link()
        return self._collections_page(profile, base, token, notice=kw.get("done"))

    def _invalid_link(self):
        return request.render("ar_credit_control.portal_confirmation_invalid", {}, status=403)

    def _collections_page(self, profile, base, token, notice=None, error=None):
        today = self._today(profile)
        statement = profile._portal_items(today)
        payable = [item for item in statement["items"] if item["payable"]]
        values = {
            "profile": profile,
            "partner": profile.partner_id,
            "company": profile.company_id,
            "currency": profile.company_id.currency_id,
            "as_of": today,
            "statement": statement,
            "payable_items": payable,
            "due_now": self._due_now(statement["items"]),
            "base_url": base,
            "access_token": token,
            "page_url": lambda suffix="", **params: self._with_token(
                base + suffix, token, **params
            ),
            "reasons": request.env["ar.dispute"]
            ._fields["reason"]
            ._description_selection(request.env),
            "min_date": fields.Date.to_string(today),
            "max_date": fields.Date.to_string(today + timedelta(days=MAX_PROMISE_DAYS)),
            "can_pay": bool(payable) and self._online_payment_available(profile.company_id),
            "notice": notice if notice in ("promise", "dispute") else None,
            "error": error,
            "page_name": "ar_collections",
        }
        return request.render(
            "ar_credit_control.portal_my_collections", values, status=400 if error else 200
        )

    def _due_now(self, items):
        """What the customer owes now: the instalments due (disputed ones aside), less the
        open credits (credit notes, unapplied payments), as the dunning run nets them."""
        due = sum(i["amount"] for i in items if i["payable"] and i["due_now"] and not i["disputed"])
        credits = sum(item["amount"] for item in items if item["amount"] < 0)
        return max(due + credits, 0.0)

    def _online_payment_available(self, company):
        return bool(
            request.env["payment.provider"]
            .sudo()
            .search_count(
                [("state", "in", ("enabled", "test")), ("company_id", "=", company.id)], limit=1
            )
        )

    @http.route(
        ["/my/collections/statement.pdf", "/my/collections/<int:profile_id>/statement.pdf"],
        type="http",
        auth="public",
        website=True,
        sitemap=False,
    )
    def portal_my_collections_pdf(self, profile_id=None, access_token=None, **kw):
        try:
            profile, _base, _token = self._collections_access(profile_id, access_token)
        except werkzeug.exceptions.Forbidden:
            return self._invalid_link()
        return self._statement_pdf_response(
            profile.partner_id, profile.company_id, self._today(profile)
        )

    # ------------------------------------------------------------------ promise and dispute

    @http.route(
        ["/my/collections/promise", "/my/collections/<int:profile_id>/promise"],
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
        sitemap=False,
    )
    def portal_my_collections_promise(
        self, profile_id=None, access_token=None, amount=None, promised_date=None, note=None, **kw
    ):
        try:
            profile, base, token = self._collections_access(profile_id, access_token)
        except werkzeug.exceptions.Forbidden:
            return self._invalid_link()
        env = request.env
        today = self._today(profile)
        line_ids = request.httprequest.form.getlist("line_ids")
        if line_ids:
            items, error = self._chosen_items(profile, line_ids)
        else:  # the whole account: every open invoice
            items = [i for i in profile._portal_items(today)["items"] if i["payable"]]
            error = None if items else env._("Nothing is due on your account.")
        if error:
            return self._collections_page(profile, base, token, error=error)
        due = profile.company_id.currency_id.round(sum(item["amount"] for item in items))
        value = _parse_amount((amount or "").strip())
        if value is None or value <= 0 or profile.currency_id.compare_amounts(value, due) > 0:
            return self._collections_page(
                profile,
                base,
                token,
                error=env._(
                    "The amount promised must be more than 0 and at most %(due)s.",
                    due=profile.currency_id.format(due),
                ),
            )
        try:
            date = fields.Date.to_date(promised_date)
        except ValueError:
            date = None
        if not date or date < today or date > today + timedelta(days=MAX_PROMISE_DAYS):
            return self._collections_page(
                profile,
                base,
                token,
                error=env._("Choose a payment date from today to within a year."),
            )
        moves = env["account.move"].sudo().browse({item["move_id"] for item in items})
        note = (note or "").strip()[:MAX_NOTE_CHARS] or False
        profile._portal_record_promise(moves, profile.currency_id.round(value), date, note)
        return request.redirect(self._with_token(base, token, done="promise"))

    @http.route(
        ["/my/collections/dispute", "/my/collections/<int:profile_id>/dispute"],
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
        sitemap=False,
    )
    def portal_my_collections_dispute(
        self, profile_id=None, access_token=None, line_id=None, reason=None, description=None, **kw
    ):
        try:
            profile, base, token = self._collections_access(profile_id, access_token)
        except werkzeug.exceptions.Forbidden:
            return self._invalid_link()
        env = request.env
        items, error = self._chosen_items(profile, [line_id] if line_id else [])
        reasons = dict(env["ar.dispute"]._fields["reason"]._description_selection(env))
        description = (description or "").strip()[:MAX_NOTE_CHARS]
        if not error and reason not in reasons:
            error = env._("Choose the reason of the dispute.")
        if not error and not description:
            error = env._("Tell us what is wrong with this item.")
        attachment = None
        upload = request.httprequest.files.get("attachment")
        if not error and upload and upload.filename:
            content = upload.read(MAX_ATTACHMENT_BYTES + 1)
            mimetype = guess_mimetype(content)
            if len(content) > MAX_ATTACHMENT_BYTES:
                error = env._("The file is too large (5 MB at most).")
            elif mimetype not in ALLOWED_MIMETYPES:
                error = env._("Attach a PDF, PNG, JPEG or text file.")
            else:
                attachment = (upload.filename[:200], content, mimetype)
        if error:
            return self._collections_page(profile, base, token, error=error)
        move = env["account.move"].sudo().browse(items[0]["move_id"])
        profile._portal_record_dispute(move, reason, description, attachment)
        return request.redirect(self._with_token(base, token, done="dispute"))

    # ------------------------------------------------------------------ payment

    def _payment_values(self, profile, items):
        """(amount, currency, move ids, lines key) of a payment of `items`, or an error."""
        currencies = {item["currency"].id for item in items}
        if len(currencies) != 1:
            raise ValidationError(request.env._("Pay items of one currency at a time."))
        currency = items[0]["currency"]
        amount = currency.round(sum(item["amount_currency"] for item in items))
        lines_key = "-".join(str(line) for line in sorted(item["line_id"] for item in items))
        return amount, currency, sorted({item["move_id"] for item in items}), lines_key

    def _payment_partner(self, profile, token):
        """Who pays: the logged-in user (Odoo keeps their saved cards), else the customer."""
        if not token and not request.env.user._is_public():
            return request.env.user.partner_id
        return profile.partner_id

    @http.route(
        ["/my/collections/pay", "/my/collections/<int:profile_id>/pay"],
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def portal_my_collections_pay(self, profile_id=None, access_token=None, **kw):
        try:
            profile, base, token = self._collections_access(profile_id, access_token)
        except werkzeug.exceptions.Forbidden:
            return self._invalid_link()
        items, error = self._chosen_items(profile, request.httprequest.args.getlist("line_ids"))
        if not error:
            try:
                amount, currency, move_ids, lines_key = self._payment_values(profile, items)
            except ValidationError as exc:
                error = exc.args[0]
        if error:
            return self._collections_page(profile, base, token, error=error)
        company = profile.company_id
        partner = self._payment_partner(profile, token)
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(company.id, partner.id, amount, currency_id=currency.id)
        )
        values = {
            "res_company": company,
            "company_mismatch": not PaymentPortal._can_partner_pay_in_company(partner, company),
            "expected_company": company,
            "partner_is_different": False,
            "show_tokenize_input_mapping": PaymentPortal._compute_show_tokenize_input_mapping(
                providers_sudo
            ),
            "reference_prefix": request.env["payment.transaction"]
            .sudo()
            ._compute_reference_prefix(None, "-", invoice_ids=[Command.set(move_ids)]),
            "amount": amount,
            "currency": currency,
            "partner_id": partner.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids, partner.id, currency_id=currency.id
            ),
            "tokens_sudo": request.env["payment.token"]
            .sudo()
            ._get_available_tokens(providers_sudo.ids, partner.id),
            "availability_report": {},
            "transaction_route": f"/my/collections/transaction/{profile.id}/{lines_key}"
            + (f"?access_token={token}" if token else ""),
            "landing_route": self._with_token(base, token),
            "access_token": self._payment_token(partner, amount, currency, profile, lines_key),
        }
        return request.render("payment.pay", values)

    def _payment_token(self, partner, amount, currency, profile, lines_key):
        """Signs what the payment form may pay: who, how much, which items of which customer."""
        return payment_utils.generate_access_token(
            partner.id, amount, currency.id, profile.id, lines_key
        )

    @http.route(
        "/my/collections/transaction/<int:profile_id>/<string:lines_key>",
        type="json",
        auth="public",
    )
    def portal_my_collections_transaction(
        self, profile_id, lines_key, access_token=None, amount=None, **kwargs
    ):
        """Create the transaction of the items signed on the payment page, for the amount they
        still owe (re-read now, not taken from the browser)."""
        profile = request.env["ar.credit.profile"].sudo().browse(profile_id).exists()
        link_token = request.httprequest.args.get("access_token")
        if not profile:
            raise ValidationError(request.env._("The access token is invalid."))
        if link_token:
            if not profile._check_portal_token(link_token):
                raise ValidationError(request.env._("The access token is invalid."))
        else:
            user = request.env.user
            if user._is_public() or (
                profile.partner_id != user.partner_id.commercial_partner_id
                or profile.company_id != user.company_id
            ):
                raise ValidationError(request.env._("The access token is invalid."))
        items, error = self._chosen_items(profile, lines_key.split("-"))
        if error:
            raise ValidationError(error)
        due, currency, move_ids, key = self._payment_values(profile, items)
        partner = self._payment_partner(profile, link_token)
        if key != lines_key or not payment_utils.check_access_token(
            access_token, partner.id, due, currency.id, profile.id, key
        ):
            raise ValidationError(
                request.env._("The amounts due have changed: please reload the page.")
            )
        kwargs.pop("landing_route", None)
        kwargs.pop("is_validation", None)
        self._validate_transaction_kwargs(kwargs)
        tx_sudo = self._create_transaction(
            amount=due,
            currency_id=currency.id,
            partner_id=partner.id,
            landing_route=self._with_token(
                f"/my/collections/{profile.id}" if link_token else "/my/collections", link_token
            ),
            custom_create_values={
                "invoice_ids": [Command.set(move_ids)],
                "ar_collections_portal": True,
            },
            **kwargs,
        )
        return tx_sudo._get_processing_values()
