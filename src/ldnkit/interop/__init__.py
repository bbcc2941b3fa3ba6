"""Interoperability shells: calendars now; FHIR R4, CDS Hooks and documents later."""
