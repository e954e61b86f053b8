"""Local assessment policy as data: eligibility rules and schedule policies.

Every function is one action (the pages and the API call the same ones): it takes the
acting user and checks ``AssessmentPerm.POLICY`` (``PermissionDenied`` → 403), validates
each given value (``ValidationFailed`` naming the field, or ``PolicyInvalid`` listing
every refused field when there are several; nothing is written), and writes
in one transaction with one audit row whose details name the changed fields
(``assessments.rule.create`` / ``assessments.rule.update`` / ``assessments.policy.update``).
An update that changes nothing writes nothing.

A rule's ``code`` is fixed once created: it is the key of the eligibility flags stored on
standings and assessments (``eligibility_before`` / ``eligibility_after``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.assessments.errors import AssessmentError
from yiyang.assessments.models import EligibilityRule, SchedulePolicy
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.assessments.selectors import current_version
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.validation import field_label

RULE_FIELDS = (
    "name_zh",
    "name_en",
    "min_age",
    "min_ability_level",
    "min_disability_grade",
    "requires_ltc_insured",
    "source",
    "unverified",
    "active",
)
SCHEDULE_FIELDS = ("interval_days", "requires_second_assessor")

# (lowest, highest) accepted for each number; None (unset) is always accepted where the
# field is optional.
RANGES: dict[str, tuple[int, int]] = {
    "min_age": (0, 130),
    "min_ability_level": (0, 4),  # GB/T 42195-2022 levels 0–4
    "min_disability_grade": (0, 5),  # LTC disability grades 0–5
    "interval_days": (1, 3660),  # at least daily, at most every ten years
}
OPTIONAL_NUMBERS = {"min_age", "min_ability_level", "min_disability_grade"}
TEXTS: dict[str, tuple[int, bool]] = {  # name → (max length, required)
    "name_zh": (100, True),
    "name_en": (100, True),
    "source": (255, False),
}
FLAGS = {"requires_ltc_insured", "unverified", "active", "requires_second_assessor"}
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


def _label(name: str) -> str:
    return capfirst(field_label((EligibilityRule, SchedulePolicy), name)) or name


def _required(name: str) -> ValidationFailed:
    return ValidationFailed(
        CommonError.REQUIRED, _("%(f)s is required.") % {"f": _label(name)}, field=name
    )


def _number(name: str, value: Any) -> int | None:
    if value is None or value == "":
        if name in OPTIONAL_NUMBERS:
            return None
        raise ValidationFailed(
            CommonError.REQUIRED, _("%(f)s is required.") % {"f": _label(name)}, field=name
        )
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        number = int(value)
    else:
        number = None
    low, high = RANGES[name]
    if number is None:
        raise ValidationFailed(
            AssessmentError.WRONG_TYPE,
            _("%(f)s must be a whole number.") % {"f": _label(name)},
            field=name,
        )
    if not low <= number <= high:
        raise ValidationFailed(
            CommonError.OUT_OF_RANGE,
            _("%(f)s must be between %(low)s and %(high)s (got %(value)s).")
            % {"f": _label(name), "low": low, "high": high, "value": number},
            field=name,
        )
    return number


def _text(name: str, value: Any) -> str:
    limit, needed = TEXTS[name]
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(
            AssessmentError.WRONG_TYPE, _("%(f)s must be text.") % {"f": _label(name)}, field=name
        )
    value = value.strip()
    if needed and not value:
        raise ValidationFailed(
            CommonError.REQUIRED, _("%(f)s is required.") % {"f": _label(name)}, field=name
        )
    if len(value) > limit:
        raise ValidationFailed(
            CommonError.TOO_LONG,
            _("%(f)s is too long: at most %(n)s characters.") % {"f": _label(name), "n": limit},
            field=name,
        )
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(
            AssessmentError.WRONG_TYPE,
            _("%(f)s must be true or false.") % {"f": _label(name)},
            field=name,
        )
    return value


def _clean(name: str, value: Any) -> Any:
    if name in RANGES:
        return _number(name, value)
    if name in TEXTS:
        return _text(name, value)
    return _flag(name, value)


class PolicyInvalid(ValidationFailed):
    """Every refused value of one call, so a form shows them all at once. The code, detail
    and field are the first problem's (in the order of the fields); ``errors`` lists each
    one (the API adds them as ``errors``)."""

    def __init__(self, errors: list[ValidationFailed]):
        first = errors[0]
        super().__init__(first.code, first.detail, field=first.field)
        self.errors = errors

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "errors": [e.as_dict() for e in self.errors]}


def _raise_all(errors: list[ValidationFailed]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise PolicyInvalid(errors)


def _checked(
    values: Mapping[str, Any], allowed: tuple[str, ...]
) -> tuple[dict[str, Any], list[ValidationFailed]]:
    """Each value checked, in the order of ``allowed``: (the good ones, every problem —
    an unknown field is one)."""
    errors = [
        ValidationFailed(
            CommonError.UNKNOWN_FIELD,
            _("The field %(f)s cannot be changed here.") % {"f": name},
            field=name,
        )
        for name in sorted(set(values) - set(allowed))
    ]
    cleaned: dict[str, Any] = {}
    for name in allowed:
        if name not in values:
            continue
        try:
            cleaned[name] = _clean(name, values[name])
        except ValidationFailed as exc:
            errors.append(exc)
    return cleaned, errors


def _cleaned(values: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """Each value checked; all the problems raised together (``PolicyInvalid``)."""
    cleaned, errors = _checked(values, allowed)
    _raise_all(errors)
    return cleaned


def _code_problem(code: Any) -> ValidationFailed | None:
    if not isinstance(code, str) or not CODE_RE.fullmatch(code.strip()):
        return ValidationFailed(
            AssessmentError.INVALID_CODE,
            _(
                "%(f)s: use lower-case letters, digits, '-' and '_' (at most 50 characters, "
                "starting with a letter or digit)."
            )
            % {"f": _label("code")},
            field="code",
        )
    return None


def rule_problems(values: Mapping[str, Any], *, code: Any = None) -> list[ValidationFailed]:
    """What ``create_rule`` (with ``code``) or ``update_rule`` would refuse in
    ``values``, without writing: for a form that must show its other errors too."""
    problems = []
    if code is not None:
        problem = _code_problem(code)
        if problem is not None:
            problems.append(problem)
    return problems + _checked(values, RULE_FIELDS)[1]


def _set(obj: Any, values: Mapping[str, Any]) -> list[str]:
    """Set the values that differ; the names of those that changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


# --- eligibility rules ------------------------------------------------------------------


def _locked_rule(rule: Any) -> EligibilityRule:
    pk = rule.pk if isinstance(rule, EligibilityRule) else rule
    if pk is None or isinstance(pk, bool):
        raise NotFound("eligibility rule")
    try:
        return EligibilityRule.objects.select_for_update().get(pk=pk)
    except (EligibilityRule.DoesNotExist, ValueError, TypeError):
        raise NotFound("eligibility rule") from None


@transaction.atomic
def create_rule(actor: User, *, code: Any, **values: Any) -> EligibilityRule:
    """A new eligibility rule. ``code`` (lower-case letters, digits, ``-``/``_``, at most
    50) must be new; ``name_zh`` and ``name_en`` are required; unset conditions are not
    considered when the rule is evaluated."""
    require_perm(actor, AssessmentPerm.POLICY)
    for name in ("name_zh", "name_en"):
        values.setdefault(name, "")
    problem = _code_problem(code)
    cleaned, errors = _checked(values, RULE_FIELDS)
    if problem is not None:
        errors.insert(0, problem)
    else:
        code = code.strip()
        if EligibilityRule.objects.filter(code=code).exists():
            errors.insert(
                0,
                ValidationFailed(
                    CommonError.DUPLICATE_CODE,
                    _("A rule with the code %(code)s already exists.") % {"code": code},
                    field="code",
                ),
            )
    _raise_all(errors)
    try:
        with transaction.atomic():
            rule = EligibilityRule.objects.create(code=code, **cleaned)
    except IntegrityError:  # created meanwhile by someone else
        raise ValidationFailed(
            CommonError.DUPLICATE_CODE,
            _("A rule with the code %(code)s already exists.") % {"code": code},
            field="code",
        ) from None
    record(
        actor=actor,
        action="assessments.rule.create",
        obj=rule,
        details={"code": code, "fields": ["code", *cleaned]},
    )
    return rule


@transaction.atomic
def update_rule(actor: User, rule: Any, **changes: Any) -> EligibilityRule:
    """Change the given fields of a rule (``RULE_FIELDS``; the code cannot change)."""
    require_perm(actor, AssessmentPerm.POLICY)
    found = _locked_rule(rule)
    cleaned = _cleaned(changes, RULE_FIELDS)
    changed = _set(found, cleaned)
    if not changed:
        return found
    found.save(update_fields=[*changed, "updated_at"])
    record(
        actor=actor,
        action="assessments.rule.update",
        obj=found,
        details={"code": found.code, "changed": changed},
    )
    return found


# --- schedule policies ------------------------------------------------------------------


@transaction.atomic
def update_schedule(actor: User, instrument_code: Any, **changes: Any) -> SchedulePolicy:
    """Change the schedule policy of an instrument (``SCHEDULE_FIELDS``). An instrument
    without a stored policy runs on the defaults; its first change stores one."""
    require_perm(actor, AssessmentPerm.POLICY)
    if not isinstance(instrument_code, str) or not instrument_code:
        raise NotFound("schedule policy")
    found = SchedulePolicy.objects.select_for_update().filter(instrument_code=instrument_code)
    policy = found.first()
    created = policy is None
    if policy is None:
        if current_version(instrument_code) is None:
            raise NotFound("schedule policy")
        policy = SchedulePolicy(instrument_code=instrument_code)
    cleaned = _cleaned(changes, SCHEDULE_FIELDS)
    changed = _set(policy, cleaned)
    if not changed:
        return policy
    if created:
        try:
            with transaction.atomic():
                policy.save()
        except IntegrityError:  # stored meanwhile by someone else: change that one
            policy = SchedulePolicy.objects.select_for_update().get(instrument_code=instrument_code)
            changed = _set(policy, cleaned)
            created = False
            if not changed:
                return policy
            policy.save(update_fields=[*changed, "updated_at"])
    else:
        policy.save(update_fields=[*changed, "updated_at"])
    record(
        actor=actor,
        action="assessments.policy.update",
        obj=policy,
        details={"instrument": instrument_code, "changed": changed, "created": created},
    )
    return policy
