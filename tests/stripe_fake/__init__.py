"""A stateful fake of the Stripe API endpoints Cairn calls, driven by the real `stripe` client.

`server.StripeFake` is the server and its control object; `fixtures` holds the pytest fixtures
(`stripe_fake`, `stripe_fake_server`, `stripe_fast_retries`).
"""
