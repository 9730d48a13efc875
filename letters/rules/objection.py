"""The debtor's objection (innsigelse) before an enforcement notice.

The enforcement notice (varsel om tvangsfullbyrdelse, tvangsfullbyrdelsesloven § 4-18)
tells the debtor that enforcement will be requested. It may say "we have received no
objection" only when none was received, and it is not sent while an objection stands
unanswered: collection does not go on past a debtor's objection before the objection has
been considered and answered (good collection practice, inkassoloven § 8 first ledd). The
job says which (``objection``): required in an enforcement notice, not allowed in the
other kinds.
"""

from __future__ import annotations

from letters.codes import Code
from letters.job import FieldError, Job, Kind
from letters.rules.fees import refuse

#: Kinds that must say whether the debtor objected (``objection`` in the job).
KINDS_NEEDING_OBJECTION: frozenset[Kind] = frozenset({"enforcement_notice"})
OBJECTION_SOURCE = (
    "tvangsfullbyrdelsesloven § 4-18 (the notice before enforcement is requested) and "
    "inkassoloven § 8 first ledd (good collection practice): collection does not go on past "
    "an objection that has not been answered"
)


def check_objection(job: Job) -> list[FieldError]:
    """Every refusal the job's ``objection`` earns."""
    objection = job.objection
    if job.kind not in KINDS_NEEDING_OBJECTION:
        if objection is None:
            return []
        return [
            refuse(
                Code.NOT_ALLOWED,
                "objection",
                f"only an enforcement notice says whether the debtor objected; a {job.kind} "
                "does not",
            )
        ]
    if objection is None:
        return [
            refuse(
                Code.OBJECTION_REQUIRED,
                "objection",
                f"an {job.kind} says whether the debtor objected: give received (true or "
                "false) and, for an objection, the days it was received and answered "
                f"({OBJECTION_SOURCE})",
            )
        ]
    if not objection.received or objection.received_on is None:
        return []
    found: list[FieldError] = []
    received = objection.received_on
    if received > job.letter_date:
        found.append(
            refuse(
                Code.OBJECTION_AFTER_LETTER,
                "objection.received_on",
                f"{received.isoformat()} is after the letter date {job.letter_date.isoformat()}",
            )
        )
    answered = objection.answered_on
    if answered is None:
        found.append(
            refuse(
                Code.OBJECTION_OPEN,
                "objection.answered_on",
                f"the debtor objected on {received.isoformat()} and the objection has not been "
                "answered: no enforcement notice until it is (give answered_on once it is) "
                f"({OBJECTION_SOURCE})",
            )
        )
    elif answered < received:
        found.append(
            refuse(
                Code.ANSWER_BEFORE_OBJECTION,
                "objection.answered_on",
                f"answered on {answered.isoformat()}, before the objection was received on "
                f"{received.isoformat()}",
            )
        )
    elif answered > job.letter_date:
        found.append(
            refuse(
                Code.OBJECTION_AFTER_LETTER,
                "objection.answered_on",
                f"{answered.isoformat()} is after the letter date {job.letter_date.isoformat()}: "
                "the notice may only say an objection was answered once it has been",
            )
        )
    return found
