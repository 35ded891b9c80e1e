"""Shared set-up of the dunning tests: a company policy with a known ladder and a run helper
that freezes the clock at a given moment."""

from freezegun import freeze_time

from odoo import Command

from .common import CreditControlCommon

# Days since the due date at which each level of the test ladder is reached.
LADDER = (
    {"sequence": 1, "name": "Reminder", "days": -3},
    {"sequence": 2, "name": "First notice", "days": 1},
    {"sequence": 3, "name": "Formal letter", "days": 10, "channel_letter": True},
    {"sequence": 4, "name": "Hold", "days": 20, "sets_credit_hold": True, "channel_phone": True},
    {
        "sequence": 5,
        "name": "Lawyer",
        "days": 30,
        "channel_lawyer_letter": True,
        "channel_legal": True,
    },
)


class DunningCommon(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.write(
            {"tz": "UTC", "street": "1 Company Street", "city": "Lyon", "email": "ar@co.example"}
        )
        cls.policy = cls.make_policy(cls.company)

    @classmethod
    def make_policy(cls, company, ladder=LADDER, **values):
        return cls.env["ar.dunning.policy"].create(
            {
                "name": f"Test ladder {company.name}",
                "company_id": company.id,
                "sequence": 0,
                "collector_id": cls.collector.id,
                "level_ids": [Command.create({"channel_email": True, **level}) for level in ladder],
                **values,
            }
        )

    @classmethod
    def dunned_customer(cls, name, **values):
        return cls.create_customer(
            name,
            email=f"{name.split()[0].lower()}@customer.example",
            street="2 Customer Road",
            city="Paris",
            **values,
        )

    @classmethod
    def invoice_due(cls, partner, amount, due_date, **values):
        """A posted invoice dated and due on `due_date` (immediate payment)."""
        term = cls.env.ref("account.account_payment_term_immediate")
        return cls.create_invoice(partner, amount, due_date, payment_term=term, **values)

    def run_on(self, day, company=None, at="12:00:00"):
        """The dunning run of `company` as if it ran at `day` `at` (UTC)."""
        with freeze_time(f"{day} {at}"):
            return self.env["ar.dunning.run"]._run_company(
                company or self.company, trigger="manual", commit=False
            )

    def communications(self, partner):
        return self.env["ar.dunning.communication"].search(
            [("partner_id", "=", partner.id)], order="date, id"
        )

    def profile(self, partner, company=None):
        return self.env["ar.credit.profile"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", (company or self.company).id)]
        )
