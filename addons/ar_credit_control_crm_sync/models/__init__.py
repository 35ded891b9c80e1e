from . import ar_crm_backend
from . import ar_crm_sync_state
from . import ar_crm_id_map
from . import ar_crm_dead_letter
from . import ar_crm_sync_run
from . import res_partner
