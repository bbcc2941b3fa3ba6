"""Interoperability: how ldnkit speaks the standards EHRs and patients' devices use.

Protocol logic only, pure or over the store; the HTTP routes live in the web shell
(`ldnkit.web.routes.fhir`, `ldnkit.web.routes.cds_hooks`, mounted by `ldnkit.web.main`), and
nothing here imports `ldnkit.web`. Modules, one job each (imported on demand: fhir.resources
and reportlab are not loaded by `import ldnkit.interop`):

- `fhir` (package: `common`, `export`, `reading`, `records`, `instruments`, `nof1`): FHIR R4
  Bundles out and back in, and the typed storage interface the FHIR routes use;
- `cds` (package: `parsing`, `services`, `orders`, `patient_view`, `card`): CDS Hooks 2.0 card
  logic, pure; `cds_auth`: verifying the EHR's signed JWTs;
- `documents`, `nof1_documents`: handout, wallet card, compounding prescription as HTML and PDF;
- `ical`: the plan as an iCalendar file.
"""
