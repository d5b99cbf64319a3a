"""Importing history from another survey tool (Delighted's export, or any CSV): ``python -m npsloop.importing``.

Pure parts live here: the mapping file (``mapping``), the readers of the source files (``sources``) and
what each source record becomes in npsloop (``records``). The run itself (batches, checkpoint,
rejects, progress) is ``npsloop.services.importing``; the table writes are
``npsloop.adapters.dynamodb_import``. README "Importing history" has the usage.
"""
