"""Paypro Vietnam (VietQR payins): signing, HTTP client, wire models, notify webhook."""
