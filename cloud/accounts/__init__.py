"""Operator accounts of the web console: passwords (argon2id), sign-in with lockout, server-side sessions."""

# The models here use cloud.models.common, and cloud.models registers them: load that package first so that
# importing cloud.accounts.* on its own (the CLI, a test) does not meet a half-initialised module.
import cloud.models  # noqa: F401
