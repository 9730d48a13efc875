"""One lock for PDFium in this process.

PDFium is not thread-safe (pypdfium2 says so: calls from several threads at once may
crash the process), and this process uses it from several threads: the workers' print
check, the review page's proofs and diffs served from FastAPI's thread pool. Every use holds
:data:`PDFIUM`, so two requests on the review page can no longer take the server down.
"""

from __future__ import annotations

import threading

PDFIUM = threading.RLock()
