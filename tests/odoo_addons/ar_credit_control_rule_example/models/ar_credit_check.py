"""One more rule of the credit check, added the way any addon adds one: an order above the
customer's largest single order (its credit profile, in the order's company) is blocked.

The rule's figure comes from one query for the whole batch of orders (``_extra_figures``); the
rule itself reads it on ``credit.extra`` (``_rule_max_order``).
"""

from odoo import models
from odoo.tools import SQL


class ArCreditCheck(models.AbstractModel):
    _inherit = "ar.credit.check"

    def _credit_rules(self):
        return super()._credit_rules() + ["max_order"]

    def _extra_figures(self, orders, company, today):
        figures = super()._extra_figures(orders, company, today)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT profile.max_order_amount
                  FROM unnest(%s::int[]) WITH ORDINALITY AS o(partner_id, position)
                  JOIN res_partner partner ON partner.id = o.partner_id
                  LEFT JOIN ar_credit_profile profile
                         ON profile.partner_id = COALESCE(partner.commercial_partner_id,
                                                          partner.id)
                        AND profile.company_id = %s
                 ORDER BY o.position
                """,
                self._credit_partner_ids(orders),
                company.id,
            )
        )
        for order, (max_order_amount,) in zip(orders, rows, strict=True):
            figures[order]["max_order_amount"] = float(max_order_amount or 0.0)
        return figures

    def _rule_max_order(self, order, company, currency, credit):
        maximum = credit.extra.get("max_order_amount", 0.0)
        if not maximum or credit.order_amount - maximum <= currency.rounding / 2:
            return None
        return self.env._(
            "Largest order exceeded: this order %(order)s is over the %(maximum)s a single "
            "order of this customer may reach. Split the order or request a credit approval.",
            order=self._format_amount(credit.order_amount, currency),
            maximum=self._format_amount(maximum, currency),
        )
