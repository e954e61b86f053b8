"""People pages: the contacts tab (contacts, family logins), the consent tab, and merging a
duplicate record.

Each tab is a ``shell`` tab (``residents:contacts``, ``residents:consents``): an htmx
request gets the fragment, a plain one the whole resident page. Every form posts with
htmx into the tab and works as a plain form too (then it redirects back to the tab). The
one exception is the answer to a new family login: it carries the one-time password, so
it is rendered directly (never redirected through the session) and marked ``no-store``.

Access: the tabs are seen by staff with ``residents.view`` and by the resident's own login;
changes need ``residents.manage``; a consent withdrawal and a grant revocation may also
be made by the resident herself. Merging needs ``residents.merge``.

One module per concern, each with its ``urlpatterns``:

* ``contacts`` — the contacts tab: contacts (add, edit in place, remove) and the family
  logins listed with them, and the tab's forms.
* ``proxies`` — the family logins' actions on that tab: grant (a new login's one-time
  password shown once), change the rights, revoke.
* ``consents`` — the consent tab: the state per purpose, the history, record and withdraw.
* ``merge`` — merging a duplicate record into this one.
* ``common`` — what they share: field labels, the permission checks, the consent-giver
  fields, the note form and the answers after a change or a refusal.
"""
