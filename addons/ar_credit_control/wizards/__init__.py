from . import ar_credit_approval_wizard
