"""How each partner is spoken to: one adapter module per flavour, chosen by the partner's configuration."""
