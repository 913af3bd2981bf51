"""Every table, imported in one place so SQLModel.metadata (and Alembic) sees them all."""

from cloud.accounts.models import ConsoleSession, OperatorAccount, SignInThrottle
from cloud.audit.models import AuditEntry
from cloud.commands.models import Command
from cloud.events.gaps import EventGap
from cloud.events.models import Event
from cloud.integrations.verifications.models import Verification
from cloud.integrations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from cloud.lockkeys.models import DoorKey
from cloud.mobilekeys.models import MobileKey
from cloud.models.api_key import ApiKey
from cloud.models.credential import Credential
from cloud.models.door import Door
from cloud.models.rule import AccessRule
from cloud.models.site import Site
from cloud.models.user import Group, GroupMember, User
from cloud.models.zone import Zone, ZoneDoor
from cloud.permissions.models import DoorPermissions

__all__ = [
    "AccessRule",
    "ApiKey",
    "AuditEntry",
    "Command",
    "ConsoleSession",
    "Credential",
    "Door",
    "DoorKey",
    "DoorPermissions",
    "Event",
    "EventGap",
    "Group",
    "GroupMember",
    "MobileKey",
    "OperatorAccount",
    "SignInThrottle",
    "Site",
    "User",
    "Verification",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Zone",
    "ZoneDoor",
]
