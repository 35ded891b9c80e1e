from . import test_foundation
from . import test_credit_profile
from . import test_aging
from . import test_kpi
