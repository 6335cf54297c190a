"""Approvals: ordered sign-off steps of a form, each by a given role over a given unit, in the trail."""
