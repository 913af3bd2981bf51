"""Integrations with other systems (docs/INTEGRATIONS.md): signed outbound webhooks fed by a durable outbox,
attendance per person and day, members upserted by a membership or payment system, and external
authenticators (face recognition) that ask the cloud to open a door.

Domain code (events, permissions, commands) only writes outbox rows in the same transaction as the change
(cloud.integrations.webhooks.outbox.emit); the delivery worker sends them.
"""
