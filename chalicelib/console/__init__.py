"""The web console: static HTML/JS/CSS shipped in chalicelib/static/console, served by the API."""
