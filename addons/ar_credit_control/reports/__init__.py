from . import ar_aging_pdf
