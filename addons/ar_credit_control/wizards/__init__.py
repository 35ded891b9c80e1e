from . import ar_credit_approval_wizard
from . import ar_aging_wizard
from . import ar_receivable_kpi
from . import ar_payment_matching_wizard
from . import account_wizards_discrepancy
from . import ar_forecast_backtest
