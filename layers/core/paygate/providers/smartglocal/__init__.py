"""Smart Glocal (Vietnam e-wallets): RSA signing, session API client, wire models, webhooks."""
