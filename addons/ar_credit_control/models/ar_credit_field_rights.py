"""Who reads credit figures, and the two ORM paths that would otherwise hand them out.

Credit figures are read like Odoo's own ``credit``/``credit_limit``: by credit control and
accounting users only (``CREDIT_READERS``); salespeople also see what the order form shows them
(``SALES_READERS``). Odoo checks a field's groups in ``read``, but exports and onchanges compute
fields without that check: models carrying credit fields inherit ``ar.credit.field.rights``.
"""

from odoo import models

CREDIT_READERS = (
    "ar_credit_control.group_credit_control_user,"
    "account.group_account_invoice,account.group_account_readonly"
)
SALES_READERS = CREDIT_READERS + ",sales_team.group_sale_salesman"


class ArCreditFieldRights(models.AbstractModel):
    _name = "ar.credit.field.rights"
    _description = "Credit fields checked on export and onchange"

    def _check_fields_readable(self, fnames):
        """Refuse the fields the user may not read, as ``read`` does."""
        self.check_field_access_rights("read", sorted(set(fnames) & set(self._fields)))

    def _export_rows(self, fields, *, _is_toplevel_call=True):
        self._check_fields_readable(path[0] for path in fields if path)
        return super()._export_rows(fields, _is_toplevel_call=_is_toplevel_call)

    def onchange(self, values, field_names, fields_spec):
        self._check_fields_readable(fields_spec)
        return super().onchange(values, field_names, fields_spec)
