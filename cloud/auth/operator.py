"""The authenticated caller (an API key or a console account) and what its role and scope allow."""

from dataclasses import dataclass

ROLE_ADMIN = "admin"
ROLE_OPERATOR = "operator"
ROLE_VIEWER = "viewer"
# Another system's key: only /integrations/... within its scopes (docs/INTEGRATIONS.md).
ROLE_INTEGRATION = "integration"

# Who acted, as the audit trail records it.
ACTOR_API_KEY = "api_key"
ACTOR_ACCOUNT = "account"
ACTOR_INTEGRATION = "integration"


@dataclass(frozen=True)
class Operator:
    key_id: int | None  # the API key acting; None when a console account acts
    name: str
    role: str
    site_id: int | None  # None: every site (a global admin key)
    account_id: int | None = None  # the console account acting (cloud.accounts)
    scopes: tuple[str, ...] = ()  # an integration key's scopes

    @property
    def actor_kind(self) -> str:
        if self.account_id is not None:
            return ACTOR_ACCOUNT
        return ACTOR_INTEGRATION if self.role == ROLE_INTEGRATION else ACTOR_API_KEY

    @property
    def can_write(self) -> bool:
        return self.role in (ROLE_ADMIN, ROLE_OPERATOR)

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    def sees(self, site_id: int | None) -> bool:
        return self.site_id is None or self.site_id == site_id
