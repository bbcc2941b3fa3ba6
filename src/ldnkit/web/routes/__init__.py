"""One module per resource; each exposes `api` (JSON, in the OpenAPI schema) and `pages`."""
