"""Contact lists: the model, import with per-row reports, validation, do-not-call lists.

``read_contacts`` streams a CSV / TSV / XLSX list as :class:`RowResult` (a :class:`Contact` or
the row's problems); ``check_contacts`` gathers an :class:`ImportReport`; ``write_template``
writes the XLSX a user fills in; :class:`DoNotCallList` is checked at dial time.
"""

from autoinformer.contacts.dnc import DoNotCallList
from autoinformer.contacts.importer import check_contacts, read_contacts
from autoinformer.contacts.model import Contact
from autoinformer.contacts.phones import PhoneNormalizer, PhoneNumberError, normalize_phone
from autoinformer.contacts.report import ImportReport
from autoinformer.contacts.rows import RowProblem, RowResult, RowStatus
from autoinformer.contacts.template import write_template

__all__ = [
    "Contact",
    "DoNotCallList",
    "ImportReport",
    "PhoneNormalizer",
    "PhoneNumberError",
    "RowProblem",
    "RowResult",
    "RowStatus",
    "check_contacts",
    "normalize_phone",
    "read_contacts",
    "write_template",
]
