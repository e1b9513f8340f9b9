"""The one settings object. Precedence: init kwargs > env `KQA_*` > `.env` > defaults.

Every default runs offline with no setup. Invalid values stop start-up with the
variable's name (see `load_settings`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "KQA_"


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable and the fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(REPO_ROOT / ".kqa", description="Index, feedback and reports live here")
    corpus_dir: Path = Field(REPO_ROOT / "corpus", description="Vetted documents and sources.yaml")
    embedding_model: str = Field(
        "", description="sentence-transformers name or local path; empty = bundled all-MiniLM-L6-v2"
    )
    collection: str = Field("kratom-qa", min_length=3, description="Chroma collection name prefix")
    chroma_host: str | None = Field(
        None,
        validation_alias=AliasChoices("KQA_CHROMA_HOST", "CHROMA_HOST"),
        description="Chroma server host; unset = embedded store under data_dir",
    )
    chroma_port: int = Field(
        8000,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("KQA_CHROMA_PORT", "CHROMA_PORT"),
        description="Chroma server port (with chroma_host)",
    )
    top_k: int = Field(5, ge=1, le=50, description="Passages handed to the composer")
    dense_search: Literal["memory", "chroma"] = Field(
        "memory",
        description="Dense ranking: exact cosine over the vectors loaded from Chroma (memory) or a Chroma query per turn",
    )
    encode_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Query-encoding threads; >1 runs batches side by side on one torch thread each (serve sets it to the core count)",
    )
    relevance_floor: float = Field(
        0.30, ge=0.0, le=1.0, description="Minimum cosine similarity of the best passage to answer"
    )
    answer_words: int = Field(150, ge=40, le=600, description="Approximate length of an answer")
    locale: Literal["US", "UK"] = Field("US", description="Emergency numbers and wording")
    policy_path: Path = Field(
        REPO_ROOT / "guardrails" / "policy.yaml", description="Guardrail policy file (YAML)"
    )
    host: str = Field("127.0.0.1", description="Address `serve` listens on")
    port: int = Field(7860, ge=1, le=65535, description="Port `serve` listens on")
    concurrency: int = Field(16, ge=1, le=256, description="Chat turns Gradio runs at once")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Sites allowed to embed the chat (CSP frame-ancestors) and call the API (CORS)",
    )
    rate_limit_per_minute: int = Field(
        120, ge=0, description="POST requests (API and web chat) per client per minute; 0 = no limit"
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Proxy addresses whose X-Forwarded-For names the client (rate limits); empty = trust none",
    )
    queue_max_size: int = Field(
        64, ge=1, le=10000, description="Web-chat events waiting in Gradio's queue before new ones get 503"
    )
    session_idle_minutes: int = Field(
        15, ge=1, description="A web-chat session's values are forgotten after this long idle"
    )
    feedback_max_bytes: int = Field(
        10 * 1024 * 1024,
        ge=4096,
        description="feedback.jsonl is rotated to feedback.jsonl.1 beyond this size",
    )
    request_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=300,
        description="A request whose head or body is not all sent within this long is dropped (408 or closed)",
    )
    max_message_chars: int = Field(2000, ge=50, description="Longest accepted user message")
    max_turns: int = Field(40, ge=1, description="Most messages accepted in one conversation")
    review_max_age_days: int = Field(
        365, ge=1, description="`corpus audit` flags documents reviewed longer ago than this"
    )
    log_conversation_text: bool = Field(
        False, description="Off: logs hold routes, timings and document ids only"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level")

    @field_validator("locale", "log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value  # KQA_LOCALE=uk is UK

    @field_validator("allowed_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.replace(",", " ").split() if v.strip()]
        return value

    @property
    def uses_server(self) -> bool:
        return bool(self.chroma_host)


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one clear message per variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # pydantic validates each value
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "?"
            var = ENV_PREFIX + name.upper() if not name.startswith(ENV_PREFIX) else name
            lines.append(f"{var}={err.get('input')!r}: {err['msg']}")
        names = ", ".join(line.split("=", 1)[0] for line in lines)
        raise SettingsError(
            "Invalid settings:\n  "
            + "\n  ".join(lines)
            + f"\nHint: fix or unset {names} (in the environment or .env); the README's Configuration table lists every setting."
        ) from None


# KQA_* names read by the project's tooling, not settings (tests/test_harness.py, examples/, bench/).
TOOL_VARIABLES = frozenset({"KQA_HARNESS", "KQA_URL", "KQA_BENCH_LOGS"})


def unknown_variables(environ: dict[str, str]) -> list[str]:
    """A warning per `KQA_*` variable that is no setting (a typo is otherwise ignored in silence)."""
    import difflib

    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields} | TOOL_VARIABLES
    out = []
    for name in sorted(n for n in environ if n.upper().startswith(ENV_PREFIX) and n.upper() not in known):
        guess = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.6)
        out.append(
            f"{name} is not a kratom-qa setting and is ignored"
            + (f"; did you mean {guess[0]}?" if guess else "")
        )
    return out


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
