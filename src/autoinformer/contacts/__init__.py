"""Contact lists: the model, import with per-row reports, validation, do-not-call lists."""

from autoinformer.contacts.model import Contact

__all__ = ["Contact"]
