"""The enforcement actions of a trust-and-safety log and what each becomes in the ledger.

This table is the contract of ``docs/tos.md`` ("Mapping"): five actions are leverage steps of
the core's ladder, three are decisions.
"""

from __future__ import annotations

#: action -> (event type, step kind or decision)
ACTIONS: dict[str, tuple[str, str]] = {
    "warning": ("step.taken", "tos-warning"),
    "label": ("step.taken", "warning-label"),
    "downrank": ("step.taken", "reduced-distribution"),
    "remove": ("step.taken", "content-removal"),
    "restrict": ("step.taken", "feature-restriction"),
    "suspend": ("decision.made", "suspend"),
    "ban": ("decision.made", "terminate"),
    "reinstate": ("decision.made", "reinstate"),
}

#: every action but these is a strike against the account
NOT_STRIKES = frozenset({"warning", "reinstate"})

#: how strong a measure each action puts in force (strike recommendations compare with it)
RANKS: dict[str, int] = {
    "warning": 0, "label": 1, "downrank": 1, "remove": 1, "restrict": 2, "suspend": 3, "ban": 4,
    "reinstate": 0,
}

#: the measures a strike threshold can recommend, with their rank
RECOMMENDATIONS: dict[str, int] = {"restrict": 2, "suspend": 3}

#: what each action changes for the account (a rules file's ``[effects]`` may reword them)
EFFECTS: dict[str, str] = {
    "warning": "Nothing is restricted yet: this is a formal warning that the content or conduct "
               "breaks the rule. A further breach may lead to stronger measures.",
    "label": "The content stays available, with a warning label shown to everyone who sees it.",
    "downrank": "The content stays available but is shown to fewer people (reduced distribution "
                "in feeds, search and recommendations).",
    "remove": "The content is removed and is no longer available on the service.",
    "restrict": "Some features of the account are restricted (for example posting, live "
                "streaming or advertising); the rest of the service continues.",
    "suspend": "The account is suspended: the service is not available to it until it is "
               "reinstated.",
    "ban": "The account is terminated: the service ends for it and the business relationship "
           "under the terms of service ends.",
    "reinstate": "The account is reinstated: the suspension is lifted and the service is "
                 "available again.",
}

DETECTION = ("automated", "human")
