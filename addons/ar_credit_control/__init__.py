from . import controllers
from . import models
from . import reports
from . import wizards
from .database_objects import drop_all


def uninstall_hook(env):
    """Drop what the addon made in the database beside its models' tables (their functions,
    the triggers and indexes on Odoo's tables, the tables of derived figures)."""
    drop_all(env.cr)
