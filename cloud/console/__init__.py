"""The web console under /console: server-rendered pages on the same domain functions as the REST API."""
