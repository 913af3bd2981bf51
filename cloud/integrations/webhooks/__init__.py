"""Outbound webhooks: endpoints per site, the outbox (emit), signing, and the delivery worker."""
