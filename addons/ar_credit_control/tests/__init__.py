from . import test_foundation
from . import test_credit_profile
from . import test_credit_block
from . import test_credit_race
from . import test_credit_block_http
