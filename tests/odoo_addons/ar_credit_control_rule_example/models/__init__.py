from . import ar_credit_profile
from . import ar_credit_check
