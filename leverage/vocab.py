"""The enumerations of the event format (DESIGN section 3).

Kept free of heavy imports: the command line builds its option choices from them.
"""

from __future__ import annotations

PARTY_KINDS = (
    "self", "client", "partner", "supplier", "customer", "user-group", "government",
    "civil-society", "other",
)
RELATIONSHIP_TYPES = (
    "hosts", "serves", "supplies", "partners-with", "resells", "invests-in", "owns",
    "advertises-on", "other",
)
RIGHTS = (
    "life", "security-of-person", "expression", "assembly", "privacy", "non-discrimination",
    "participation", "labour", "health", "other",
)
INVOLVEMENTS = ("cause", "contribute", "linked")
IMPACT_STATUSES = ("potential", "actual")
OUTCOMES = ("improved", "no-change", "worsened", "remediated")
ASSESSMENT_KINDS = ("termination-impact", "stakeholder", "expert", "rabat", "leverage")
ASSESSMENT_CONCLUSIONS: dict[str, tuple[str, ...]] = {
    "termination-impact": ("exit-acceptable", "exit-more-severe"),
    "leverage": ("promising", "not-promising"),
    "rabat": ("incitement", "below-threshold"),
}
DECISIONS = ("continue", "suspend", "terminate", "reinstate", "close")
LEVELS = ("low", "moderate", "high", "critical")
GRIEVANCE_KINDS = ("complaint", "appeal", "concern")
GRIEVANCE_OUTCOMES = ("upheld", "partly-upheld", "not-upheld", "withdrawn")
