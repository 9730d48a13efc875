"""Delivery channels (Digipost, e-mail, print batch) behind one interface.

Not built yet: the channels issue adds them. Letters rendered today are previews only.
"""
