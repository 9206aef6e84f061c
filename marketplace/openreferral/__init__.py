"""The open service directory in the Open Referral UK standard (HSDS 3.0, UK profile): the catalogue
published read-only at `/openreferral/`, and the import of another directory's services.

It lives in `marketplace/` because it publishes the catalogue together with the client ratings,
which only this app knows about; providers' own rows (and their stored ORUK ids) stay in
`providers/`, written only through its services (docs/open-data.md).

- `mapping`: Cairn objects → ORUK bodies (pure functions, no queries).
- `directory`: the reads behind each endpoint, with constant query counts.
- `views`, `urls`: the public endpoints (no key, CORS open, the profile's page envelope).
- `importer`: reading and applying a directory's `/services/{id}` bodies.
"""
