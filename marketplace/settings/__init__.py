"""Settings package: `base` (local default), `test` (pytest) and `production`."""
