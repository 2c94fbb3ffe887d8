"""Provider adapters: the only code that speaks provider wire formats."""
