from . import test_foundation
from . import test_credit_profile
from . import test_credit_profile_http
from . import test_demo
