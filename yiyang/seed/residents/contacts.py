"""Contacts and consents of a generated resident (``ContactsAndConsents``): the household's
children recorded as contacts (the first the emergency contact and, with dementia, the
guardian; the demo's daughter holding the family login) and the consents per purpose,
which also decide whether she is observed (a year of readings, from a device when she
consents to monitoring)."""

from __future__ import annotations

import datetime
from typing import Any

from yiyang.common import crypto
from yiyang.residents.models import ConsentGiver, ConsentPurpose, Relation, ResidentStatus, Sex
from yiyang.seed import names
from yiyang.seed.residents.health import HealthRecords
from yiyang.seed.residents.population import DIABETES, HYPERTENSION


class ContactsAndConsents(HealthRecords):
    """Contacts and consents, written to the contact and consent tables."""

    def contacts(
        self,
        rid: int,
        home: dict[str, Any],
        dementia: bool,
        childless: bool,
        force: dict[str, Any],
    ) -> tuple[list[int], int | None]:
        """Contacts: the children (none for the childless; a couple shares them), the first
        one the emergency contact and, with dementia, the guardian. Returns the contacts'
        ids and the guardian's (None without one)."""
        writer = self.writer
        contacts: list[int] = []
        guardian = None
        for position, (relation, child_name, child_phone) in enumerate(
            self.children(home, childless, force.get("children"))
        ):
            cid = writer.next_id(self.t_contact)
            is_guardian = dementia and position == 0
            child_account = None
            if self.demo is not None and force and relation == Relation.DAUGHTER:
                child_account = self.demo.family_user
                self.demo.daughter_contact_id = cid
                self.demo.daughter_name = child_name
            writer.add(
                self.t_contact,
                (
                    cid,
                    rid,
                    child_name,
                    relation,
                    crypto.encrypt(child_phone) if child_phone else "",
                    crypto.blind_index(child_phone) if child_phone else "",
                    is_guardian,
                    position == 0,
                    child_account,
                    self.now,
                ),
            )
            contacts.append(cid)
            if is_guardian:
                guardian = cid
        self.counts.add("contacts", len(contacts))
        return contacts, guardian

    def consents(
        self,
        rid: int,
        status: str,
        diagnosed: list[str],
        contacts: list[int],
        guardian: int | None,
        force: dict[str, Any],
    ) -> None:
        """Consents: health data for most, exchange with the platform for many, sharing
        with family for some of those with family recorded, device monitoring for a few;
        an active resident with hypertension or diabetes may be observed: a year of
        readings (``readings``), from a device when she consents to monitoring."""
        rng = self.rng
        consents = force.get("consents", ())
        device = False
        if ConsentPurpose.HEALTH_DATA in consents or rng.random() < 0.92:
            withdrawn = not consents and rng.random() < 0.01
            self.consent(rid, ConsentPurpose.HEALTH_DATA, guardian, withdrawn)
        if ConsentPurpose.PLATFORM_EXCHANGE in consents or rng.random() < 0.55:
            self.consent(rid, ConsentPurpose.PLATFORM_EXCHANGE, guardian, False)
        if contacts and (ConsentPurpose.FAMILY_SHARING in consents or rng.random() < 0.4):
            self.consent(rid, ConsentPurpose.FAMILY_SHARING, guardian, False)
        chronic = HYPERTENSION in diagnosed or DIABETES in diagnosed
        observed = status == ResidentStatus.ACTIVE and chronic
        observed = observed and (bool(force) or rng.random() < self.sizing.observed_share)
        if ConsentPurpose.DEVICE_MONITORING in consents or rng.random() < (
            0.4 if observed else 0.05
        ):
            self.consent(rid, ConsentPurpose.DEVICE_MONITORING, guardian, False)
            device = True
        if observed:
            self.readings(rid, HYPERTENSION in diagnosed, DIABETES in diagnosed, device)

    def children(
        self, home: dict[str, Any], childless: bool, relations: list[str] | None
    ) -> list[tuple[str, str, str]]:
        """(relation, name, phone) of the household's children recorded as contacts, drawn
        once per household; sons carry the father's surname."""
        if childless:
            return []
        if home["children"] is None:
            rng = self.rng
            if relations is None:
                if home["lost_only_child"] or rng.random() >= self.sizing.contact_share:
                    home["children"] = []
                    return []
                relations = [
                    Relation.SON if rng.random() < 0.5 else Relation.DAUGHTER
                    for _ in range(1 if rng.random() < 0.45 else 2)
                ]
            kids = []
            for relation in relations:
                child_sex = Sex.MALE if relation == Relation.SON else Sex.FEMALE
                child_name = names.person_name(rng, child_sex)
                if relation == Relation.SON:
                    child_name = home["surname"] + child_name[1:]
                kids.append(
                    (relation, child_name, names.mobile(rng) if rng.random() < 0.95 else "")
                )
            home["children"] = kids
        return home["children"]

    def consent(self, rid: int, purpose: str, guardian: int | None, withdrawn: bool) -> int:
        rng = self.rng
        cid = self.writer.next_id(self.t_consent)
        given_at = self.ago(rng, 30, 1000)
        withdrawn_at = given_at + datetime.timedelta(days=rng.randint(1, 25)) if withdrawn else None
        self.writer.add(
            self.t_consent,
            (
                cid,
                rid,
                purpose,
                ConsentGiver.GUARDIAN if guardian else ConsentGiver.SELF,
                guardian,
                given_at,
                self.recorder,
                withdrawn_at,
                self.recorder if withdrawn else None,
            ),
        )
        self.counts.add("consents")
        return cid
