"""TMF630 hubs on both TMF APIs: a partner registers a callback (and a query of event types) for TMF events."""
