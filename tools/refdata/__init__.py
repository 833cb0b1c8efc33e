"""Reference data: customers, accounts, SSIs, open invoices and recent payments.

``schema`` (pydantic records), ``tables`` (SQLAlchemy ``ref_`` tables), ``store`` (``RefDataStore``
queries and upserts), ``loader`` (validate-then-load, all or nothing).
"""
