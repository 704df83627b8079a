-- Custom headers an endpoint sends with every attempt. Their values often carry credentials, so
-- the whole set is one sealed envelope (domain::secret_box over the JSON object of names to
-- values, "{endpoint id}/headers" as associated data); null when the endpoint has none.
-- Expand-only: a nullable column, harmless to a release that does not know it.
alter table webhook_endpoints add column headers blob null;
