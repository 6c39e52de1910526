"""The documentation never drifts from the code."""

from __future__ import annotations

from pathlib import Path

from leverage.cli.reference import cli_reference

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_is_up_to_date():
    # Regenerate with: python -m leverage.cli.reference > docs/cli.md
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == cli_reference()


def test_readme_names_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install . && " in readme
    assert "pip install -e '.[test]' && python -m pytest" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pip install -e '.[test]' && python -m pytest" in ci


def test_every_docs_link_in_the_readme_exists():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    import re

    for target in re.findall(r"\]\((docs/[^)]+|examples/[^)]+)\)", readme):
        assert (ROOT / target).exists(), target
