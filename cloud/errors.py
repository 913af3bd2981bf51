"""Errors raised by service functions; the API layer maps them to HTTP statuses (main.py)."""


class ServiceError(Exception):
    pass


class NotFound(ServiceError):
    """404: unknown id, or an object of a site the caller cannot see (the two are indistinguishable)."""

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"{entity} {entity_id} not found")


class Conflict(ServiceError):
    """409: the change collides with existing data (a credential enrolled twice, a taken device id)."""


class Invalid(ServiceError):
    """422 for one field of the request body, with the reason."""

    def __init__(self, field: str, message: str, location: str = "body") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.location = location


class Forbidden(ServiceError):
    """403: the caller's role or scope does not allow this change."""
