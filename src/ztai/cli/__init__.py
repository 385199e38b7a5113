"""The ``ztai`` command line.

Before anything loads numpy: its BLAS runs on the calling thread unless the operator says
otherwise (``OPENBLAS_NUM_THREADS`` and the like). A server's products are small (a query vector
against the visible chunks) and its cores are busy with requests: a BLAS thread pool per product
fights them (measured: 8 ms instead of 0.2 ms for 20,000 × 128 on 2 busy cores)."""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
