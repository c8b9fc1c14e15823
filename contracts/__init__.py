"""The public contract: marshmallow schemas for every request and response, and the generated OpenAPI document."""
