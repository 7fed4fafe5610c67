"""Run the whole bus on one machine: the local stack, the catalog, the schemas and every service."""
