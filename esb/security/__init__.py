"""Security of the bus: least-privilege ACLs from the topic catalog, and the audit trail."""
