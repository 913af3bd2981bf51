"""The authenticated caller and what its role and scope allow."""

from dataclasses import dataclass

ROLE_ADMIN = "admin"
ROLE_OPERATOR = "operator"
ROLE_VIEWER = "viewer"


@dataclass(frozen=True)
class Operator:
    key_id: int
    name: str
    role: str
    site_id: int | None  # None: every site (a global admin key)

    @property
    def can_write(self) -> bool:
        return self.role in (ROLE_ADMIN, ROLE_OPERATOR)

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    def sees(self, site_id: int | None) -> bool:
        return self.site_id is None or self.site_id == site_id
