"""Members kept in step with a membership or payment system, by that system's own id (external_id)."""
