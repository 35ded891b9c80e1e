from . import test_crm_backend
from . import test_crm_http
from . import test_crm_queue_job
from . import test_security_crm
