"""What a purge leaves of a stored job and of the texts around it (its history, its
delivery attempts): the debtor's name, national id or organisation number, e-mail and
address, and the free text of the claims, replaced by :data:`PURGED`
(:mod:`letters.ledger.retention`)."""

from __future__ import annotations

import copy
from typing import Any

#: What stands where personal data was.
PURGED = "[purged]"


def personal_strings(payload: dict[str, Any]) -> set[str]:
    """The debtor's personal data and the free text in a stored job, to scrub elsewhere.

    >>> sorted(personal_strings({"debtor": {"name": "Kari Nordmann", "email": "k@x.no",
    ...     "address": {"lines": ["Storgata 1"], "postal_code": "0150", "city": "Oslo"}},
    ...     "claims": [{"description": "Strøm", "fees": [{"label": None}]}]}))
    ['Kari Nordmann', 'Storgata 1', 'Strøm', 'k@x.no']
    """
    debtor = payload.get("debtor") or {}
    address = debtor.get("address") or {}
    found = [debtor.get(k) for k in ("name", "national_id", "org_number", "email")]
    found += list(address.get("lines") or ())
    for claim in payload.get("claims") or ():
        found.append(claim.get("description"))
        found += [fee.get("label") for fee in claim.get("fees") or ()]
    # short strings (a postal code, a city) would be scrubbed out of ids and dates too
    return {v for v in found if isinstance(v, str) and len(v.strip()) >= 5}


def redacted(payload: dict[str, Any]) -> dict[str, Any]:
    """The stored job without the debtor's personal data and the free text: what stays is
    the case, the amounts, the dates and the kinds (the fingerprint of the job as sent is
    kept beside it).

    >>> job = {"debtor": {"type": "person", "name": "Kari", "national_id": "01010112345",
    ...     "address": {"lines": ["Storgata 1"], "postal_code": "0150", "city": "Oslo",
    ...     "country": "NO"}, "email": None}, "claims": [{"principal": "100.00",
    ...     "description": "Strøm", "fees": [{"code": "reminder", "label": "Purregebyr"}]}]}
    >>> r = redacted(job)
    >>> r["debtor"]["name"], r["debtor"]["national_id"], r["debtor"]["email"]
    ('[purged]', '[purged]', None)
    >>> r["debtor"]["address"], r["claims"][0]["description"], r["claims"][0]["fees"][0]
    ({'lines': ['[purged]'], 'postal_code': '[purged]', 'city': '[purged]', 'country': 'NO'},\
 '[purged]', {'code': 'reminder', 'label': '[purged]'})
    """
    out = copy.deepcopy(payload)
    debtor = out.get("debtor") or {}
    for key in ("name", "national_id", "org_number", "email"):
        if debtor.get(key) is not None:
            debtor[key] = PURGED
    address = debtor.get("address") or {}
    if address.get("lines"):
        address["lines"] = [PURGED]
    for key in ("postal_code", "city"):
        if address.get(key) is not None:
            address[key] = PURGED
    for claim in out.get("claims") or ():
        if claim.get("description") is not None:
            claim["description"] = PURGED
        for fee in claim.get("fees") or ():
            if fee.get("label") is not None:
                fee["label"] = PURGED
    return out


def scrub(value: Any, strings: set[str]) -> Any:
    """``value`` (text, or JSON) with every one of ``strings`` replaced by :data:`PURGED`.

    >>> scrub({"to": "k@x.no", "n": 2, "why": ["550 <k@x.no> unknown"]}, {"k@x.no"})
    {'to': '[purged]', 'n': 2, 'why': ['550 <[purged]> unknown']}
    """
    if isinstance(value, str):
        for s in sorted(strings, key=len, reverse=True):
            value = value.replace(s, PURGED)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, strings) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, strings) for v in value]
    return value
