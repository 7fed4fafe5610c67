"""The order router: ERP entity and fulfillment locations per order, reservations, fulfillment orders."""
