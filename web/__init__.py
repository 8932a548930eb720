"""What the JSON API and the HTML pages share: request dependencies and request-time reads."""
