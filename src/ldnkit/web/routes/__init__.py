"""One module per resource; each exposes `api` (JSON, in the OpenAPI schema) and `pages`.

The standards-facing routers are built by functions instead, and mounted by `ldnkit.web.main`:
`fhir.router()` (FHIR REST), `cds_hooks.mounted()` (CDS Hooks under `/api`) and
`documents.plan_documents()`.
"""
