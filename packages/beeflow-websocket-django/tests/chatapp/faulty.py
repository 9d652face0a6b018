"""A plugin module that fails to import."""

raise LookupError("faulty plugin module")
