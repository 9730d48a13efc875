"""The letter pipeline: intake → render → deliver, as Dramatiq actors over Redis (or an
in-memory broker for the in-process ``letters run``), with the ledger as source of truth.

Broker messages carry only job ids: no names, addresses, amounts or passwords.
"""
