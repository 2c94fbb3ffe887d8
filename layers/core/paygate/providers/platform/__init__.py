"""The ecommpay platform (Gate API, Payment Page, callbacks), which ecommpay and Monetix both
run under their own hosts, project ids and secrets: one client, two configured providers."""
