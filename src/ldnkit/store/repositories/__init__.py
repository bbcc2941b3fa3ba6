"""Repository functions: each takes a `Session` opened by the shell and never commits.

The caller owns the transaction (`with Session(engine) as s, s.begin(): ...`), so a change and
its audit event commit together or not at all. `actor` is a short code such as `user:12` or
`cli`, recorded in the audit log.
"""

from ldnkit.store.repositories import audit, cds, diary, overrides, people, records, throttle, users
from ldnkit.store.repositories.diary import (
    ConcurrentCorrection,
    ImportResult,
    add_diary_entries,
    add_diary_entry,
    current_diary,
    current_entries,
    entry_history,
    to_diary_entry,
)
from ldnkit.store.repositories.overrides import (
    add_dose_override,
    core_overrides,
    list_dose_overrides,
)
from ldnkit.store.repositories.people import (
    create_clinician,
    create_patient,
    get_clinician,
    get_patient,
    list_clinicians,
    list_patients,
    update_patient_profile,
)
from ldnkit.store.repositories.records import (
    current_plan,
    get_plan_version,
    list_advice,
    list_assessments,
    plan_versions,
    save_advice,
    save_assessment,
    save_plan,
)
from ldnkit.store.repositories.users import (
    authenticate,
    create_user,
    get_user,
    get_user_by_username,
    hash_password,
    list_users,
    set_active,
    set_password,
)

__all__ = [
    "ConcurrentCorrection",
    "ImportResult",
    "add_diary_entries",
    "add_diary_entry",
    "add_dose_override",
    "audit",
    "authenticate",
    "cds",
    "core_overrides",
    "create_clinician",
    "create_patient",
    "create_user",
    "current_diary",
    "current_entries",
    "current_plan",
    "diary",
    "entry_history",
    "get_clinician",
    "get_patient",
    "get_plan_version",
    "get_user",
    "get_user_by_username",
    "hash_password",
    "list_advice",
    "list_assessments",
    "list_clinicians",
    "list_dose_overrides",
    "list_patients",
    "list_users",
    "overrides",
    "people",
    "plan_versions",
    "records",
    "save_advice",
    "save_assessment",
    "save_plan",
    "set_active",
    "set_password",
    "throttle",
    "to_diary_entry",
    "update_patient_profile",
    "users",
]
