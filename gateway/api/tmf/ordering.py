"""TMF622 Product Ordering: orders whose items drive the subscription lifecycle commands."""
