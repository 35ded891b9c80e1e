from odoo.tools import SQL

from . import controllers
from . import models
from . import reports
from . import wizards
from .models.ar_collection_forecast import DATA_TABLE
from .models.ar_credit_check import CHECK_FUNCTION
from .models.ar_credit_exposure import EXPOSURE_FUNCTION, INDEXES
from .models.ar_open_balance import drop_open_balance


def uninstall_hook(env):
    """Drop what the addon added to Odoo's own tables: indexes, triggers and their tables."""
    for index in INDEXES:
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(index)))
    # The collection forecast's lines live in a table of their own behind its view.
    env.cr.execute(SQL("DROP TABLE IF EXISTS %s CASCADE", SQL.identifier(DATA_TABLE)))
    # The credit check's SQL functions.
    for function in (EXPOSURE_FUNCTION, CHECK_FUNCTION):
        env.cr.execute(SQL("DROP FUNCTION IF EXISTS %s", SQL.identifier(function)))
    # The open balances kept by triggers on the move lines: triggers, function and table.
    drop_open_balance(env.cr)
