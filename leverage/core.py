"""The core's own hook implementations: registered directly, so they cannot be switched off.

The core's step kinds, policy profiles and schemas go through the same registries that
plugins use, so a plugin that registers a name the core owns gets the same error as two
plugins that clash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .hookspecs import hookimpl
from .resources import policies_dir, schema_path

#: The step kinds of DESIGN section 4, by rung.
CORE_STEP_KINDS: dict[str, dict[str, str]] = {
    "engage": {
        "dialogue": "Talk with the partner about the harm and what must change",
        "information-request": "Ask the partner for information on the harm and its response",
        "capacity-building": "Help the partner build the ability to change (training, tools)",
        "incentive": "Offer a commercial incentive for the change",
    },
    "notice": {
        "formal-notice": "A formal written notice naming the harm and the expected change",
        "code-of-conduct-notice": "A notice citing the breached clause of the code of conduct",
        "tos-warning": "A warning under the terms of service",
        "contractual-assurance": "Ask for a contractual assurance of compliance",
    },
    "enforce": {
        "warning-label": "Label the partner's content or listing with a warning",
        "reduced-distribution": "Reduce the reach or distribution of the partner's content",
        "content-removal": "Remove content that breaches the rules",
        "feature-restriction": "Restrict features of the partner's account",
        "corrective-action-plan": "Agree a corrective action plan with a timeline",
        "enhanced-action-plan": "An enhanced action plan, the last step before suspension",
        "withhold-business": "Withhold new business until the change is made",
        "contractual-remedy": "Invoke a contractual remedy",
    },
    "collective": {
        "peer-collaboration": "Act together with business peers who have leverage too",
        "industry-initiative": "Act through an industry initiative",
        "multi-stakeholder": "Act through a multi-stakeholder initiative",
    },
}

BUNDLED_POLICIES = ("ungp", "csddd", "lksg")
#: The schemas of the formats the core reads and writes (plugins register their own).
CORE_SCHEMAS = ("event", "policy", "transparency-report")


@hookimpl
def register_step_kinds(register: Callable[[str, str, str], None]) -> None:
    for rung, kinds in CORE_STEP_KINDS.items():
        for kind, description in kinds.items():
            register(kind, rung, description)


@hookimpl
def register_policies(register: Callable[[str, Any], None]) -> None:
    base = policies_dir()
    for name in BUNDLED_POLICIES:
        path = base / f"{name}.toml"
        if path.is_file():
            register(name, path)


@hookimpl
def register_schemas(register: Callable[[str, Any], None]) -> None:
    for name in CORE_SCHEMAS:
        register(name, schema_path(name))


@hookimpl
def register_checks(register: Callable[[Callable[..., Any]], None]) -> None:
    # grievance-unacknowledged, grievance-overdue and appeal-upheld on the linked impact's status
    # (leverage.ledger imports leverage.grievances, so every ledger knows its event types)
    from . import grievances

    register(grievances.check)


@hookimpl
def register_commands(cli: Any) -> None:
    from .cli import graph_cmds, grievance_cmds, groups, ledger_cmds, records, report_cmds, status_cmds

    for command in [*ledger_cmds.COMMANDS, *records.COMMANDS, *status_cmds.COMMANDS,
                    *graph_cmds.COMMANDS, *groups.COMMANDS, *grievance_cmds.COMMANDS,
                    *report_cmds.COMMANDS]:
        cli.add_command(command)
