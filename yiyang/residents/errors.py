"""Error codes of the residents app: the register and ID numbers, merged records, contacts
and consents, family logins, the health record, documents, and the resident import.

Registered with the platform's error-code registry (``yiyang.common.errors``) when this
module is imported; ``CommonConfig.ready`` imports it. ``docs/api-errors.md`` lists the
codes with the ``#:`` comment above each member. ``merged`` is answered by the apps above
too (assessments, devices, emergency) for an entry about a merged record.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.errors import register_error_codes


class ResidentError(StrEnum):
    """The resident register and ID numbers, merged records, contacts and consents, family
    logins, the health record, documents and the resident import."""

    # --- the register ---

    #: Another resident already has this ID number (the answer names nobody, whatever your
    #: data scope).
    DUPLICATE_ID_NUMBER = "duplicate_id_number"
    #: The sex given does not match the one the ID number implies.
    SEX_MISMATCH = "sex_mismatch"
    #: The birth date given does not match the one the ID number implies.
    BIRTH_DATE_MISMATCH = "birth_date_mismatch"
    #: A resident's region must be a village; ``detail`` gives the level of the region
    #: given.
    REGION_NOT_VILLAGE = "region_not_village"
    #: The grid lies in another village than the resident's region.
    GRID_OUTSIDE_VILLAGE = "grid_outside_village"
    #: The household lies in another village than the resident's region.
    HOUSEHOLD_OUTSIDE_VILLAGE = "household_outside_village"
    #: Your data scope is a team: a resident you register needs a grid your team serves,
    #: else she would not be on your lists.
    GRID_REQUIRED = "grid_required"
    #: The resident would lie outside your data scope once registered: choose a village,
    #: grid or institution you serve. Nothing was registered.
    OUTSIDE_SCOPE_AFTER_SAVE = "outside_scope_after_save"
    #: A date of death is recorded only for a deceased resident.
    DECEASED_ON_NOT_ALLOWED = "deceased_on_not_allowed"
    #: An institution is recorded only for a resident in institutional care.
    INSTITUTION_NOT_ALLOWED = "institution_not_allowed"
    #: The resident already belongs to a household.
    ALREADY_IN_HOUSEHOLD = "already_in_household"
    #: A special-group flag or an area to filter the residents by is not known.
    UNKNOWN_FILTER = "unknown_filter"

    # --- ID numbers (the 18-character resident identity card number) ---

    #: The ID number does not have 18 characters.
    ID_LENGTH = "id_length"
    #: One of the first 17 characters of the ID number is not a digit; ``detail`` says
    #: which.
    ID_DIGITS = "id_digits"
    #: The last character of the ID number is neither a digit nor ``X``.
    ID_CHECK_CHAR_FORMAT = "id_check_char_format"
    #: The ID number does not start with a province code.
    ID_PROVINCE = "id_province"
    #: The birth year in the ID number is before 1900.
    ID_BIRTH_TOO_EARLY = "id_birth_too_early"
    #: The birth date in the ID number is not a real date.
    ID_BIRTH_DATE = "id_birth_date"
    #: The birth date in the ID number lies in the future.
    ID_BIRTH_FUTURE = "id_birth_future"
    #: The check character of the ID number is wrong (a typing error, most likely);
    #: ``detail`` gives the expected one.
    ID_CHECKSUM = "id_checksum"

    # --- merged records ---

    #: The resident's record was merged into another one and takes no new entries (health
    #: data, assessments, device thresholds or bindings, emergency calls): use the record
    #: kept.
    MERGED = "merged"
    #: The resident's record was merged into another one: change her contacts, consents and
    #: family logins on the record kept, whose id ``detail`` gives.
    RESIDENT_MERGED = "resident_merged"
    #: A record is marked merged only by merging it into another one (the merge), not by
    #: changing its status.
    MERGE_REQUIRED = "merge_required"
    #: A record cannot be merged into itself.
    SAME_RECORD = "same_record"
    #: One of the two records was already merged into another one.
    ALREADY_MERGED = "already_merged"
    #: Both records have their own resident login: deactivate or unlink the duplicate's
    #: login before merging.
    BOTH_HAVE_LOGIN = "both_have_login"
    #: Both records have something a resident can have only once (``detail`` names it):
    #: resolve that on one of the records before merging.
    MERGE_CONFLICT = "merge_conflict"

    # --- contacts and consents ---

    #: The relation of a contact is not one of the known relations.
    INVALID_RELATION = "invalid_relation"
    #: The contact gave consents as guardian that are still active: withdraw them (or have
    #: them given again by the new guardian) before the contact stops being the guardian.
    GUARDIAN_HAS_CONSENTS = "guardian_has_consents"
    #: The contact has an active family login for this resident: revoke the grant before
    #: deleting the contact.
    CONTACT_HAS_ACTIVE_GRANT = "contact_has_active_grant"
    #: The contact is named as guardian on consent records, which are kept: the contact
    #: cannot be deleted.
    CONTACT_GAVE_CONSENTS = "contact_gave_consents"
    #: The consent purpose is not one of the known purposes.
    INVALID_PURPOSE = "invalid_purpose"
    #: Consent to family proxy access is given with the family login (the proxy grant),
    #: not as a consent of its own.
    PROXY_VIA_GRANT = "proxy_via_grant"
    #: A guardian is named only when the consent is given by the guardian.
    GUARDIAN_NOT_ALLOWED = "guardian_not_allowed"
    #: A consent given by the guardian needs the guardian (one of the resident's contacts).
    GUARDIAN_REQUIRED = "guardian_required"
    #: The contact is not (or no longer) recorded as the resident's legal guardian: mark
    #: the contact as guardian first, or say who consents now.
    NOT_GUARDIAN = "not_guardian"
    #: A date and time is not valid; ``detail`` gives the form to use.
    INVALID_DATETIME = "invalid_datetime"
    #: A consent cannot be given at a time in the future.
    GIVEN_AT_FUTURE = "given_at_future"
    #: The same consent is already given and active: withdraw it first to record a new one.
    ALREADY_GIVEN = "already_given"
    #: The consent is already withdrawn.
    ALREADY_WITHDRAWN = "already_withdrawn"
    #: The resident has not consented to the processing of health data (or has withdrawn
    #: that consent): record the consent before writing to her health record.
    NO_CONSENT = "no_consent"

    # --- family logins (proxy grants) ---

    #: The resident has not consented to sharing her data with family (or has withdrawn
    #: that consent): record that consent before giving a family login.
    NO_FAMILY_SHARING = "no_family_sharing"
    #: The login named is not a family-member login.
    NOT_FAMILY_LOGIN = "not_family_login"
    #: The family login is deactivated: a system administrator must reactivate it.
    LOGIN_INACTIVE = "login_inactive"
    #: The contact already has a family login, another than the username given: that login
    #: is the one used for the grant.
    LOGIN_EXISTS = "login_exists"
    #: A grant needs at least one right.
    NO_RIGHTS = "no_rights"
    #: The right is not available yet: a family login cannot do that on the platform.
    RIGHT_NOT_AVAILABLE = "right_not_available"
    #: The contact already has an active grant for this resident: change its rights or
    #: revoke it.
    ALREADY_GRANTED = "already_granted"
    #: The grant is already revoked.
    ALREADY_REVOKED = "already_revoked"
    #: The grant is revoked and cannot be changed: give a new one.
    GRANT_REVOKED = "grant_revoked"

    # --- the health record ---

    #: A value is not a number.
    INVALID_NUMBER = "invalid_number"
    #: The unit is not one of the measurement's units; ``detail`` lists them.
    INVALID_UNIT = "invalid_unit"
    #: The code is not a measurement the health record knows.
    UNKNOWN_CODE = "unknown_code"
    #: The measurement is calculated (from weight and height), not entered.
    DERIVED_CODE = "derived_code"
    #: Blood pressure is recorded as a pair, systolic and diastolic together, not as one
    #: measurement.
    BP_PANEL = "bp_panel"
    #: The request sends both a blood-pressure panel and one measurement: send one of them.
    AMBIGUOUS = "ambiguous"
    #: The systolic pressure is not higher than the diastolic.
    BP_ORDER = "bp_order"
    #: A reading is entered by hand or comes from a device: the source given is neither.
    INVALID_SOURCE = "invalid_source"
    #: A time lies in the future (e.g. when a reading was taken).
    FUTURE_TIME = "future_time"
    #: A time lies after the resident's date of death.
    AFTER_DEATH = "after_death"
    #: A reading from a device cannot be deleted by hand (nor a panel that holds one).
    DEVICE_READING = "device_reading"
    #: A calculated value is deleted with the reading it came from: delete that one.
    DERIVED_READING = "derived_reading"
    #: The code is not an ICD-10 code: a letter, two digits and optionally a dot with up to
    #: four more characters (e.g. I10, E11.9).
    INVALID_ICD10 = "invalid_icd10"
    #: An end lies before its start (a medication's end, a hospital stay's discharge).
    END_BEFORE_START = "end_before_start"
    #: A discharge date is recorded only for a hospital stay.
    END_DATE_NOT_ALLOWED = "end_date_not_allowed"

    # --- documents ---

    #: The uploaded document is empty.
    FILE_EMPTY = "file_empty"
    #: The uploaded file is larger than allowed (a document, an import file); ``detail``
    #: gives the limit.
    FILE_TOO_LARGE = "file_too_large"
    #: The document is not of an allowed file type (by its name or by its content);
    #: ``detail`` lists the allowed types.
    FILE_TYPE = "file_type"
    #: The document is named like one file type but its content is another.
    FILE_TYPE_MISMATCH = "file_type_mismatch"
    #: The same file is already in the resident's record; ``detail`` gives its title.
    DUPLICATE_DOCUMENT = "duplicate_document"

    # --- the resident import: the file ---

    #: The import file is empty.
    EMPTY_FILE = "empty_file"
    #: The import file is neither an Excel workbook (.xlsx) nor a CSV file.
    UNSUPPORTED_FILE = "unsupported_file"
    #: The import file is an old .xls workbook: save it as .xlsx or CSV.
    XLS_NOT_SUPPORTED = "xls_not_supported"
    #: The import file cannot be read as an .xlsx workbook or as CSV (damaged, or another
    #: kind of file): save it again as .xlsx or CSV (UTF-8).
    BAD_FILE = "bad_file"
    #: The CSV file is neither UTF-8 nor GB18030 text: save it as CSV (UTF-8).
    BAD_ENCODING = "bad_encoding"
    #: The import file has more rows than allowed; ``detail`` gives the limit: split it.
    TOO_MANY_ROWS = "too_many_rows"
    #: No header row with the template's column names was found in the first rows.
    NO_HEADER = "no_header"
    #: The import file has no data rows below its header row.
    NO_DATA_ROWS = "no_data_rows"
    #: The import file holds only the template's example row (its name starts with
    #: （示例）), which is always skipped: nothing was imported.
    ONLY_EXAMPLE_ROWS = "only_example_rows"
    #: Required columns of the template are missing; ``detail`` names them.
    MISSING_COLUMNS = "missing_columns"
    #: A column of the template appears twice in the header row.
    DUPLICATE_COLUMN = "duplicate_column"

    # --- the resident import: a row (reason codes of the import report) ---

    #: The ID number was stored as a number by the spreadsheet and has lost its last
    #: digits: format the column as text and type it again.
    ID_NUMBER_AS_NUMBER = "id_number_as_number"
    #: A yes/no cell holds something other than 是 or 否.
    INVALID_BOOLEAN = "invalid_boolean"
    #: Several institutions have the name given: give its elderly-care filing number or
    #: medical practice licence number instead.
    AMBIGUOUS_REFERENCE = "ambiguous_reference"
    #: The same ID number is in several rows of the file: none of them was imported.
    DUPLICATE_IN_FILE = "duplicate_in_file"
    #: The ID number belongs to a record that was merged into another one: update the
    #: record kept instead.
    MERGED_RECORD = "merged_record"
    #: The database refused to store the row (a value it cannot hold); nothing of it was
    #: written.
    NOT_STORED = "not_stored"
    #: The row could not be written because of an unexpected error while writing its batch
    #: of rows (``detail`` gives them); nothing of the batch was changed: import the file
    #: again.
    BATCH_FAILED = "batch_failed"


register_error_codes(ResidentError)
