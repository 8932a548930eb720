"""Request and response models of the API, apart from the routes that use them."""
