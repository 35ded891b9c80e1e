"""crm_sync: synchronise customers and payments between Odoo and external CRMs.

Never imports Odoo at module level: the Odoo connector talks JSON-RPC, or receives an
``env`` when the addon's cron runs the sync in-process.
"""

__version__ = "18.0.1.0.0"
