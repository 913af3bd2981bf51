"""Secrets at rest: the master key (outside the database) and AES-256-GCM sealing of stored secrets."""
