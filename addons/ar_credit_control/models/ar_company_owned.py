from odoo import models


class ArCompanyOwned(models.AbstractModel):
    """A record of one company, whose company only its editors may change to one of their own.

    Odoo checks record rules before a write, not after: without this, a credit manager of
    company A could move a policy, a rule or a CRM backend into company C, where it would then
    act on C's customers. After a change of company the record must still be one its editor may
    write (superuser writes excepted).
    """

    _name = "ar.company.owned"
    _description = "Record owned by one company"

    def write(self, vals):
        result = super().write(vals)
        if "company_id" in vals and not self.env.su:
            self.check_access("write")
        return result
