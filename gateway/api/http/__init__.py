"""The API's plumbing, shared by every audience: who calls (auth), their request budgets (rate_limits), where a
view's unit of work comes from (uow, idempotent), If-Match and ETags (etags), cursors and pages (pagination), and
the OpenAPI document (openapi, webhooks_doc, docs).

What every request of the app goes through, the console's included (body guards, storable text, problem+json),
sits a layer lower in gateway.http.
"""
