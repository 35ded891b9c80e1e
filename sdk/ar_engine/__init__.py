"""ar_engine: the accounts-receivable algorithms on plain data.

Every function here takes and returns plain dataclasses (or pydantic models) and never
imports Odoo, so correctness and speed are proved without a database. The Odoo addon
gathers facts with set-based SQL, calls into this package and writes the results back.
"""

__version__ = "18.0.1.0.0"
