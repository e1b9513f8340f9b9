"""kratom-qa: answers questions about kratom only from a vetted, cited corpus.

Importing this package loads nothing heavy; see `bot.services.Services` for the models.
"""

__version__ = "0.1.0"
