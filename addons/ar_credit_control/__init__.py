from odoo.tools import SQL

from . import models
from . import wizards
from .models.ar_credit_state import DRAFT_INVOICE_INDEX, OPEN_RECEIVABLE_INDEX


def uninstall_hook(env):
    for index in (OPEN_RECEIVABLE_INDEX, DRAFT_INVOICE_INDEX):
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(index)))
