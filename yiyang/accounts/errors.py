"""Error codes of the accounts app: sign-in, API tokens, second factor, passwords, users
and their data scope.

Registered with the platform's error-code registry (``yiyang.common.errors``) when this
module is imported; ``CommonConfig.ready`` imports it. ``docs/api-errors.md`` lists the
codes with the ``#:`` comment above each member.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.errors import register_error_codes


class AccountError(StrEnum):
    """Sign-in, API tokens, second factor, passwords, users and their data scope."""

    # --- sign-in and API tokens ---

    #: The username, password or second-factor code is wrong or missing (401). The answer
    #: is the same whatever was wrong.
    INVALID_CREDENTIALS = "invalid_credentials"
    #: Too many failed logins from your address: the account is locked for you for some
    #: minutes; ``detail`` says how long (403).
    ACCOUNT_LOCKED = "account_locked"
    #: Your role must use two-step login, which you have not set up yet: sign in on the web
    #: and set up an authenticator app on the Security page first (403).
    MFA_ENROLMENT_REQUIRED = "mfa_enrolment_required"
    #: Your password was set by someone else: sign in on the web and choose your own
    #: password first (403).
    PASSWORD_CHANGE_REQUIRED = "password_change_required"
    #: Revoking the current token needs the token itself in the ``Authorization: Bearer``
    #: header (the request was authenticated otherwise).
    NO_BEARER_TOKEN = "no_bearer_token"
    #: The token is already revoked.
    TOKEN_REVOKED = "token_revoked"

    # --- second factor (TOTP) ---

    #: Two-step login is already set up for this account; only a security administrator
    #: can reset it.
    TOTP_ENROLLED = "totp_enrolled"
    #: Confirming two-step login before starting its set-up (which gives the secret).
    TOTP_NOT_STARTED = "totp_not_started"
    #: The code is wrong or expired: send the current 6-digit code of the authenticator
    #: app.
    TOTP_INVALID = "totp_invalid"
    #: The code has already been used: wait for the next code of the app.
    TOTP_REUSED = "totp_reused"
    #: The account has no second factor to reset.
    TOTP_NOT_ENROLLED = "totp_not_enrolled"

    # --- passwords ---

    #: The current password given is wrong.
    WRONG_PASSWORD = "wrong_password"
    #: The new password is the same as the current one.
    PASSWORD_UNCHANGED = "password_unchanged"
    #: The password does not meet the password policy; ``detail`` says which rules it
    #: breaks.
    PASSWORD_POLICY = "password_policy"

    # --- users ---

    #: The username is missing.
    USERNAME_MISSING = "username_missing"
    #: The username is longer than 150 characters or has characters other than letters,
    #: digits and ``@ . + - _``.
    USERNAME_INVALID = "username_invalid"
    #: Another account already has this username (also a family login created for a
    #: resident's contact).
    USERNAME_TAKEN = "username_taken"
    #: The e-mail address is not valid.
    EMAIL_INVALID = "email_invalid"
    #: The account is already active (reactivating it).
    ALREADY_ACTIVE = "already_active"
    #: The account is already deactivated (deactivating it).
    ALREADY_INACTIVE = "already_inactive"
    #: The role is not one of the platform's roles.
    INVALID_ROLE = "invalid_role"

    # --- data scope of a user ---

    #: The kind of data scope is not one of the known kinds.
    INVALID_SCOPE = "invalid_scope"
    #: A staff role needs a region, an institution or a team as data scope.
    SCOPE_REQUIRED = "scope_required"
    #: The role cannot have this kind of data scope: residents and family members only
    #: "own records only", administrators the whole deployment or a region.
    SCOPE_NOT_ALLOWED = "scope_not_allowed"
    #: The scope would be wider than your own data scope.
    SCOPE_OUTSIDE = "scope_outside"
    #: A region scope without the region code.
    SCOPE_REGION_MISSING = "scope_region_missing"
    #: An institution scope without the institution.
    SCOPE_INSTITUTION_MISSING = "scope_institution_missing"
    #: A team scope without the team.
    SCOPE_TEAM_MISSING = "scope_team_missing"
    #: No region has this code within your data scope.
    UNKNOWN_REGION = "unknown_region"
    #: No institution has this id within your data scope.
    UNKNOWN_INSTITUTION = "unknown_institution"
    #: No team has this id within your data scope.
    UNKNOWN_TEAM = "unknown_team"

    # --- security administration ---

    #: The address given to clear a lockout for is not an IP address.
    INVALID_ADDRESS = "invalid_address"
    #: There are no failed logins to clear for this account (and address).
    NOT_LOCKED = "not_locked"


register_error_codes(AccountError)
