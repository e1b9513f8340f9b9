"""The README's module map matches the code: every module is named there, and every module it
names exists (a renamed or split module fails here, not in a reader's hands)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
GUARDRAILS_README = (ROOT / "guardrails" / "README.md").read_text(encoding="utf-8")


def modules(package: str) -> list[str]:
    return sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py" and p.name != "__main__.py" and "__pycache__" not in p.parts
    )


def in_readme(module: str) -> bool:
    """Named by its path, or (inside a sub-package such as bot/eval/) by the package's path and its
    file name."""
    if module in README:
        return True
    package, _, name = module.rpartition("/")
    return package.count("/") >= 1 and f"{package}/" in README and f"`{name}`" in README


def test_every_bot_module_is_in_the_readme_module_map():
    missing = [m for m in modules("bot") if not in_readme(m)]
    assert not missing, f"README.md does not name: {missing}"


def test_every_guardrails_module_is_in_its_readme():
    def named(path: str) -> bool:
        rel = path.removeprefix("guardrails/")
        folder = rel.split("/")[0] + "/" if "/" in rel else None
        return (
            f"`{rel}`" in GUARDRAILS_README
            or rel in GUARDRAILS_README
            or (folder is not None and f"`{folder}`" in GUARDRAILS_README)
        )

    missing = [m for m in modules("guardrails") if not named(m)]
    assert not missing, f"guardrails/README.md does not name: {missing}"


def test_every_module_the_readme_names_exists():
    named = set(re.findall(r"\b((?:bot|guardrails|bench)/[\w/]+\.py)\b", README + GUARDRAILS_README))
    gone = sorted(n for n in named if not (ROOT / n).exists())
    assert not gone, f"the README names modules that do not exist: {gone}"
