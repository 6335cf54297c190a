"""Who opens the manager's integrity archive: the manager, the head and inspector over them, the
committee; not an administrator, not a colleague elsewhere (404: existence does not leak)."""

from tests.access.matrix import Case

OPENS = {"manager": 200, "head": 200, "inspector": 200, "committee": 200}

CASES = [
    Case(
        "GET",
        "/api/dossier/{person_id:int}",
        lambda i: f"/api/dossier/{i.person['manager']}",
        OPENS,
        default=404,
    ),
    Case(
        "GET",
        "/api/dossier/{person_id:int}/pdf",
        lambda i: f"/api/dossier/{i.person['manager']}/pdf",
        OPENS,
        default=404,
    ),
]
