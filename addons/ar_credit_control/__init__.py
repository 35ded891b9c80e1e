from odoo.tools import SQL

from . import controllers
from . import models
from . import reports
from . import wizards
from .models.ar_credit_exposure import INDEXES


def uninstall_hook(env):
    """Drop the indexes the addon added to Odoo's own tables."""
    for index in INDEXES:
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(index)))
