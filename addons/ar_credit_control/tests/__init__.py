from . import test_foundation
from . import test_credit_profile
from . import test_credit_profile_http
from . import test_demo
from . import test_credit_block
from . import test_credit_race
from . import test_credit_block_http
