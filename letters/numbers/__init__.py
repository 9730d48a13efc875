"""Number formats printed on a letter, one module per number (python-stdnum style).

Each module has the same verbs: ``compact``, ``validate``, ``is_valid``, ``format`` and,
where the number has one, ``calc_check_digit``. Bank account, organisation and national
identity numbers come from python-stdnum (``stdnum.no.kontonr``, ``stdnum.no.orgnr``,
``stdnum.no.fodselsnummer``); :mod:`letters.numbers.account` only adds the print format.
:mod:`letters.numbers.inserter_code` is the 16-digit code on every page of a print batch.
"""
