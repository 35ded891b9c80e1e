from . import ar_statement_portal
from . import ar_collections_portal
