from . import test_max_order_rule
