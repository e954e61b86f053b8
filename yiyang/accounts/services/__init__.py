"""The accounts app's actions: sign-in, second factor, tokens, passwords and account
management. Every action runs in one transaction and writes its audit row inside it; the
login page, the token API and the management pages all call these functions. Sign-in
failures are written (failure row + audit row) and committed before the refusal is raised.
Callers import from the topic module (``from yiyang.accounts.services.users import
create_user``). One module per topic:

* ``base`` — the shared guards (permission, visibility, not on yourself) and token revoking.
* ``totp`` — TOTP codes, whether a user must still enrol, the user's own enrolment.
* ``signin`` — password and second factor under the lockout, login and logout audit rows.
* ``tokens`` — issuing and revoking API bearer tokens.
* ``passwords`` — the password policy and the user's own password change.
* ``scopes`` — role and data scope rules of an account.
* ``users`` — creating, changing, deactivating and reactivating accounts.
* ``security`` — the security administrator's unlock and second-factor reset.
"""
