from . import state_store
