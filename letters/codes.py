"""Stable codes for every refusal, rule violation, print-safety finding and channel error.

Upstream systems, compliance and dashboards key on these codes; the human sentence beside
each one may be reworded freely, the code never. A code is kebab-case and, once released,
keeps its meaning: a new situation gets a new code. The README lists them all (a test keeps
the two in step); ``letters codes`` prints this catalogue.

>>> Code.FEE_OVER_CAP, Code.FEE_OVER_CAP.family
(<Code.FEE_OVER_CAP: 'fee-over-cap'>, 'rule')
>>> str(Code.WINDOW_NOT_ADDRESS_ONLY)
'window-not-address-only'
"""

from __future__ import annotations

from enum import StrEnum

#: What each family covers, in the order the README lists them.
FAMILIES = {
    "contract": "the job's shape: a field missing, of the wrong type or format, or a number "
    "with a wrong check digit (HTTP 422, CLI exit 2)",
    "rule": "the law or the agency's rules (letters/rules/) refuse the job (HTTP 422, CLI exit 2)",
    "intake": "the job is well formed but cannot be taken now (HTTP 409/422)",
    "request": "the request or file around the jobs (HTTP status, CLI exit 2)",
    "print": "the rendered letter fails the print-safety check (the job fails; CLI exit 1)",
    "render": "the letter could not be made from its template",
    "route": "why routing skipped a channel for a letter (recorded in the job's history)",
    "channel": "a delivery channel refused or failed a letter (recorded with the attempt)",
    "handoff": "a closed print batch could not be handed to the vendor",
    "review": "the compliance workbench: approvals, four eyes, sign-in (CLI exit 2, HTTP 4xx)",
    "lint": "a template lacks what the law or the agency requires, or has what it forbids",
    "worker": "the worker processes of `letters worker` (in its log; it exits 1)",
    "storage": "the ledger's database or a folder the service writes is unavailable or full: "
    "the work waits and goes on by itself once it is back (never a failed job; HTTP 503)",
}


class Code(StrEnum):
    """One stable code: its value (the kebab-case code), its family and what it means."""

    family: str
    meaning: str

    def __new__(cls, value: str, family: str, meaning: str) -> Code:
        member = str.__new__(cls, value)
        member._value_ = value
        member.family = family
        member.meaning = meaning
        return member

    # --- the job contract ---------------------------------------------------------------
    NOT_JSON = ("not-json", "contract", "the job is not valid JSON (or not UTF-8)")
    NOT_AN_OBJECT = ("not-an-object", "contract", "the job (or a part of it) is not an object")
    REQUIRED = ("required", "contract", "a required field is missing")
    UNKNOWN_FIELD = ("unknown-field", "contract", "a field the contract does not know")
    WRONG_TYPE = ("wrong-type", "contract", "a value of the wrong type (text, list, true/false)")
    BAD_FORMAT = ("bad-format", "contract", "text that does not have the required form")
    TOO_SHORT = ("too-short", "contract", "text or a list shorter than the contract allows")
    TOO_LONG = ("too-long", "contract", "text or a list longer than the contract allows")
    NOT_ALLOWED = ("not-allowed", "contract", "a value that is not one of the allowed ones")
    BAD_DATE = ("bad-date", "contract", "not an ISO date (YYYY-MM-DD)")
    BAD_AMOUNT = ("bad-amount", "contract", 'not an amount in NOK as a decimal string ("1250.00")')
    NOT_POSITIVE = ("not-positive", "contract", "an amount that must be more than 0")
    BAD_EMAIL = ("bad-email", "contract", "not a usable e-mail address")
    BAD_COUNTRY = ("bad-country", "contract", "not an ISO 3166 alpha-2 country code")
    BAD_POSTAL_CODE = ("bad-postal-code", "contract", "a postal code that cannot be right")
    BAD_ORG_NUMBER = ("bad-org-number", "contract", "not a valid organisation number")
    BAD_NATIONAL_ID = ("bad-national-id", "contract", "not a valid national id number")
    BAD_ACCOUNT = ("bad-account", "contract", "not a valid Norwegian account number")
    BAD_KID = ("bad-kid", "contract", "not a valid KID for its scheme")
    BAD_REFERENCE = ("bad-reference", "contract", "not a valid case reference")
    ID_MISMATCH = (
        "id-mismatch",
        "contract",
        "a person with an organisation number or a company with a national id",
    )
    DUE_BEFORE_INVOICE = ("due-before-invoice", "contract", "a claim due before its invoice date")
    DUPLICATE_CHANNEL = ("duplicate-channel", "contract", "a channel named twice")
    DUPLICATE_KID = ("duplicate-kid", "contract", "a KID used twice in one letter")
    UNPRINTABLE = (
        "unprintable",
        "contract",
        "printed text with a character the letter fonts cannot draw, or an invisible one",
    )
    WORD_TOO_WIDE = (
        "word-too-wide",
        "contract",
        "a printed word wider than its place on the letter (the creditor's name in the "
        "heading, an invoice number, a description or fee label in the claims table)",
    )
    MIXED_SCRIPT = (
        "mixed-script",
        "contract",
        "a printed word mixing Latin, Greek and Cyrillic letters (a look-alike of another name)",
    )
    NAME_DOES_NOT_FIT = (
        "name-does-not-fit",
        "contract",
        "a name the envelope window cannot show at 10 pt, even broken over lines",
    )
    ADDRESS_DOES_NOT_FIT = (
        "address-does-not-fit",
        "contract",
        "an address line, postal code and place or country the envelope window cannot show",
    )
    INVALID = ("invalid", "contract", "a value the contract refuses for another reason")

    # --- the rules ------------------------------------------------------------------------
    RULE_UNKNOWN = (
        "rule-unknown",
        "rule",
        "a dated rule table (inkassosats, interest, fee scale) has no value for the day",
    )
    RULE_UNCONFIRMED = (
        "rule-unconfirmed",
        "rule",
        "the letter would state or rely on a rule value its table marks unconfirmed; "
        "compliance confirms it first (letters rules confirm)",
    )
    LETTER_DATE_PAST = (
        "letter-date-past",
        "rule",
        "the letter date is before today: the debtor would get less time than it states",
    )
    LETTER_DATE_FUTURE = (
        "letter-date-future",
        "rule",
        "the letter date is after today: the rules were checked for another day",
    )
    DEADLINE_TOO_SHORT = (
        "deadline-too-short",
        "rule",
        "the due date gives less than the 14 days the law requires",
    )
    CLAIM_NOT_OVERDUE = ("claim-not-overdue", "rule", "a claim not yet due on the letter date")
    DUPLICATE_INVOICE = ("duplicate-invoice", "rule", "the same invoice twice in one letter")
    DESCRIPTION_REQUIRED = (
        "description-required",
        "rule",
        "the letter must say what the claim concerns",
    )
    INTEREST_START = (
        "interest-start",
        "rule",
        "interest runs from before the due date or after the letter date",
    )
    INTEREST_OVER_CAP = (
        "interest-over-cap",
        "rule",
        "more interest than the late-payment rate can have earned",
    )
    NOTICE_REQUIRED = (
        "notice-required",
        "rule",
        "a payment request for a claim without the collection notice it follows",
    )
    NOTICE_DEADLINE_NOT_PASSED = (
        "notice-deadline-not-passed",
        "rule",
        "a payment request (or an enforcement notice) before the collection notice's deadline "
        "has run out",
    )
    OBJECTION_REQUIRED = (
        "objection-required",
        "rule",
        "an enforcement notice without whether the debtor objected (`objection`)",
    )
    OBJECTION_OPEN = (
        "objection-open",
        "rule",
        "an enforcement notice while the debtor's objection has not been answered",
    )
    ANSWER_BEFORE_OBJECTION = (
        "answer-before-objection",
        "rule",
        "an objection answered before the day it was received",
    )
    OBJECTION_AFTER_LETTER = (
        "objection-after-letter",
        "rule",
        "an objection received or answered after the letter date",
    )
    PLAN_REQUIRED = ("plan-required", "rule", "a payment-plan letter without its plan")
    PLAN_TOO_MANY_INSTALMENTS = ("plan-too-many-instalments", "rule", "more than 4 instalments")
    PLAN_SUM_MISMATCH = ("plan-sum-mismatch", "rule", "instalments not adding up to the total")
    PLAN_AGREED_AFTER_LETTER = (
        "plan-agreed-after-letter",
        "rule",
        "a plan agreed after its letter",
    )
    PLAN_FIRST_DUE_TOO_LATE = ("plan-first-due-too-late", "rule", "a first instalment too late")
    PLAN_DUE_BEFORE_LETTER = (
        "plan-due-before-letter",
        "rule",
        "an instalment due before the letter",
    )
    PLAN_DATES_NOT_INCREASING = ("plan-dates-not-increasing", "rule", "instalments out of order")
    PLAN_DUE_NOT_BUSINESS_DAY = ("plan-due-not-business-day", "rule", "an instalment on a holiday")
    FEE_UNKNOWN = ("fee-unknown", "rule", "a fee code the rules do not know")
    FEE_AFTER_LETTER = ("fee-after-letter", "rule", "a fee charged after the letter date")
    FEE_NOT_FOR_KIND = ("fee-not-for-kind", "rule", "a fee this kind of letter may not charge")
    FEE_OVER_CAP = ("fee-over-cap", "rule", "a fee above its legal cap on the day it is charged")
    FEE_TOO_EARLY = (
        "fee-too-early",
        "rule",
        "a fee charged less than 14 days after the claim's due date",
    )
    FEE_TOO_MANY = ("fee-too-many", "rule", "more fees of one kind on a claim than allowed")
    FEES_TOO_CLOSE = ("fees-too-close", "rule", "two fees less than 14 days apart")
    FEE_BEFORE_DEADLINE = (
        "fee-before-deadline",
        "rule",
        "a fee charged before the deadline of the letter that charged the fee before it ran out",
    )
    FEE_TWICE_FOR_PAYMENT_REQUEST = (
        "fee-twice-for-payment-request",
        "rule",
        "a creditor's payment request fee and a collection fee on one claim",
    )

    # --- intake ---------------------------------------------------------------------------
    JOB_CONFLICT = (
        "job-conflict",
        "intake",
        "a job id already accepted with other content (HTTP 409)",
    )
    BAD_FILE_LINE = ("bad-line", "intake", "a line of a JSONL or CSV file that is not a job")
    NO_IBAN_FOR_ACCOUNT = (
        "no-iban-for-account",
        "intake",
        "a debtor abroad, and no IBAN and BIC configured for the letter's payment account",
    )

    # --- the request or file around the jobs ------------------------------------------------
    FILE_UNREADABLE = ("file-unreadable", "request", "a file that cannot be read")
    NOT_UTF8 = ("not-utf8", "request", "a file or body that is not UTF-8 text")
    NUL_CHARACTER = ("nul-character", "request", "a NUL character, which no field may hold")
    TOO_DEEP = ("too-deep", "request", "JSON nested more deeply than any job is")
    NUMBER_TOO_LONG = (
        "number-too-long",
        "request",
        "a JSON number with more digits than any value of the contract (amounts are text)",
    )
    BODY_TOO_LARGE = ("body-too-large", "request", "a body or batch larger than allowed (413)")
    UNSUPPORTED_MEDIA_TYPE = (
        "unsupported-media-type",
        "request",
        "a body whose Content-Type is not JSON (415)",
    )
    NOT_A_JOB_OR_BATCH = (
        "not-a-job-or-batch",
        "request",
        "a body that is neither one job (an object) nor a batch (an array)",
    )
    UNAUTHORIZED = (
        "unauthorized",
        "request",
        "no bearer token, or an unknown or revoked one (401)",
    )
    FORBIDDEN = ("forbidden", "request", "the token lacks the scope the call needs (403)")
    NOT_FOUND = ("not-found", "request", "no such job, letter or page (404)")
    METHOD_NOT_ALLOWED = (
        "method-not-allowed",
        "request",
        "the path does not take this method; the Allow header lists those it takes (405)",
    )
    BAD_REQUEST = ("bad-request", "request", "a request the service cannot take otherwise")
    ARCHIVE_UNREADABLE = (
        "archive-unreadable",
        "request",
        "the archived letter cannot be read now (503; try again)",
    )
    LETTER_PURGED = (
        "letter-purged",
        "request",
        "the letter's case was closed longer than the retention period: its PDF was purged; "
        "its hashes and history are kept (410)",
    )
    LOGIN_THROTTLED = (
        "login-throttled",
        "request",
        "too many failed logins from this source: try again after Retry-After seconds (429)",
    )
    INTAKE_QUEUE_FULL = (
        "intake-queue-full",
        "request",
        "the workers owe more jobs than LETTERS_INTAKE__MAX_QUEUE: nothing was stored; send "
        "it again after Retry-After seconds (429)",
    )

    # --- rendering ------------------------------------------------------------------------
    TEMPLATE_MISSING = ("template-missing", "render", "no template for the kind and language")
    TEMPLATE_ERROR = ("template-error", "render", "the template failed while filling it in")
    OUTSIDE_SUBSET = (
        "outside-subset",
        "render",
        "HTML or CSS outside the subset both renderers lay out alike",
    )
    LAYOUT_FAILED = ("layout-failed", "render", "the renderer could not lay the letter out")
    RENDERER_UNKNOWN = (
        "renderer-unknown",
        "render",
        "the template's manifest entry names a renderer that does not exist",
    )
    RENDER_DEFECT = (
        "render-defect",
        "render",
        "an unexpected error while making the letter: a defect, to report with the job",
    )

    # --- the print-safety check -----------------------------------------------------------
    PDF_ENCRYPTED = ("pdf-encrypted", "print", "the PDF is encrypted")
    TOO_MANY_PAGES = ("too-many-pages", "print", "more pages than allowed (Digipost: 20)")
    NOT_A4 = ("not-a4", "print", "a page that is not A4 portrait")
    FONT_NOT_EMBEDDED = ("font-not-embedded", "print", "a font the PDF does not embed")
    TEXT_AT_EDGE = (
        "text-at-edge",
        "print",
        "text off the page or within 5 mm of its edge, where printers do not print",
    )
    DIGIPOST_ZONE_NOT_EMPTY = (
        "digipost-zone-not-empty",
        "print",
        "something in Digipost's left-margin zone (x 0–15 mm, y 95–175 mm)",
    )
    WINDOW_GRAPHICS = ("window-graphics", "print", "graphics in the envelope window")
    WINDOW_TEXT_CROSSES_EDGE = (
        "window-text-crosses-edge",
        "print",
        "text that crosses the edge of the envelope window",
    )
    WINDOW_NOT_ADDRESS_ONLY = (
        "window-not-address-only",
        "print",
        "the envelope window shows something other than exactly the address",
    )
    PDF_UNREADABLE = ("pdf-unreadable", "print", "the file is not a PDF that can be read")

    # --- routing --------------------------------------------------------------------------
    ROUTE_NOT_FOR_KIND = ("route-not-for-kind", "route", "the kind may not go by this channel")
    ROUTE_NO_CONSENT = ("route-no-consent", "route", "the debtor has not consented to it")
    ROUTE_NO_ADDRESS = ("route-no-address", "route", "no address or id for this channel")
    ROUTE_NOT_CONFIGURED = ("route-not-configured", "route", "the channel is not configured")
    ROUTE_NO_CHANNEL = ("route-no-channel", "route", "no channel is left for the letter")

    # --- channels ---------------------------------------------------------------------------
    CHANNEL_TIMEOUT = ("channel-timeout", "channel", "the channel's server did not answer in time")
    CHANNEL_CONNECTION = ("channel-connection", "channel", "the channel's server is unreachable")
    CHANNEL_CONFIG = ("channel-config", "channel", "the channel's settings cannot work")
    CHANNEL_BREAKER_OPEN = (
        "channel-breaker-open",
        "channel",
        "not tried: the channel failed too often in a row and its breaker is open; the letter "
        "waits (a try of LETTERS_CHANNEL_ATTEMPTS) and is tried again later",
    )
    DELIVERY_UNCERTAIN = (
        "delivery-uncertain",
        "channel",
        "a channel that cannot be asked (e-mail) may have the letter: not sent again; the job "
        "is uncertain until an operator decides (letters resolve)",
    )
    DELIVERY_INTERRUPTED = (
        "delivery-interrupted",
        "channel",
        "a try was cut off mid-send (the worker stopped); the channel reconciles on the next",
    )
    DIGIPOST_NOT_A_USER = (
        "digipost-not-a-user",
        "channel",
        "the debtor has no Digipost mailbox (the letter moves on)",
    )
    DIGIPOST_INVALID_RECIPIENT = (
        "digipost-invalid-recipient",
        "channel",
        "Digipost refuses the recipient's id",
    )
    DIGIPOST_REFUSED = (
        "digipost-refused",
        "channel",
        "Digipost refuses the message for good (its error code is in the reason)",
    )
    DIGIPOST_UNAVAILABLE = (
        "digipost-unavailable",
        "channel",
        "Digipost answers with a server error or is down (tried again)",
    )
    DIGIPOST_UNCERTAIN = (
        "digipost-uncertain",
        "channel",
        "Digipost may have taken the letter; reconciled, never sent elsewhere",
    )
    DIGIPOST_BAD_ANSWER = (
        "digipost-bad-answer",
        "channel",
        "an answer from Digipost failed signature, date or hash verification",
    )
    DIGIPOST_INVALID_MESSAGE = (
        "digipost-invalid-message",
        "channel",
        "the letter cannot be a valid Digipost message (subject, print address or payment)",
    )
    EMAIL_NO_ADDRESS = ("email-no-address", "channel", "the debtor has no e-mail address")
    EMAIL_HEADER_UNSAFE = (
        "email-header-unsafe",
        "channel",
        "a header value that would be unsafe in an e-mail",
    )
    EMAIL_REFUSED = ("email-refused", "channel", "the SMTP server refuses the message for good")
    EMAIL_DEFERRED = ("email-deferred", "channel", "the SMTP server defers it (tried again)")
    EMAIL_UNCERTAIN = (
        "email-uncertain",
        "channel",
        "the connection broke while the message was handed over: the server may have it",
    )
    PRINT_NO_ADDRESS = ("print-no-address", "channel", "a letter for print without an address")
    PRINT_UNSAFE = (
        "print-unsafe",
        "channel",
        "a letter the print-safety check refuses cannot join a print batch",
    )
    PRINT_BATCH_BUSY = (
        "print-batch-busy",
        "channel",
        "the open print batch cannot take the letter now: being closed, or the ledger busy or "
        "away (tried again)",
    )

    # --- hand-off to the print vendor -----------------------------------------------------
    HANDOFF_UNAVAILABLE = ("handoff-unavailable", "handoff", "the drop folder is not there")
    HANDOFF_IO = ("handoff-io", "handoff", "a file could not be read or written")
    HANDOFF_CONFLICT = (
        "handoff-conflict",
        "handoff",
        "the vendor already has a different batch of that name",
    )
    HANDOFF_AUTH = ("handoff-auth", "handoff", "the SFTP server refuses our credentials")
    HANDOFF_HOST_KEY = (
        "handoff-host-key",
        "handoff",
        "the SFTP server's host key is not the pinned one",
    )
    HANDOFF_TRANSFER = ("handoff-transfer", "handoff", "an upload failed midway (tried again)")
    HANDOFF_VERIFY = (
        "handoff-verify",
        "handoff",
        "the vendor's copy does not hold exactly the batch's files",
    )
    HANDOFF_REMOTE_DIR = (
        "handoff-remote-dir",
        "handoff",
        "the vendor's inbox folder is missing or not a folder",
    )
    HANDOFF_CONNECTION = (
        "handoff-connection",
        "handoff",
        "the SFTP server is unreachable or the SSH connection failed (tried again)",
    )
    HANDOFF_CONFIG = (
        "handoff-config",
        "handoff",
        "the hand-off's settings cannot work (key file, known_hosts, no common algorithm)",
    )
    HANDOFF_PERMISSION = (
        "handoff-permission",
        "handoff",
        "the SFTP server denies us access in the vendor's inbox folder",
    )
    HANDOFF_REMOTE_ENTRY = (
        "handoff-remote-entry",
        "handoff",
        "the vendor's copy of the batch holds something that is not a file of ours",
    )

    # --- the compliance workbench -----------------------------------------------------------
    TEMPLATE_NOT_APPROVED = (
        "template-not-approved",
        "review",
        "no approved version of the letter's template is in force on its date",
    )
    OWN_VERSION = (
        "own-version",
        "review",
        "an author cannot approve or reject their own version (four eyes)",
    )
    STALE_HASH = (
        "stale-hash",
        "review",
        "the version's content is not the one the reviewer saw (its sha256 differs)",
    )
    NOT_A_DRAFT = ("not-a-draft", "review", "only a draft can be approved or rejected")
    ROLE_LACKS_RIGHT = ("role-lacks-right", "review", "the user's role does not allow it")
    UNKNOWN_VERSION = ("unknown-version", "review", "no such version")
    UNKNOWN_SUBJECT = ("unknown-subject", "review", "no such template or rule table")
    NOTHING_CHANGED = (
        "nothing-changed",
        "review",
        "the content submitted is a version that already exists",
    )
    SIGN_IN_FAILED = ("sign-in-failed", "review", "unknown user or wrong password")
    SIGN_IN_LOCKED = ("sign-in-locked", "review", "too many failed sign-ins; wait and retry")
    BAD_TABLE = ("bad-table", "review", "a rule table document that cannot be a rule table")
    TABLE_RUNS_OUT = (
        "table-runs-out",
        "review",
        "a rule table is known for 30 days or less: letters stop when it runs out",
    )

    # --- template lint -----------------------------------------------------------------------
    MISSING_STATEMENT = (
        "missing-statement",
        "lint",
        "a statement the law requires of this kind of letter is not in it",
    )
    MISSING_DETAIL = (
        "missing-detail",
        "lint",
        "a payment or login detail (due date, KID, account, reference, password, expiry, "
        "total) is not printed",
    )
    FORBIDDEN_CONTENT = (
        "forbidden-content",
        "lint",
        "something a letter must never print (the national id number)",
    )
    LANGUAGES_DIFFER = (
        "languages-differ",
        "lint",
        "the nb and en templates of a kind do not say the same things",
    )

    # --- the worker processes -----------------------------------------------------------
    WORKER_KEEPS_DYING = (
        "worker-keeps-dying",
        "worker",
        "a worker process died again and again right after starting (a configuration, "
        "database or Redis problem): it is not started again and `letters worker` stops",
    )

    # --- storage: the ledger's database and the folders ---------------------------------
    LEDGER_UNAVAILABLE = (
        "ledger-unavailable",
        "storage",
        "the ledger's database cannot be reached now (restarting, the network to it cut): "
        "the workers wait and go on; HTTP answers 503 with Retry-After",
    )
    ARCHIVE_FULL = (
        "archive-full",
        "storage",
        "the archive's disk is full: the letter is not stored (nothing half-written is left) "
        "and its job waits, tried again until there is room",
    )
    PRINT_FOLDER_FULL = (
        "print-folder-full",
        "storage",
        "the print folder's disk is full at a batch close: nothing is published and the "
        "next close writes the batch again",
    )


_BY_VALUE = {str(code): code for code in Code}


def lookup(value: str) -> Code | None:
    """The code whose value is ``value``, if there is one.

    >>> lookup("fee-over-cap"), lookup("no-such-code")
    (<Code.FEE_OVER_CAP: 'fee-over-cap'>, None)
    """
    return _BY_VALUE.get(value)


def catalogue() -> list[Code]:
    """Every code, by family in :data:`FAMILIES` order."""
    order = list(FAMILIES)
    return sorted(Code, key=lambda c: order.index(c.family))


def markdown() -> str:
    """The catalogue as the README lists it: one table per family."""
    parts: list[str] = []
    for family, what in FAMILIES.items():
        parts.append(f"**{family}**: {what}\n")
        parts.append("| code | meaning |\n|---|---|")
        parts.extend(f"| `{code}` | {code.meaning} |" for code in Code if code.family == family)
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"
