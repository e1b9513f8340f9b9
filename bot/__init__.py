"""kratom-qa: answers questions about kratom only from a vetted, cited corpus.

Importing this package loads nothing heavy; see `bot.services.Services` for the models. It does
set the offline environment first (`bot.offline`), so every `bot.*` module sees it whatever its
import order.
"""

import bot.offline  # noqa: F401

__version__ = "0.1.0"
