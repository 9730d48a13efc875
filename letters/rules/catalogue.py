"""Every rule a letter is checked against, in words, with its source and its codes: the list
a compliance officer is pointed to (the README's rules section is written from it by
``scripts/readme-codes``, and a test keeps the two in step and checks that every code of
the ``rule`` family is named by a rule here).

The sources are the ones the checks themselves cite (the constants beside each rule), so a
corrected citation changes both the refusal's reason and this list.
"""

from __future__ import annotations

from dataclasses import dataclass

from letters.codes import Code
from letters.rules import plans
from letters.rules.calendar import PASSWORD_VALID_DAYS, PAYMENT_DAYS
from letters.rules.fees import DEADLINE_SOURCE, FAMILY_SOURCE, FEES
from letters.rules.kinds import (
    FEE_NEEDS_DESCRIPTION_SOURCE,
    NOTICE_DEADLINE_SOURCE,
    NOTICE_SOURCE,
)
from letters.rules.objection import OBJECTION_SOURCE


@dataclass(frozen=True)
class Rule:
    topic: str
    says: str
    source: str
    codes: tuple[Code, ...]


RULES: tuple[Rule, ...] = (
    # --- the tables -------------------------------------------------------------------------
    Rule(
        "tables",
        "A letter needs the inkassosats and the late-payment interest rate of its date; past a "
        "table's `known_until` it is refused until compliance approves a new version.",
        "inkassoforskriften § 1-1; forsinkelsesrenteloven § 3",
        (Code.RULE_UNKNOWN,),
    ),
    Rule(
        "tables",
        "A value its table marks unconfirmed is never printed nor used as a ceiling: a letter "
        "that would state it (an interest rate) or be capped by it (interest, a fee) is "
        "refused, naming the table and the day, until compliance confirms it (`letters rules "
        "confirm`, then a reviewer's approval). Proofs may show it.",
        "the agency's rule: a figure of law is relied on only once checked against its source",
        (Code.RULE_UNCONFIRMED,),
    ),
    # --- dates --------------------------------------------------------------------------------
    Rule(
        "dates",
        "A letter is sent on its letter date: not before (the rules were checked for that "
        "day), not after (the debtor would get less time than the letter states).",
        "inkassoloven §§ 9 and 10, tvangsfullbyrdelsesloven § 4-18: the deadline runs from "
        "the day the letter is sent",
        (Code.LETTER_DATE_PAST, Code.LETTER_DATE_FUTURE),
    ),
    Rule(
        "dates",
        f"The payment deadline is the letter date + {PAYMENT_DAYS.value} days at least, moved "
        "to the next business day (weekends, public holidays, 24 and 31 December); a due date "
        "the job gives may be later, never earlier.",
        PAYMENT_DAYS.source,
        (Code.DEADLINE_TOO_SHORT,),
    ),
    Rule(
        "dates",
        f"The login password printed on a letter works for {PASSWORD_VALID_DAYS} days after "
        "the letter date, until 23:59:59 Oslo time.",
        "the agency's terms (debtor pages: the password lasts 21 days)",
        (),
    ),
    # --- claims -------------------------------------------------------------------------------
    Rule(
        "claims",
        "Every claim is overdue on the letter date, and appears once in a letter.",
        "inkassoloven §§ 9 and 10 (collection of a claim due and unpaid)",
        (Code.CLAIM_NOT_OVERDUE, Code.DUPLICATE_INVOICE),
    ),
    Rule(
        "claims",
        "A payment request and an enforcement notice say what each claim concerns.",
        "inkassoloven § 10 second ledd (b)",
        (Code.DESCRIPTION_REQUIRED,),
    ),
    Rule(
        "claims",
        "Any letter that charges a reminder or notice fee says what the claim concerns.",
        FEE_NEEDS_DESCRIPTION_SOURCE,
        (Code.DESCRIPTION_REQUIRED,),
    ),
    Rule(
        "interest",
        "Interest runs from the due date at the earliest and no later than the letter date, "
        "and is not more than the late-payment rate of each half year allows.",
        "forsinkelsesrenteloven §§ 2 and 3",
        (Code.INTEREST_START, Code.INTEREST_OVER_CAP),
    ),
    Rule(
        "notice",
        "A payment request names the collection notice it follows (sent on, deadline); that "
        "notice gave at least 14 days, and its deadline has run out on the letter date.",
        f"{NOTICE_SOURCE}; {NOTICE_DEADLINE_SOURCE}",
        (Code.NOTICE_REQUIRED, Code.NOTICE_DEADLINE_NOT_PASSED, Code.DEADLINE_TOO_SHORT),
    ),
    Rule(
        "interest",
        "A payment request and an enforcement notice state the late-payment rate with the day "
        "interest runs from, and each rate with its period when the interest ran through more "
        "than one half year.",
        "inkassoloven § 10 second ledd (d)",
        (Code.RULE_UNKNOWN, Code.RULE_UNCONFIRMED),
    ),
    Rule(
        "objection",
        "An enforcement notice says whether the debtor objected; with an objection not yet "
        "answered it is refused; the objection and the answer are dated, the answer after the "
        "objection, both no later than the letter date.",
        OBJECTION_SOURCE,
        (
            Code.OBJECTION_REQUIRED,
            Code.OBJECTION_OPEN,
            Code.ANSWER_BEFORE_OBJECTION,
            Code.OBJECTION_AFTER_LETTER,
        ),
    ),
    # --- payment plans ------------------------------------------------------------------------
    Rule(
        "plan",
        "A payment-plan letter carries its plan, and only it does: agreed no later than the "
        "letter date.",
        "the agency's published terms for payment plans (debtor pages)",
        (Code.PLAN_REQUIRED, Code.PLAN_AGREED_AFTER_LETTER),
    ),
    Rule(
        "plan",
        f"At most {plans.MAX_INSTALMENTS} instalments.",
        plans.MAX_INSTALMENTS_SOURCE,
        (Code.PLAN_TOO_MANY_INSTALMENTS,),
    ),
    Rule(
        "plan",
        f"The first instalment is due at most {plans.FIRST_DUE_DAYS} days after the agreement, "
        "none before the letter date, and the due dates increase.",
        plans.FIRST_DUE_SOURCE,
        (
            Code.PLAN_FIRST_DUE_TOO_LATE,
            Code.PLAN_DUE_BEFORE_LETTER,
            Code.PLAN_DATES_NOT_INCREASING,
        ),
    ),
    Rule(
        "plan",
        "The instalments add up exactly to the letter's total.",
        plans.SUM_SOURCE,
        (Code.PLAN_SUM_MISMATCH,),
    ),
    Rule(
        "plan",
        "Every due date is a business day; an agreed date is never moved.",
        plans.BUSINESS_DAY_SOURCE,
        (Code.PLAN_DUE_NOT_BUSINESS_DAY,),
    ),
    Rule(
        "plan",
        "The letter says that a missed instalment lets collection go on (costs, a possible "
        "payment remark) and that the whole debt may be paid at any time.",
        f"{plans.CONSEQUENCE_SOURCE}; {plans.PAY_ALL_SOURCE}",
        (Code.MISSING_STATEMENT,),
    ),
    # --- fees ---------------------------------------------------------------------------------
    *(
        Rule(
            "fees",
            f"`{rule.code}`: charged by "
            + (", ".join(f"`{k}`" for k in rule.charged_by) or "no letter this engine sends")
            + f"; at most {rule.max_per_claim} per claim"
            + (
                f", {rule.days_after_due} days after the due date at the earliest"
                if rule.days_after_due
                else ""
            )
            + "; capped on the day it is charged.",
            rule.source,
            (Code.FEE_NOT_FOR_KIND, Code.FEE_OVER_CAP, Code.FEE_TOO_MANY)
            + ((Code.FEE_TOO_EARLY,) if rule.days_after_due else ()),
        )
        for rule in FEES.values()
    ),
    Rule(
        "fees",
        "A fee code the rules know, charged no later than the letter date.",
        "inkassoforskriften chapters 1 and 2 (the fees a debtor may be charged)",
        (Code.FEE_UNKNOWN, Code.FEE_AFTER_LETTER),
    ),
    Rule(
        "fees",
        "Reminder and notice fees count together: 14 days between any two of them.",
        FAMILY_SOURCE,
        (Code.FEES_TOO_CLOSE,),
    ),
    Rule(
        "fees",
        "A new fee only on a day after the deadline of the letter that charged the fee before "
        "it (its date + 14 days, moved to a business day).",
        DEADLINE_SOURCE,
        (Code.FEE_BEFORE_DEADLINE,),
    ),
    Rule(
        "fees",
        "One payment request per claim carries a fee: the creditor's own or the agency's "
        "collection fee, not both.",
        "inkassoforskriften § 1-3",
        (Code.FEE_TWICE_FOR_PAYMENT_REQUEST,),
    ),
    # --- delivery -----------------------------------------------------------------------------
    Rule(
        "delivery",
        "A letter goes by the job's channels in order (default Digipost, e-mail, print), each "
        "allowed for its kind; Digipost and e-mail only with the debtor's consent and an "
        "identity or address for it; print is the last resort.",
        "inkassoloven § 3 a (electronic delivery with the debtor's consent); letters/routing.py",
        (
            Code.ROUTE_NOT_FOR_KIND,
            Code.ROUTE_NO_CONSENT,
            Code.ROUTE_NO_ADDRESS,
            Code.ROUTE_NOT_CONFIGURED,
            Code.ROUTE_NO_CHANNEL,
        ),
    ),
    Rule(
        "delivery",
        "A debtor abroad is given the IBAN and BIC of the very account the letter prints "
        "(settings `sender.accounts_abroad`, checked with python-stdnum at start-up), and the "
        "return address names the country; an account without them is refused at intake.",
        "the agency's rule: a debtor must be able to pay what the letter asks",
        (Code.NO_IBAN_FOR_ACCOUNT,),
    ),
    Rule(
        "delivery",
        "Whatever the contract accepts prints in the envelope window at 10 pt, broken at "
        "spaces, after '-' or '/', or inside a word too wide for it; a name or address that "
        "still does not fit is refused at intake.",
        "Posten's addressing rules as the domain notes give them (one type size, the window "
        "holds the address only)",
        (Code.NAME_DOES_NOT_FIT, Code.ADDRESS_DOES_NOT_FIT),
    ),
    Rule(
        "delivery",
        "Every other printed word (the creditor's name, invoice numbers, descriptions, fee "
        "labels) fits its narrowest place on the page, measured with the letter font; a wider "
        "one is refused at intake, so nothing accepted fails the print check later.",
        "the agency's rule: whatever the contract accepts, the letter can print",
        (Code.WORD_TOO_WIDE,),
    ),
    Rule(
        "privacy",
        "A national identity number identifies the recipient for Digipost only; it is never "
        "printed (the template lint refuses a template that prints one).",
        "personopplysningsloven and GDPR art. 5 (1) (c): data minimisation",
        (Code.FORBIDDEN_CONTENT,),
    ),
    Rule(
        "privacy",
        "Nothing visible outside the letter (window, envelope, e-mail subject) shows that it "
        "is about debt: the window holds the address only.",
        "inkassoloven § 8 (good collection practice)",
        (Code.WINDOW_NOT_ADDRESS_ONLY,),
    ),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """The rules as the README lists them: one table, in the order above."""
    lines = ["| Topic | Rule | Source | Codes |", "|---|---|---|---|"]
    for rule in RULES:
        codes = ", ".join(f"`{c}`" for c in rule.codes) or "–"
        lines.append(f"| {rule.topic} | {_cell(rule.says)} | {_cell(rule.source)} | {codes} |")
    return "\n".join(lines) + "\n"
