"""Interoperability: how ldnkit speaks the standards EHRs and patients' devices use.

Modules, one job each (imported on demand: fhir.resources and reportlab are not loaded by
`import ldnkit.interop`):

- `fhir` (`fhir_export`, `fhir_import`, `fhir_common`): FHIR R4 Bundles out and back in;
- `cds`: CDS Hooks 2.0 card logic, pure; `cds_routes`: its HTTP router;
- `fhir_routes`, `fhir_records`: FHIR REST router over a typed storage interface;
- `documents`: handout, wallet card, compounding prescription as HTML and PDF;
- `ical`: the plan as an iCalendar file;
- `web_mount`: all routers wired to the web app's access rules (`interop_routers()`).
"""
