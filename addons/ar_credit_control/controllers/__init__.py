from . import ar_statement_portal
