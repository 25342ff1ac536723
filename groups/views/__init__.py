"""Group pages, one module per feature: groups/views/<feature>.py holds the pages whose
writes are in groups/services/<feature>.py (and reads in groups/selectors.py)."""
