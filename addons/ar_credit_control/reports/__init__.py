from . import ar_aging_pdf
from . import ar_statement_pdf
from . import ar_dunning_letter
