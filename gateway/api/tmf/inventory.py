"""TMF637 Product Inventory: a partner's subscriptions as Products (GET /product, GET /product/{id})."""
